/**
 * manifest.json: what a bundle holds, and the checks that make a manifest read from disk or the network (untrusted
 * JSON) safe to use. `parseManifest` returns a fresh, fully validated object (never the parsed JSON itself): every
 * field has its type, every number its range, every string and list a cap, the model config its resolved form, and
 * the config must describe the tensors the manifest lists (a hand-edited `latent` fails here, naming the tensor and
 * both shapes, not later inside ONNX Runtime).
 *
 * @example
 * const manifest = parseManifest(text, 'runs/mnist/manifest.json'); // throws BundleError naming the file and field
 */

import { BundleError } from '../errors.js';
import {
  type ConditionalConfig,
  type HierarchicalConfig,
  type Likelihood,
  type RelaxationConfig,
  resolveConfig,
  type StructuredConfig,
  type VaeConfig,
} from '../models/config.js';
import { type GraphSignature, optimizerStateSpecs, parameterSpecs, type TensorInfo } from '../models/graphs.js';
import type { OptimizerConfig } from '../optim/optimizer.js';
import { Prng, type PrngState } from '../random/prng.js';
import { parseUntrustedJson } from './json.js';

export const BUNDLE_FORMAT = 'onnxvae-bundle';
export const BUNDLE_FORMAT_VERSION = 1;
export const BUNDLE_FILES = ['train_step.onnx', 'eval.onnx', 'encoder.onnx', 'decoder.onnx', 'checkpoint.safetensors'] as const;
export type BundleFile = (typeof BUNDLE_FILES)[number];
export const BUNDLE_GRAPHS = ['train_step', 'eval', 'encoder', 'decoder'] as const;

export interface TrainingState {
  /** Optimizer steps taken so far. */
  step: number;
  /** Epochs completed. */
  epoch: number;
  seed: number;
  /** State of the PRNG that draws eps (and shuffles), so a resumed run continues the same stream. */
  prngState: PrngState;
  batchSize?: number;
  lr?: number;
  /** The data the run trained on, so a resume on other data is refused and `eval` scores data prepared alike. */
  data?: TrainingData;
}

/**
 * How pixels became the data a model saw: a fresh Bernoulli draw of each pixel every epoch ('dynamic'), a fixed
 * threshold at 0.5 ('threshold'), or the values as they are ('none'). Manifests before it wrote true / false, read
 * as 'threshold' / 'none'.
 */
export type Binarization = 'dynamic' | 'threshold' | 'none';
export const BINARIZATIONS: readonly Binarization[] = ['dynamic', 'threshold', 'none'];

export interface TrainingData {
  source: string;
  testSource?: string;
  limit?: number;
  binarize: Binarization;
  examples: number;
  /** One example's shape as loaded ([28, 28]; [3, 32, 32] for colour images), before a model flattens it. */
  shape?: number[];
}

export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
}

export interface Manifest {
  format: typeof BUNDLE_FORMAT;
  formatVersion: number;
  createdBy: string;
  opset: number;
  config: VaeConfig;
  params: TensorEntry[];
  optimizerState: (TensorEntry & { param: string })[];
  files: Record<string, { sha256: string; bytes: number }>;
  graphs: Record<(typeof BUNDLE_GRAPHS)[number], GraphSignature & { file: string }>;
  /** Optimizer steps per train_step run (ONNX Loop); 1 = a plain step. */
  fusedSteps: number;
  /** Sample count the eval graph takes (a name when it is free). */
  evalSamples: number | string;
  training: TrainingState;
  /** One object per epoch (or evaluation) so far. */
  metrics: Record<string, number>[];
  /** Present when the deployable graphs were rewritten for size (`onnxvae export --fp16`). */
  deploy?: DeployInfo;
}

/**
 * How decoder.onnx and encoder.onnx were rewritten for deployment. The checkpoint, train_step.onnx and eval.onnx keep
 * the config's dtype, so training, fine-tuning and evaluation are unchanged.
 */
export interface DeployInfo {
  /** The graphs store every weight as float16 and Cast it to the config's dtype; inputs and outputs are unchanged. */
  weights: 'float16';
  /** What the export measured: decoded pixel means against the full-precision decoder, on `samples` prior draws. */
  pixelError?: { samples: number; max: number; mean: number };
  /** decoder.onnx's size at full precision, for comparison with files['decoder.onnx'].bytes. */
  fullPrecisionBytes?: { decoder: number; encoder: number };
}

// BundleError (errors.ts): a bundle that cannot be used as it is; the message names the file and the field or tensor.
export { BundleError };

// Caps on what a manifest may hold. Each is far above anything createBundle writes and far below what would cost
// real memory or time to check, so a hostile manifest is refused before it is used.
/** Characters in the whole manifest: the reference model's is 20 kB, plus ~250 bytes per epoch of metrics. */
export const MAX_MANIFEST_CHARS = 64 * 1024 * 1024;
/** Characters in a tensor, value or metric name: the builder's longest name is under 64. */
const MAX_NAME = 256;
/** Characters in a path (training.data): Linux's PATH_MAX. */
const MAX_PATH = 4096;
/** Entries in a tensor list (params, optimizer state, a graph's inputs): the reference model has 10 params. */
const MAX_TENSORS = 10_000;
/** Dimensions of a tensor or an input shape: the models here use at most 4 (conv weights; fused eps). */
const MAX_RANK = 8;
/** A dimension or layer width: no typed array holds more elements than 2³¹ − 1. */
const MAX_DIM = 2 ** 31 - 1;
/** Layers in hidden / convChannels: the models here have 1 to 3. */
const MAX_LAYERS = 64;
/** Entries in metrics (one per epoch). */
const MAX_METRICS = 100_000;
/** Fields in one metrics entry: training writes 7. */
const MAX_METRIC_FIELDS = 64;
/** Steps fused into one train_step run (an ONNX Loop over K batches). */
const MAX_FUSED = 65_536;

type Bad = (field: string, why: string) => never;

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
/** A value quoted in a message, cut short (a hostile value can be megabytes). */
const brief = (v: unknown): string => {
  const t = JSON.stringify(v) ?? String(v);
  return t.length > 80 ? `${t.slice(0, 80)}…` : t;
};

function asObject(v: unknown, field: string, bad: Bad): Record<string, unknown> {
  if (kind(v) !== 'object') bad(field, `must be a JSON object, got ${kind(v)}`);
  return v as Record<string, unknown>;
}

/** Refuses fields other than `known` (a misspelt or foreign field would be silently ignored otherwise). */
function onlyKnown(o: Record<string, unknown>, known: readonly string[], field: string, bad: Bad): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k))
      bad(field ? `${field}.${brief(k).slice(1, -1)}` : brief(k).slice(1, -1), `is not a known field (known: ${known.join(', ')})`);
  }
}

function str(v: unknown, field: string, bad: Bad, max = MAX_NAME): string {
  if (typeof v !== 'string') bad(field, `must be a string, got ${brief(v)}`);
  if ((v as string).length > max) bad(field, `is ${(v as string).length} characters long, more than the ${max} allowed`);
  return v as string;
}

function int(v: unknown, field: string, bad: Bad, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    bad(field, `must be an integer in [${min}, ${max}], got ${brief(v)}`);
  }
  return v as number;
}

function finite(v: unknown, field: string, bad: Bad): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(field, `must be a finite number, got ${brief(v)}`);
  return v as number;
}

/** training.data.binarize: one of BINARIZATIONS; an older manifest's true / false is 'threshold' / 'none'. */
function binarization(v: unknown, field: string, bad: Bad): Binarization {
  if (v === true) return 'threshold';
  if (v === false) return 'none';
  if (!BINARIZATIONS.includes(v as Binarization))
    bad(field, `must be ${BINARIZATIONS.map((b) => `"${b}"`).join(', ')} (or true / false), got ${brief(v)}`);
  return v as Binarization;
}

function list(v: unknown, field: string, bad: Bad, max: number, min = 0): unknown[] {
  if (!Array.isArray(v)) bad(field, `must be a list, got ${kind(v)}`);
  const a = v as unknown[];
  if (a.length < min || a.length > max) bad(field, `must have ${min} to ${max} entries, got ${a.length}`);
  return a;
}

const ints = (v: unknown, field: string, bad: Bad, maxLen: number, minLen: number, min: number): number[] =>
  list(v, field, bad, maxLen, minLen).map((d, i) => int(d, `${field}[${i}]`, bad, min, MAX_DIM));

/** Optional fields of one object: copies those present, in the object's own order (JSON.stringify compares configs). */
function fields<T extends object>(
  o: Record<string, unknown>,
  checks: { readonly [K in keyof T]-?: (v: unknown, field: string) => T[K] },
  field: string,
  bad: Bad,
  required: readonly (keyof T & string)[],
): T {
  onlyKnown(o, Object.keys(checks), field, bad);
  for (const k of required) if (!Object.hasOwn(o, k)) bad(field ? `${field}.${k}` : k, 'is missing');
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) {
    const check = checks[k as keyof T] as (v: unknown, field: string) => unknown;
    out[k] = check(o[k], field ? `${field}.${k}` : k);
  }
  return out as T;
}

const DTYPES = ['float32', 'float64', 'float16', 'int64', 'int32', 'int8', 'uint8', 'bool', 'string'];

function likelihood(v: unknown, field: string, bad: Bad): Likelihood {
  type AnyLikelihood = { type: string; variance: string; sigma: number };
  return fields<AnyLikelihood>(
    asObject(v, field, bad),
    { type: (x, f) => str(x, f, bad), variance: (x, f) => str(x, f, bad), sigma: (x, f) => finite(x, f, bad) },
    field,
    bad,
    ['type'],
  ) as unknown as Likelihood;
}

function optimizer(v: unknown, field: string, bad: Bad): OptimizerConfig {
  const num = (x: unknown, f: string) => finite(x, f, bad);
  // Typed by OptimizerConfig: a new optimizer field fails to compile until it is checked here.
  const checks: { readonly [K in keyof OptimizerConfig]-?: (x: unknown, f: string) => OptimizerConfig[K] } = {
    type: (x, f) => str(x, f, bad) as OptimizerConfig['type'],
    beta1: num,
    beta2: num,
    eps: num,
    weightDecay: num,
    momentum: num,
    clipNorm: num,
  };
  return fields<OptimizerConfig>(asObject(v, field, bad), checks, field, bad, ['type']);
}

/** Types and caps of every config field; value ranges are resolveConfig's. */
function modelConfig(v: unknown, bad: Bad): VaeConfig {
  const s = (x: unknown, f: string) => str(x, f, bad);
  const positive = (x: unknown, f: string) => int(x, f, bad, 1, MAX_DIM);
  // Typed by VaeConfig: a new config field fails to compile until it is checked here.
  const checks: { readonly [K in keyof VaeConfig]-?: (x: unknown, f: string) => VaeConfig[K] } = {
    arch: (x, f) => s(x, f) as VaeConfig['arch'],
    inputShape: (x, f) => ints(x, f, bad, MAX_RANK, 1, 1),
    hidden: (x, f) => ints(x, f, bad, MAX_LAYERS, 0, 1),
    latent: positive,
    activation: (x, f) => s(x, f) as VaeConfig['activation'],
    convChannels: (x, f) => ints(x, f, bad, MAX_LAYERS, 0, 1),
    likelihood: (x, f) => likelihood(x, f, bad),
    objective: (x, f) => s(x, f) as VaeConfig['objective'],
    samples: positive,
    freeBits: (x, f) => finite(x, f, bad),
    conditional: (x, f) =>
      fields<ConditionalConfig>(
        asObject(x, f, bad),
        { classes: (y, g) => int(y, g, bad, 0, MAX_DIM), prior: (y, g) => s(y, g) as ConditionalConfig['prior'] },
        f,
        bad,
        ['classes'],
      ),
    hierarchical: (x, f) =>
      fields<HierarchicalConfig>(asObject(x, f, bad), { latent: positive, hidden: (y, g) => ints(y, g, bad, MAX_LAYERS, 0, 1) }, f, bad, [
        'latent',
      ]),
    structured: (x, f) =>
      fields<StructuredConfig>(
        asObject(x, f, bad),
        {
          observed: (y, g) => s(y, g) as StructuredConfig['observed'],
          model: (y, g) => s(y, g) as StructuredConfig['model'],
          alpha: (y, g) => finite(y, g, bad),
        },
        f,
        bad,
        ['observed'],
      ),
    latentType: (x, f) => s(x, f) as VaeConfig['latentType'],
    categories: (x, f) => int(x, f, bad, 0, MAX_DIM),
    relaxation: (x, f) =>
      fields<RelaxationConfig>(asObject(x, f, bad), { temperature: (y, g) => finite(y, g, bad) }, f, bad, ['temperature']),
    estimator: (x, f) => s(x, f) as VaeConfig['estimator'],
    baseline: (x, f) => s(x, f) as VaeConfig['baseline'],
    baselineDecay: (x, f) => finite(x, f, bad),
    inference: (x, f) => s(x, f) as VaeConfig['inference'],
    examples: positive,
    refineSteps: positive,
    refineLr: (x, f) => finite(x, f, bad),
    optimizer: (x, f) => optimizer(x, f, bad),
    dtype: (x, f) => {
      // resolveConfig leaves dtype to the graph builder; a manifest's must be one the graphs are built in.
      if (x !== 'float32' && x !== 'float64') bad(f, `must be "float32" or "float64", got ${brief(x)}`);
      return x as VaeConfig['dtype'];
    },
  };
  const required = ['arch', 'inputShape', 'hidden', 'latent', 'activation', 'convChannels', 'likelihood', 'objective', 'samples'] as const;
  const raw = fields<VaeConfig>(asObject(v, 'config', bad), checks, 'config', bad, [...required, 'freeBits', 'optimizer', 'dtype']);
  try {
    return resolveConfig(raw);
  } catch (e) {
    return bad('config', (e as Error).message.replace(/^model config: /, ''));
  }
}

function tensorEntry(v: unknown, field: string, bad: Bad): TensorEntry {
  return fields<TensorEntry>(
    asObject(v, field, bad),
    {
      name: (x, f) => str(x, f, bad),
      dtype: (x, f) => {
        if (!DTYPES.includes(x as string)) bad(f, `must be one of ${DTYPES.join(', ')}, got ${brief(x)}`);
        return x as string;
      },
      shape: (x, f) => ints(x, f, bad, MAX_RANK, 0, 0),
    },
    field,
    bad,
    ['name', 'dtype', 'shape'],
  );
}

function signatureEntry(v: unknown, field: string, bad: Bad): TensorInfo {
  return fields<TensorInfo>(
    asObject(v, field, bad),
    {
      name: (x, f) => str(x, f, bad),
      dtype: (x, f) => {
        if (!DTYPES.includes(x as string)) bad(f, `must be one of ${DTYPES.join(', ')}, got ${brief(x)}`);
        return x as string;
      },
      shape: (x, f) =>
        list(x, f, bad, MAX_RANK).map((d, i) =>
          typeof d === 'string' ? str(d, `${f}[${i}]`, bad) : int(d, `${f}[${i}]`, bad, 0, MAX_DIM),
        ),
    },
    field,
    bad,
    ['name', 'dtype', 'shape'],
  );
}

function deployInfo(v: unknown, field: string, bad: Bad): DeployInfo {
  const bytes = (x: unknown, f: string) => int(x, f, bad, 0, MAX_DIM);
  const error = (x: unknown, f: string) => {
    const e = finite(x, f, bad);
    if (e < 0) bad(f, `must be ≥ 0, got ${e}`);
    return e;
  };
  return fields<DeployInfo>(
    asObject(v, field, bad),
    {
      weights: (x, f) => {
        if (x !== 'float16') bad(f, `must be "float16", got ${brief(x)}`);
        return 'float16';
      },
      pixelError: (x, f) =>
        fields<NonNullable<DeployInfo['pixelError']>>(
          asObject(x, f, bad),
          { samples: (y, g) => int(y, g, bad, 1, MAX_DIM), max: error, mean: error },
          f,
          bad,
          ['samples', 'max', 'mean'],
        ),
      fullPrecisionBytes: (x, f) =>
        fields<NonNullable<DeployInfo['fullPrecisionBytes']>>(asObject(x, f, bad), { decoder: bytes, encoder: bytes }, f, bad, [
          'decoder',
          'encoder',
        ]),
    },
    field,
    bad,
    ['weights'],
  );
}

function graphs(v: unknown, bad: Bad): Manifest['graphs'] {
  const o = asObject(v, 'graphs', bad);
  onlyKnown(o, BUNDLE_GRAPHS, 'graphs', bad);
  const out = {} as Manifest['graphs'];
  for (const g of BUNDLE_GRAPHS) {
    const field = `graphs.${g}`;
    if (!Object.hasOwn(o, g)) bad(field, 'is missing');
    type Sig = GraphSignature & { file: string };
    const sig = fields<Sig>(
      asObject(o[g], field, bad),
      {
        // A graph's file is always its own bundle file: never a path the reader would follow elsewhere.
        file: (x, f) => {
          if (x !== `${g}.onnx`) bad(f, `must be "${g}.onnx", got ${brief(x)}`);
          return x as string;
        },
        inputs: (x, f) => list(x, f, bad, MAX_TENSORS).map((e, i) => signatureEntry(e, `${f}[${i}]`, bad)),
        outputs: (x, f) => list(x, f, bad, MAX_TENSORS).map((e, i) => signatureEntry(e, `${f}[${i}]`, bad)),
      },
      field,
      bad,
      ['file', 'inputs', 'outputs'],
    );
    out[g] = sig;
  }
  return out;
}

function files(v: unknown, bad: Bad): Manifest['files'] {
  const o = asObject(v, 'files', bad);
  onlyKnown(o, BUNDLE_FILES, 'files', bad);
  const out: Manifest['files'] = {};
  for (const f of BUNDLE_FILES) {
    const field = `files['${f}']`;
    if (!Object.hasOwn(o, f)) bad(field, 'is missing');
    out[f] = fields<{ sha256: string; bytes: number }>(
      asObject(o[f], field, bad),
      {
        sha256: (x, g) => {
          if (typeof x !== 'string' || !/^[0-9a-f]{64}$/.test(x)) bad(g, `must be 64 lowercase hex digits, got ${brief(x)}`);
          return x as string;
        },
        bytes: (x, g) => int(x, g, bad, 0, Number.MAX_SAFE_INTEGER),
      },
      field,
      bad,
      ['sha256', 'bytes'],
    );
  }
  return out;
}

function training(v: unknown, bad: Bad): TrainingState {
  type Data = NonNullable<TrainingState['data']>;
  // Typed by TrainingState: a new field fails to compile until it is checked here.
  const checks: { readonly [K in keyof TrainingState]-?: (x: unknown, f: string) => TrainingState[K] } = {
    step: (x, f) => int(x, f, bad, 0, Number.MAX_SAFE_INTEGER),
    epoch: (x, f) => int(x, f, bad, 0, Number.MAX_SAFE_INTEGER),
    seed: (x, f) => int(x, f, bad, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER), // Prng takes any safe integer
    prngState: (x, f) => {
      try {
        return Prng.fromState(x as PrngState).state();
      } catch (e) {
        return bad(f, (e as Error).message);
      }
    },
    batchSize: (x, f) => int(x, f, bad, 1, MAX_DIM),
    lr: (x, f) => {
      if (!(finite(x, f, bad) > 0)) bad(f, `must be > 0, got ${brief(x)}`);
      return x as number;
    },
    data: (x, f) =>
      fields<Data>(
        asObject(x, f, bad),
        {
          source: (y, g) => str(y, g, bad, MAX_PATH),
          testSource: (y, g) => str(y, g, bad, MAX_PATH),
          limit: (y, g) => int(y, g, bad, 0, Number.MAX_SAFE_INTEGER),
          binarize: (y, g) => binarization(y, g, bad),
          examples: (y, g) => int(y, g, bad, 0, Number.MAX_SAFE_INTEGER),
          shape: (y, g) => ints(y, g, bad, MAX_RANK, 1, 1),
        },
        f,
        bad,
        ['source', 'binarize', 'examples'],
      ),
  };
  return fields<TrainingState>(asObject(v, 'training', bad), checks, 'training', bad, ['step', 'epoch', 'seed', 'prngState']);
}

function metrics(v: unknown, bad: Bad): Record<string, number>[] {
  return list(v, 'metrics', bad, MAX_METRICS).map((m, i) => {
    const field = `metrics[${i}]`;
    const o = asObject(m, field, bad);
    const keys = Object.keys(o);
    if (keys.length > MAX_METRIC_FIELDS) bad(field, `has ${keys.length} fields, more than the ${MAX_METRIC_FIELDS} allowed`);
    const out: Record<string, number> = {};
    for (const k of keys) {
      const f = `${field}.${brief(k).slice(1, -1)}`;
      if (k.length > MAX_NAME) bad(f, `is a field name of ${k.length} characters, more than the ${MAX_NAME} allowed`);
      if (k === '__proto__') bad(f, 'is not a metric name');
      // JSON has no NaN: a diverged value was written as null.
      const x = o[k];
      if (x !== null && typeof x !== 'number') bad(f, `must be a number, got ${brief(x)}`);
      out[k] = x as number;
    }
    return out;
  });
}

/** The tensors the config implies must be the ones the manifest lists, in order, with the same shapes and dtype. */
function checkTensorsFitConfig(m: Pick<Manifest, 'config' | 'params' | 'optimizerState'>, bad: Bad): void {
  const cfg = m.config;
  let specs: ReturnType<typeof parameterSpecs>;
  let state: ReturnType<typeof optimizerStateSpecs>;
  try {
    specs = parameterSpecs(cfg);
    state = optimizerStateSpecs(cfg, specs);
  } catch (e) {
    bad('config', `describes no model this version can build (${(e as Error).message})`);
  }
  const sh = (s: readonly number[]) => `[${s.join(', ')}]`;
  const compare = (what: 'params' | 'optimizerState', want: { name: string; shape: number[]; param?: string }[], got: TensorEntry[]) => {
    for (let i = 0; i < Math.max(want.length, got.length); i++) {
      const w = want[i];
      const g = got[i] as (TensorEntry & { param?: string }) | undefined;
      const at = `${what}[${i}]`;
      if (!g) bad(at, `is missing: the config needs tensor '${w.name}' ${sh(w.shape)}`);
      if (!w) bad(at, `tensor '${g?.name}' is not one the config's model has (it has ${want.length} ${what} tensors)`);
      if (w.name !== g.name) bad(at, `is tensor '${g.name}', the config's model has '${w.name}' here`);
      if (sh(w.shape) !== sh(g.shape)) {
        bad(at, `tensor '${g.name}' is ${sh(g.shape)} in the manifest, but the config (${describe(cfg)}) needs ${sh(w.shape)}`);
      }
      if (g.dtype !== cfg.dtype) bad(at, `tensor '${g.name}' is ${g.dtype}, the config's dtype is ${cfg.dtype}`);
      if (w.param !== undefined && g.param !== w.param) bad(at, `tensor '${g.name}' belongs to '${g.param}', expected '${w.param}'`);
    }
  };
  compare('params', specs, m.params);
  compare('optimizerState', state, m.optimizerState);
}

/** The config's sizes, for messages about shapes. */
function describe(cfg: VaeConfig): string {
  return `inputShape [${cfg.inputShape.join(', ')}], hidden [${cfg.hidden.join(', ')}], latent ${cfg.latent}`;
}

/** Checks a manifest read from disk or the network (untrusted JSON) and returns a validated copy, typed. */
export function parseManifest(text: string, source = 'manifest.json'): Manifest {
  const fail = (why: string): never => {
    throw new BundleError(`${source}: ${why}`);
  };
  const bad: Bad = (field, why) => fail(`${field} ${why}`);
  if (text.length > MAX_MANIFEST_CHARS) fail(`is ${text.length} characters, more than the ${MAX_MANIFEST_CHARS} a manifest may have`);
  const o = asObject(parseUntrustedJson(text, fail), 'the manifest', bad);
  if (o.format !== BUNDLE_FORMAT) fail(`format is ${brief(o.format)}, expected "${BUNDLE_FORMAT}"`);
  if (o.formatVersion !== BUNDLE_FORMAT_VERSION) {
    fail(`format version ${brief(o.formatVersion)} is not supported (this reader knows version ${BUNDLE_FORMAT_VERSION})`);
  }
  const entries = (v: unknown, field: string) => list(v, field, bad, MAX_TENSORS).map((e, i) => tensorEntry(e, `${field}[${i}]`, bad));
  const checks: { readonly [K in keyof Manifest]-?: (x: unknown, f: string) => Manifest[K] } = {
    format: () => BUNDLE_FORMAT,
    formatVersion: () => BUNDLE_FORMAT_VERSION,
    createdBy: (x, f) => str(x, f, bad),
    opset: (x, f) => int(x, f, bad, 1, 1000), // ai.onnx is at opset 23 (2025); 1000 only refuses nonsense
    config: (x) => modelConfig(x, bad),
    params: (x, f) => entries(x, f),
    optimizerState: (x, f) =>
      list(x, f, bad, MAX_TENSORS).map((e, i) => {
        const at = `${f}[${i}]`;
        const o = asObject(e, at, bad);
        onlyKnown(o, ['name', 'dtype', 'shape', 'param'], at, bad);
        const { param, ...rest } = o;
        return { ...tensorEntry(rest, at, bad), param: str(param, `${at}.param`, bad) };
      }),
    files: (x) => files(x, bad),
    graphs: (x) => graphs(x, bad),
    fusedSteps: (x, f) => int(x, f, bad, 1, MAX_FUSED),
    evalSamples: (x, f) => (typeof x === 'string' ? str(x, f, bad) : int(x, f, bad, 1, MAX_DIM)),
    training: (x) => training(x, bad),
    metrics: (x) => metrics(x, bad),
    deploy: (x, f) => deployInfo(x, f, bad),
  };
  const optional = new Set(['deploy']);
  const required = Object.keys(checks).filter((k) => !optional.has(k)) as (keyof Manifest & string)[];
  const m = fields<Manifest>(o, checks, '', bad, required);
  checkTensorsFitConfig(m, bad);
  return m;
}

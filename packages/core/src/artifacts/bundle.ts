/**
 * The artifact bundle: a folder of ONNX graphs, a safetensors checkpoint and a manifest that describes and hashes
 * them. core only makes and checks bytes; node writes them to disk and web fetches them.
 */
import { serializeModel } from '../ir/serialize.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { resolveConfig, type VaeConfig } from '../models/config.js';
import { buildDecoder, buildEncoder, buildEval, buildTrainStep, optimizerStateSpecs, parameterSpecs, signature } from '../models/graphs.js';
import { initParams } from '../nn/params.js';
import { Prng } from '../random/prng.js';
import {
  BUNDLE_FILES,
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_VERSION,
  BundleError,
  type BundleFile,
  type DeployInfo,
  type Manifest,
  parseManifest,
  type TensorEntry,
  type TrainingState,
} from './manifest.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from './safetensors.js';
import { sha256Hex } from './sha256.js';

export { MAX_JSON_DEPTH, parseUntrustedJson } from './json.js';
export * from './manifest.js';

/** Parameters, optimizer state and bookkeeping: everything a checkpoint restores. */
export interface ModelState {
  params: Record<string, TensorData>;
  optState: Record<string, TensorData>;
  training: TrainingState;
  metrics: Record<string, number>[];
}

export interface Bundle {
  manifest: Manifest;
  files: Record<BundleFile, Uint8Array>;
}

export interface BundleOptions {
  fusedSteps?: number;
  /**
   * train_step's parameter layout (models/graphs.ts TrainStepOptions.layout): 'flat' (default) takes all parameters
   * and each optimizer state kind as one vector each; 'named' one input per tensor. The checkpoint and the manifest
   * list the tensors by name either way, and the Trainer runs both.
   */
  trainLayout?: 'flat' | 'named';
  /** Static sample count for the eval graph (required for conv models); default: free. */
  evalSamples?: number;
}

/** Fresh parameters (PyTorch-style init from `seed`) and zero optimizer state. */
export function initialState(cfg: VaeConfig, seed: number): ModelState {
  const prng = new Prng(seed);
  const specs = parameterSpecs(cfg);
  const params = initParams(specs, prng.split(), cfg.dtype);
  const optState: Record<string, TensorData> = {};
  for (const s of optimizerStateSpecs(cfg, specs)) optState[s.name] = tensorData(cfg.dtype, s.shape);
  return { params, optState, training: { step: 0, epoch: 0, seed, prngState: prng.state() }, metrics: [] };
}

function entry(name: string, t: TensorData): TensorEntry {
  return { name, dtype: t.dtype, shape: [...t.shape] };
}

export function encodeCheckpoint(st: ModelState): Uint8Array {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [k, t] of [...Object.entries(st.params), ...Object.entries(st.optState)]) {
    tensors[k] = { dtype: t.dtype, shape: [...t.shape], data: t.data } as SafetensorsTensor;
  }
  return encodeSafetensors(tensors, { format: BUNDLE_FORMAT, step: String(st.training.step), epoch: String(st.training.epoch) });
}

/** Builds every graph and the checkpoint for this state, and a manifest that hashes them. */
export async function createBundle(config: VaeConfig, st: ModelState, opts: BundleOptions = {}): Promise<Bundle> {
  const cfg = resolveConfig(config);
  const fusedSteps = opts.fusedSteps ?? 1;
  const evalSamples = opts.evalSamples ?? (cfg.arch === 'conv' ? 16 : 'samples');
  const specs = parameterSpecs(cfg);
  // Per-datapoint models take the table's rows by name (the host gathers them), and the refining steps are built
  // per tensor: their train step is 'named'.
  const layout = cfg.inference === 'per-datapoint' || cfg.inference === 'semi-amortized' ? 'named' : (opts.trainLayout ?? 'flat');
  const train = buildTrainStep(cfg, { fusedSteps, layout });
  const evalG = buildEval(cfg, evalSamples);
  const enc = buildEncoder(cfg, st.params);
  const dec = buildDecoder(cfg, st.params);
  const meta = { config: JSON.stringify(cfg) };
  const files: Record<BundleFile, Uint8Array> = {
    'train_step.onnx': serializeModel(train, { metadata: meta }),
    'eval.onnx': serializeModel(evalG, { metadata: meta }),
    'encoder.onnx': serializeModel(enc, { metadata: meta }),
    'decoder.onnx': serializeModel(dec, { metadata: meta }),
    'checkpoint.safetensors': encodeCheckpoint(st),
  };
  const hashed: Manifest['files'] = {};
  for (const f of BUNDLE_FILES) hashed[f] = { sha256: await sha256Hex(files[f]), bytes: files[f].length };
  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    createdBy: '@onnxvae/core 0.1.0',
    opset: train.opset,
    config: cfg,
    params: specs.map((s) => entry(s.name, st.params[s.name])),
    optimizerState: optimizerStateSpecs(cfg, specs).map((s) => ({ ...entry(s.name, st.optState[s.name]), param: s.param })),
    files: hashed,
    graphs: {
      train_step: { file: 'train_step.onnx', ...signature(train) },
      eval: { file: 'eval.onnx', ...signature(evalG) },
      encoder: { file: 'encoder.onnx', ...signature(enc) },
      decoder: { file: 'decoder.onnx', ...signature(dec) },
    },
    fusedSteps,
    evalSamples,
    training: st.training,
    metrics: st.metrics,
  };
  return { manifest, files };
}

/**
 * The bundle for deployment with float16 weights: decoder.onnx and encoder.onnx rebuilt from the checkpoint's
 * parameters with every weight stored as float16 and cast back to the config's dtype (about half the bytes; inputs,
 * outputs and arithmetic unchanged), rehashed in a new manifest whose `deploy` says so. The checkpoint,
 * train_step.onnx and eval.onnx are kept as they are (fine-tuning and evaluation stay at full precision).
 * `measured` (e.g. the pixel error the export measured) is recorded in manifest.deploy. A weight float16 cannot
 * hold (|w| > 65504) throws a RangeError naming the parameter.
 */
export async function withFloat16Weights(b: LoadedBundle, measured: Pick<DeployInfo, 'pixelError'> = {}): Promise<Bundle> {
  const cfg = b.manifest.config;
  const params = b.state.params;
  const meta = { metadata: { config: JSON.stringify(cfg) } };
  const enc = buildEncoder(cfg, params, { weights: 'float16' });
  const dec = buildDecoder(cfg, params, { weights: 'float16' });
  const files = { ...b.files, 'encoder.onnx': serializeModel(enc, meta), 'decoder.onnx': serializeModel(dec, meta) };
  const full = {
    decoder: serializeModel(buildDecoder(cfg, params), meta).length,
    encoder: serializeModel(buildEncoder(cfg, params), meta).length,
  };
  const hashed = { ...b.manifest.files };
  for (const f of ['encoder.onnx', 'decoder.onnx'] as const) hashed[f] = { sha256: await sha256Hex(files[f]), bytes: files[f].length };
  const manifest: Manifest = {
    ...b.manifest,
    files: hashed,
    graphs: {
      ...b.manifest.graphs,
      encoder: { file: 'encoder.onnx', ...signature(enc) },
      decoder: { file: 'decoder.onnx', ...signature(dec) },
    },
    deploy: { weights: 'float16', fullPrecisionBytes: full, ...measured },
  };
  return { manifest, files };
}

/** Verifies one file's size and sha256 against the manifest. */
export async function verifyFile(manifest: Manifest, name: string, bytes: Uint8Array): Promise<void> {
  const e = manifest.files[name];
  if (!e) throw new BundleError(`${name}: not listed in the manifest`);
  if (bytes.length !== e.bytes)
    throw new BundleError(`${name}: ${bytes.length} bytes, the manifest says ${e.bytes} (truncated or replaced file)`);
  const h = await sha256Hex(bytes);
  if (h !== e.sha256) throw new BundleError(`${name}: sha256 ${h} does not match the manifest's ${e.sha256} (corrupt or tampered file)`);
}

export interface LoadedBundle {
  manifest: Manifest;
  files: Record<BundleFile, Uint8Array>;
  state: ModelState;
}

/**
 * Reads and validates a whole bundle: manifest, every file's size and hash, and the checkpoint's tensors against
 * the manifest's names, shapes and dtypes. `read` fetches a file's bytes by name (from disk or a URL).
 */
export async function loadBundle(read: (file: string) => Promise<Uint8Array>, source = 'bundle'): Promise<LoadedBundle> {
  const manifest = parseManifest(new TextDecoder().decode(await read('manifest.json')), `${source}/manifest.json`);
  const files = {} as Record<BundleFile, Uint8Array>;
  for (const f of BUNDLE_FILES) {
    const bytes = await read(f);
    try {
      await verifyFile(manifest, f, bytes);
    } catch (e) {
      throw new BundleError(`${source}/${(e as Error).message}`);
    }
    files[f] = bytes;
  }
  const ckName = `${source}/checkpoint.safetensors`;
  let ck: ReturnType<typeof decodeSafetensors>;
  try {
    ck = decodeSafetensors(files['checkpoint.safetensors'], ckName);
  } catch (e) {
    throw new BundleError((e as Error).message, { cause: e });
  }
  const take = (entries: TensorEntry[], what: string) => {
    const out: Record<string, TensorData> = {};
    for (const e of entries) {
      const t = Object.hasOwn(ck.tensors, e.name) ? ck.tensors[e.name] : undefined;
      if (!t) throw new BundleError(`${ckName}: ${what} '${e.name}' is missing`);
      if (t.dtype !== e.dtype || t.shape.join(',') !== e.shape.join(',')) {
        throw new BundleError(`${ckName}: '${e.name}' is ${t.dtype}[${t.shape}], the manifest says ${e.dtype}[${e.shape}]`);
      }
      out[e.name] = tensorData(t.dtype as TensorData['dtype'], t.shape, t.data);
    }
    return out;
  };
  // Every tensor the checkpoint holds must be one the manifest (and so the config) names: nothing is ignored.
  const listed = new Set([...manifest.params, ...manifest.optimizerState].map((e) => e.name));
  for (const name of Object.keys(ck.tensors)) {
    if (!listed.has(name)) {
      throw new BundleError(`${ckName}: tensor ${JSON.stringify(name.slice(0, 100))} is not in the manifest (a file from another model?)`);
    }
  }
  const params = take(manifest.params, 'parameter');
  const optState = take(manifest.optimizerState, 'optimizer state');
  if (ck.metadata.step !== undefined && Number(ck.metadata.step) !== manifest.training.step) {
    throw new BundleError(
      `${source}: checkpoint is at step ${ck.metadata.step} but the manifest says ${manifest.training.step} (mixed files from two saves)`,
    );
  }
  return { manifest, files, state: { params, optState, training: manifest.training, metrics: manifest.metrics } };
}

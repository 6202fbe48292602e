/**
 * Per-datapoint (non-amortized) variational inference: example i has its own q_i = N(μ_i, diag σ_i²), whose
 * parameters μ, log σ² [batch, L] are graph inputs that Adam optimizes directly — no encoder. K steps run in one
 * session.run (an ONNX Loop whose trip count is eps's leading dim). The decoder is fixed (weights embedded, or fed as
 * inputs) or optimized jointly. Started from the encoder's q(z|x), this is test-time refinement, and the ELBO it
 * reaches, compared with the encoder's, is the amortization gap (runtime/refiner.ts runs refineGraphs).
 *
 * The graphs are the latent family's bound (bound.ts) with q given: any family with a free posterior
 * (`freePosterior`: its q's parameters as tensors, `q.<name>`) and a reparameterized sample; the label y of a
 * conditional model is an input like in the other graphs.
 */
import { gradients } from '../autodiff/gradients.js';
import { Graph, type Value } from '../ir/graph.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { ParamBinder, type ParamSpec } from '../nn/params.js';
import { applyOptimizer, type OptimizerConfig, type ParamSlot, stateNames } from '../optim/optimizer.js';
import { elboTerms } from './bound.js';
import { inputSize, type VaeConfig } from './config.js';
import { type FreePosterior, type LatentFamily, latentFamily } from './families/index.js';
import { BATCH, familyInputs, updatedName } from './graph-io.js';

/** Names of the per-datapoint variational parameters (and, with suffixes, of their Adam state). */
export const Q_MU = 'q.mu';
export const Q_LOGVAR = 'q.logvar';

/** Adam with the usual constants: the per-datapoint optimizer unless told otherwise. */
export const REFINE_OPTIMIZER: OptimizerConfig = { type: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, momentum: 0 };

export interface PerDatapointOptions {
  /**
   * 'fixed' (default): the decoder's weights are constants of the run — embedded when `values` is given, else graph
   * inputs named as the parameters. 'joint': they are inputs, optimized with the q_i (their optimizer state flows in
   * and out as in train_step).
   */
  decoder?: 'fixed' | 'joint';
  /** Weights of the generative part (decoder, likelihood, prior) to embed; 'fixed' only. */
  values?: Record<string, TensorData>;
  /** Reparameterized samples per step and example (S); default 1. */
  samples?: number;
  optimizer?: Partial<OptimizerConfig>;
}

/** The family and its free posterior (q's parameters as tensors); an error for a family without one. */
export function freeFamily(cfg: VaeConfig): { family: LatentFamily; free: FreePosterior<unknown> } {
  const family = latentFamily(cfg);
  const free = family.freePosterior;
  if (!free || !family.reparameterizable) {
    throw new Error(`per-datapoint inference optimizes Gaussian q_i; this model has ${family.name} latents`);
  }
  return { family, free };
}

/** Graph inputs q.<name> [batch, width] for the free posterior's parameters. */
function freeInputs(g: Graph, cfg: VaeConfig, free: FreePosterior<unknown>): Value[] {
  return free.names.map((n) => g.input(`q.${n}`, cfg.dtype, [BATCH, free.width]));
}

/** The generative part's parameters — decoder, likelihood and conditional prior: every parameter but the encoder's. */
export function generativeSpecs(cfg: VaeConfig): ParamSpec[] {
  const { family, free } = freeFamily(cfg);
  const g = new Graph('generative_specs');
  const p = ParamBinder.inputs(cfg.dtype);
  const x = g.input('x', cfg.dtype, [BATCH, inputSize(cfg)]);
  const cond = familyInputs(g, cfg, family);
  const q = free.posterior(freeInputs(g, cfg, free));
  const eps = g.input('eps', cfg.dtype, [1, BATCH, family.noise.width]);
  elboTerms(g, p, cfg, family, x, eps, cond, { posterior: q });
  return p.specs;
}

/** Graph values for the generative parameters: embedded initializers (with `values`) or graph inputs. */
function generativeValues(g: Graph, cfg: VaeConfig, specs: ParamSpec[], values?: Record<string, TensorData>): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const s of specs) {
    if (!values) {
      out[s.name] = g.input(s.name, cfg.dtype, s.shape);
      continue;
    }
    const t = values[s.name];
    if (!t) throw new Error(`per-datapoint graph: no value for parameter '${s.name}' (is the checkpoint from this model?)`);
    if (t.shape.join(',') !== s.shape.join(','))
      throw new Error(`per-datapoint graph: '${s.name}' has shape [${t.shape}], the model needs [${s.shape}]`);
    out[s.name] = g.initializer(s.name, t.dtype === cfg.dtype ? t : tensorData(cfg.dtype, t.shape, Array.from(t.data as Float32Array)));
  }
  return out;
}

/** Optimizer-state specs of the q_i: one per state tensor of μ and log σ², each [batch, L]. */
export function perDatapointStateNames(opt: OptimizerConfig): string[] {
  return [Q_MU, Q_LOGVAR].flatMap((n) => stateNames(opt, n));
}

/**
 * refine_step: (x [batch, D], y [batch, C] (conditional models), eps [K, S, batch, L], step, lr, q.mu, q.logvar
 * [batch, L], their optimizer state, then — decoder 'fixed' and not embedded — the generative parameters, or —
 * 'joint' — decoder_step, the generative parameters and their optimizer state) →
 * (elbo [K, batch]: each step's per-example ELBO estimate before its update, q.mu_new, q.logvar_new, state_new…,
 * and for 'joint' params_new…, their state_new…).
 *
 * Each step maximizes Σ_i ELBO_i (analytic KL, S reparameterized samples): the sum, so example i's parameters get
 * exactly ∇ ELBO_i; Adam then scales each coordinate on its own, so every q_i is optimized independently of the
 * batch it is in. `step` is the 1-based number of the q's first update in this run (Adam's bias correction);
 * `decoder_step` likewise for the decoder.
 */
export function buildRefineStep(cfg: VaeConfig, opts: PerDatapointOptions = {}): Graph {
  const mode = opts.decoder ?? 'fixed';
  if (mode === 'joint' && opts.values) throw new Error("buildRefineStep: a 'joint' decoder is optimized, so it cannot be embedded");
  const opt: OptimizerConfig = { ...REFINE_OPTIMIZER, ...opts.optimizer };
  const S = opts.samples ?? 1;
  if (!Number.isInteger(S) || S < 1) throw new Error(`buildRefineStep: samples must be a positive integer, got ${S}`);
  const { family, free } = freeFamily(cfg);
  const dt = cfg.dtype;
  const g = new Graph('refine_step');
  const x = g.input('x', dt, [BATCH, inputSize(cfg)]);
  const cond = familyInputs(g, cfg, family);
  const eps = g.input('eps', dt, ['steps', S, BATCH, family.noise.width]);
  const step = g.input('step', dt, []);
  const lr = g.input('lr', dt, []);
  const q0 = freeInputs(g, cfg, free);
  const qNames = free.names.map((n) => `q.${n}`);
  const qStateNames = qNames.flatMap((n) => stateNames(opt, n));
  const qState0 = qStateNames.map((n) => g.input(n, dt, [BATCH, free.width]));
  const specs = generativeSpecs(cfg);
  const decStateSpecs = mode === 'joint' ? specs.flatMap((s) => stateNames(opt, s.name).map((name) => ({ name, shape: s.shape }))) : [];
  const decoderStep = mode === 'joint' ? g.input('decoder_step', dt, []) : undefined;
  const fixed = mode === 'fixed' ? generativeValues(g, cfg, specs, opts.values) : undefined;
  const dec0 = mode === 'joint' ? specs.map((s) => g.input(s.name, dt, s.shape)) : [];
  const decState0 = decStateSpecs.map((s) => g.input(s.name, dt, s.shape));
  // The trip count is eps's leading dim, so one graph runs any number of steps.
  const trips = g.Gather(g.Shape(eps), g.scalar(0, 'int64'));
  const carried = [step, ...(decoderStep ? [decoderStep] : []), ...q0, ...qState0, ...dec0, ...decState0];
  const nq = q0.length;
  const nqs = qStateNames.length;
  const res = g.Loop(trips, carried, (body, iter, c) => {
    let i = 0;
    const t = c[i++];
    const td = decoderStep ? c[i++] : undefined;
    const qs = c.slice(i, i + nq);
    i += nq;
    const qStates = c.slice(i, i + nqs);
    i += nqs;
    const decs = c.slice(i, i + dec0.length);
    const decStates = c.slice(i + dec0.length);
    const given: Record<string, Value> = {};
    specs.forEach((s, j) => {
      given[s.name] = fixed ? fixed[s.name] : decs[j];
    });
    const p = ParamBinder.given(given, dt);
    const terms = elboTerms(body, p, cfg, family, x, body.Gather(eps, iter, 0), cond, { posterior: free.posterior(qs) });
    const loss = body.scope('loss', () => body.Neg(body.ReduceSum(terms.elbo)));
    const grads = gradients(body, loss, [...qs, ...decs]);
    let k = 0;
    const qSlots: ParamSlot[] = qNames.map((name, j) => {
      const n = stateNames(opt, name).length;
      const slot = { name, value: qs[j], grad: grads[j], state: qStates.slice(k, k + n) };
      k += n;
      return slot;
    });
    const q = applyOptimizer(body, opt, qSlots, lr, t).updated;
    const next = [body.Add(t, 1), ...(td ? [body.Add(td, 1)] : []), ...q.map((u) => u.value), ...q.flatMap((u) => u.state)];
    if (td) {
      k = 0;
      const dSlots: ParamSlot[] = specs.map((s, j) => {
        const n = stateNames(opt, s.name).length;
        const slot = { name: s.name, value: decs[j], grad: grads[nq + j], state: decStates.slice(k, k + n) };
        k += n;
        return slot;
      });
      const d = applyOptimizer(body, opt, dSlots, lr, td).updated;
      next.push(...d.map((u) => u.value), ...d.flatMap((u) => u.state));
    }
    return { carried: next, scans: [terms.elbo] };
  });
  let o = decoderStep ? 2 : 1;
  for (const n of qNames) g.output(res[o++], updatedName(n));
  for (const n of qStateNames) g.output(res[o++], updatedName(n));
  for (const s of mode === 'joint' ? specs : []) g.output(res[o++], updatedName(s.name));
  for (const s of decStateSpecs) g.output(res[o++], updatedName(s.name));
  g.output(res[carried.length], 'elbo');
  return g;
}

/**
 * posterior_eval: (x [batch, D], y [batch, C] (conditional), q.mu, q.logvar [batch, L], eps [S, batch, L], and the
 * generative parameters unless embedded) → rec, kl (analytic), elbo [batch], log_px = log p(x|z_s) and
 * log_w = log p(x, z_s) − log q(z_s) [S, batch]: the bound and the importance weights for any Gaussian q — the
 * encoder's, a refined one, or a free one.
 */
export function buildPosteriorEval(cfg: VaeConfig, opts: { values?: Record<string, TensorData>; samples?: number | string } = {}): Graph {
  const { family, free } = freeFamily(cfg);
  const dt = cfg.dtype;
  const g = new Graph('posterior_eval');
  const x = g.input('x', dt, [BATCH, inputSize(cfg)]);
  const cond = familyInputs(g, cfg, family);
  const q = free.posterior(freeInputs(g, cfg, free));
  const eps = g.input('eps', dt, [opts.samples ?? 'samples', BATCH, family.noise.width]);
  const p = ParamBinder.given(generativeValues(g, cfg, generativeSpecs(cfg), opts.values), dt);
  const t = elboTerms(g, p, cfg, family, x, eps, cond, { posterior: q });
  g.output(t.rec, 'rec');
  g.output(t.kl, 'kl');
  g.output(t.elbo, 'elbo');
  g.output(t.logpx, 'log_px');
  g.output(t.logw, 'log_w');
  return g;
}

/** What the Refiner runs: refine_step and posterior_eval with the generative weights embedded. */
export interface RefineGraphs {
  refineStep: Graph;
  posteriorEval: Graph;
  /** q's free parameters as the graphs' inputs (q.mu, q.logvar for Gaussian q), in order. */
  posteriorInputs: string[];
  /** The q's optimizer-state tensors, in refine_step's input order. */
  stateNames: string[];
  /** posterior_eval's static sample count (conv decoders need one), else undefined: any count per run. */
  evalChunk?: number;
}

export interface RefineGraphOptions {
  /** Reparameterized samples per refinement step (S); default 1. */
  samples?: number;
  optimizer?: Partial<OptimizerConfig>;
  /** Samples per posterior_eval run for a conv model (its sample count is static); default 16. */
  convChunk?: number;
}

/** The refiner's graphs for a model with these weights (runtime/refiner.ts runs them). */
export function refineGraphs(cfg: VaeConfig, params: Record<string, TensorData>, opts: RefineGraphOptions = {}): RefineGraphs {
  const samples = opts.samples ?? 1;
  const optimizer = { ...REFINE_OPTIMIZER, ...opts.optimizer };
  const refineStep = buildRefineStep(cfg, { values: params, samples, optimizer });
  const evalChunk = cfg.arch === 'conv' ? (opts.convChunk ?? 16) : undefined;
  const posteriorEval = buildPosteriorEval(cfg, { values: params, samples: evalChunk });
  const posteriorInputs = freeFamily(cfg).free.names.map((n) => `q.${n}`);
  const qStates = posteriorInputs.flatMap((n) => stateNames(optimizer, n));
  return { refineStep, posteriorEval, posteriorInputs, stateNames: qStates, evalChunk };
}

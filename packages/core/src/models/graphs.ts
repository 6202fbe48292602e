/**
 * The graphs of a bundle: train_step (forward, ELBO, reverse-mode gradients, optimizer update), eval (per-example
 * bound terms and importance log-weights), encoder and decoder (weights embedded, for deployment). Each builder asks
 * the model's latent family (families/) and gradient estimator (estimators.ts) and never which family it holds.
 */
import { gradients } from '../autodiff/gradients.js';
import { Graph, type Value } from '../ir/graph.js';
import type { TensorData } from '../ir/tensor.js';
import { ParamBinder, type ParamSpec } from '../nn/params.js';
import { applyOptimizer, type OptimizerConfig, stateNames } from '../optim/optimizer.js';
import { elboTerms, type GradientEstimator, type StateSpec, type StepInputs } from './bound.js';
import { inputSize, type VaeConfig } from './config.js';
import { gradientEstimator } from './estimators.js';
import { latentFamily } from './families/index.js';
import { BATCH, familyInputs, updatedName } from './graph-io.js';
import {
  buildPerDatapointEncoder,
  buildPerDatapointEval,
  buildPerDatapointTrainStep,
  isPerDatapoint,
  perDatapointParameterSpecs,
  tableStateSpecs,
} from './per-datapoint-training.js';
import { buildSemiAmortizedEncoder, buildSemiAmortizedEval, buildSemiAmortizedTrainStep, isSemiAmortized } from './semi-amortized.js';
import { decoderMean } from './vae.js';

export type { StateSpec, StepInputs } from './bound.js';
// Re-exported: hosts and tests import them from here.
export { BATCH, familyInputs, updatedName };

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: (number | string)[];
}

export interface GraphSignature {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
}

export function signature(g: Graph): GraphSignature {
  const info = (v: Value): TensorInfo => ({ name: v.name, dtype: v.dtype, shape: [...v.shape] });
  return { inputs: g.inputs.map(info), outputs: g.outputs.map(info) };
}

/** The model's parameters (names, shapes, inits) in the order the graphs take them. */
export function parameterSpecs(cfg: VaeConfig): ParamSpec[] {
  // Per-datapoint inference: θ without an encoder, then the q table (models/per-datapoint-training.ts).
  if (isPerDatapoint(cfg)) return perDatapointParameterSpecs(cfg);
  const family = latentFamily(cfg);
  const g = new Graph('specs');
  const p = ParamBinder.inputs(cfg.dtype);
  const x = g.input('x', cfg.dtype, [BATCH, inputSize(cfg)]);
  const eps = g.input('eps', cfg.dtype, [1, BATCH, family.noise.width]);
  elboTerms(g, p, cfg, family, x, eps, familyInputs(g, cfg, family));
  // An estimator's own parameters (NVIL's baseline network) come after the model's.
  gradientEstimator(cfg, family).declareParams?.(g, p, x);
  return p.specs;
}

export function optimizerStateSpecs(cfg: VaeConfig, params: readonly ParamSpec[]): StateSpec[] {
  if (isPerDatapoint(cfg)) {
    // θ's state from the configured optimizer; the table's own Adam state and per-row update counts.
    const table = tableStateSpecs(cfg);
    const tableParams = new Set(table.map((t) => t.param));
    const theta = params.filter((p) => !tableParams.has(p.name));
    return [...theta.flatMap((p) => stateNames(cfg.optimizer, p.name).map((name) => ({ name, param: p.name, shape: p.shape }))), ...table];
  }
  const perParam = params.flatMap((p) => stateNames(cfg.optimizer, p.name).map((name) => ({ name, param: p.name, shape: p.shape })));
  // An estimator's own state (the score function's moving-average baseline) travels with the optimizer state.
  return [...perParam, ...gradientEstimator(cfg, latentFamily(cfg)).stateSpecs];
}

/** Scalar training metrics every train step reports (batch means, nats). */
export const TRAIN_METRICS = ['loss', 'rec', 'kl', 'elbo'] as const;

interface StepValues {
  metrics: Value[];
  params: Value[];
  states: Value[];
}

/** One training step's computation given its inputs as values (shared by the plain and the fused graph). */
function stepBody(g: Graph, cfg: VaeConfig, estimator: GradientEstimator, inputs: StepInputs, specs: ParamSpec[]): StepValues {
  const p = ParamBinder.given(inputs.params, cfg.dtype);
  const o = estimator.objective(g, p, inputs);
  const paramValues = specs.map((s) => inputs.params[s.name]);
  const grads = gradients(g, o.loss, paramValues);
  const slots = specs.map((s, i) => ({
    name: s.name,
    value: paramValues[i],
    grad: grads[i],
    state: stateNames(cfg.optimizer, s.name).map((n) => inputs.states[n]),
  }));
  const { updated } = applyOptimizer(g, cfg.optimizer, slots, inputs.lr, inputs.step);
  const extra = o.nextStates(g);
  const metrics = [o.loss, g.ReduceMean(o.terms.rec), g.ReduceMean(o.terms.kl), g.ReduceMean(o.terms.elbo)];
  return { metrics, params: updated.map((u) => u.value), states: [...updated.flatMap((u) => u.state), ...extra] };
}

export interface TrainStepOptions {
  /** Run this many optimizer steps per session.run with an ONNX Loop (x gets a leading [K] axis). Default 1. */
  fusedSteps?: number;
  /**
   * 'named' (default): one input and one output per parameter and per optimizer state tensor. 'flat': all parameters
   * in one vector `params` [P] (the order and offsets of `flatLayout`), each optimizer state kind in one more
   * (`adam_m`, `adam_v`, or `momentum`), sliced into the parameters' shapes inside the graph; the gradients are
   * concatenated back and the optimizer runs as a handful of kernels over the one long vector (the multi-tensor
   * idea of PyTorch's fused Adam). Estimator states (the score function's baseline) stay named.
   */
  layout?: 'named' | 'flat';
}

/** Where each parameter lives in the flat vector of a 'flat' train step: [offset, offset + size), row-major. */
export interface FlatEntry {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** The parameters' places in the flat vector (the order of parameterSpecs), and its length P. */
export function flatLayout(specs: readonly { name: string; shape: readonly number[] }[]): { entries: FlatEntry[]; size: number } {
  let offset = 0;
  const entries = specs.map((s) => {
    const size = s.shape.reduce((a, b) => a * b, 1);
    const e = { name: s.name, shape: [...s.shape], offset, size };
    offset += size;
    return e;
  });
  return { entries, size: offset };
}

/** The flat train step's vector inputs: the parameters, then one per optimizer state kind ('adam_m', 'adam_v' …). */
export const FLAT_PARAMS = 'params';
export function flatStateNames(cfg: VaeConfig): string[] {
  // stateNames gives `<param>.<kind>`; the flat step has one vector per kind.
  return stateNames(cfg.optimizer, '').map((n) => n.slice(1));
}

/**
 * train_step: (x [batch, D], eps [M, batch, W], the family's inputs (y [batch, C]), step, lr, beta, params…,
 * state…) → (loss, rec, kl, elbo, params_new…, state_new…). `step` is the 1-based number of this update (float).
 * With fusedSteps K > 1: x [K, batch, D], eps [K, M, batch, W], y [K, batch, C], metrics [K], and `step` is the
 * first step's number.
 */
export function buildTrainStep(cfg: VaeConfig, opts: TrainStepOptions = {}): Graph {
  if (isPerDatapoint(cfg)) {
    if ((opts.fusedSteps ?? 1) !== 1)
      throw new Error('per-datapoint inference: fused steps are not supported (the host gathers the table rows per step)');
    return buildPerDatapointTrainStep(cfg);
  }
  if (isSemiAmortized(cfg)) {
    if ((opts.fusedSteps ?? 1) !== 1) throw new Error('semi-amortized inference: fused steps are not supported');
    return buildSemiAmortizedTrainStep(cfg, parameterSpecs(cfg));
  }
  if (opts.layout === 'flat') return buildFlatTrainStep(cfg, opts.fusedSteps ?? 1);
  const k = opts.fusedSteps ?? 1;
  const family = latentFamily(cfg);
  const estimator = gradientEstimator(cfg, family);
  const specs = parameterSpecs(cfg);
  const stateSpecs = optimizerStateSpecs(cfg, specs);
  const g = new Graph('train_step');
  const dt = cfg.dtype;
  const d = inputSize(cfg);
  const lead = k > 1 ? [k] : [];
  const x = g.input('x', dt, [...lead, BATCH, d]);
  const eps = g.input('eps', dt, [...lead, cfg.samples, BATCH, family.noise.width]);
  const cond = familyInputs(g, cfg, family, lead);
  const step = g.input('step', dt, []);
  const lr = g.input('lr', dt, []);
  const beta = g.input('beta', dt, []);
  const params: Record<string, Value> = {};
  for (const s of specs) params[s.name] = g.input(s.name, dt, s.shape);
  const states: Record<string, Value> = {};
  for (const s of stateSpecs) states[s.name] = g.input(s.name, dt, s.shape);

  let out: StepValues;
  if (k === 1) out = stepBody(g, cfg, estimator, { x, eps, cond, step, lr, beta, params, states }, specs);
  else {
    const carried = [step, ...specs.map((s) => params[s.name]), ...stateSpecs.map((s) => states[s.name])];
    const res = g.Loop(k, carried, (body, iter, c) => {
      const [t, ...rest] = c;
      const ps: Record<string, Value> = {};
      specs.forEach((s, i) => {
        ps[s.name] = rest[i];
      });
      const ss: Record<string, Value> = {};
      stateSpecs.forEach((s, i) => {
        ss[s.name] = rest[specs.length + i];
      });
      const xi = body.Gather(x, iter, 0);
      const ei = body.Gather(eps, iter, 0);
      const ci = Object.fromEntries(Object.entries(cond).map(([name, v]) => [name, body.Gather(v, iter, 0)]));
      const r = stepBody(body, cfg, estimator, { x: xi, eps: ei, cond: ci, step: t, lr, beta, params: ps, states: ss }, specs);
      return { carried: [body.Add(t, 1), ...r.params, ...r.states], scans: r.metrics };
    });
    const nc = carried.length;
    out = { params: res.slice(1, 1 + specs.length), states: res.slice(1 + specs.length, nc), metrics: res.slice(nc) };
  }
  for (const [i, m] of TRAIN_METRICS.entries()) g.output(out.metrics[i], m);
  for (const [i, s] of specs.entries()) g.output(out.params[i], updatedName(s.name));
  for (const [i, s] of stateSpecs.entries()) g.output(out.states[i], updatedName(s.name));
  return g;
}

/** One step of the flat layout: slice the parameters out of the vector, differentiate, update the vectors. */
function flatStepBody(
  g: Graph,
  cfg: VaeConfig,
  estimator: GradientEstimator,
  io: Omit<StepInputs, 'params' | 'states'> & { flat: Value; flatStates: Value[]; extra: Record<string, Value> },
  layout: FlatEntry[],
): StepValues {
  const params: Record<string, Value> = {};
  g.scope('flat', () => {
    for (const e of layout) params[e.name] = g.Reshape(g.Slice(io.flat, [e.offset], [e.offset + e.size], [0]), e.shape);
  });
  const p = ParamBinder.given(params, cfg.dtype);
  const o = estimator.objective(g, p, { ...io, params, states: io.extra });
  const values = layout.map((e) => params[e.name]);
  const grads = gradients(g, o.loss, values);
  const grad = g.scope('flat', () =>
    g.Concat(
      grads.map((gr) => g.Reshape(gr, [-1])),
      0,
    ),
  );
  const { updated } = applyOptimizer(g, cfg.optimizer, [{ name: 'all', value: io.flat, grad, state: io.flatStates }], io.lr, io.step);
  const metrics = [o.loss, g.ReduceMean(o.terms.rec), g.ReduceMean(o.terms.kl), g.ReduceMean(o.terms.elbo)];
  return { metrics, params: [updated[0].value], states: [...updated[0].state, ...o.nextStates(g)] };
}

/** train_step with layout 'flat' (see TrainStepOptions.layout): same inputs and outputs otherwise. */
function buildFlatTrainStep(cfg: VaeConfig, k: number): Graph {
  const family = latentFamily(cfg);
  const estimator = gradientEstimator(cfg, family);
  const { entries, size } = flatLayout(parameterSpecs(cfg));
  const g = new Graph('train_step');
  const dt = cfg.dtype;
  const lead = k > 1 ? [k] : [];
  const x = g.input('x', dt, [...lead, BATCH, inputSize(cfg)]);
  const eps = g.input('eps', dt, [...lead, cfg.samples, BATCH, family.noise.width]);
  const cond = familyInputs(g, cfg, family, lead);
  const step = g.input('step', dt, []);
  const lr = g.input('lr', dt, []);
  const beta = g.input('beta', dt, []);
  const flat = g.input(FLAT_PARAMS, dt, [size]);
  const kinds = flatStateNames(cfg);
  const flatStates = kinds.map((n) => g.input(n, dt, [size]));
  const extraSpecs = estimator.stateSpecs;
  const extra: Record<string, Value> = {};
  for (const s of extraSpecs) extra[s.name] = g.input(s.name, dt, s.shape);
  let out: StepValues;
  if (k === 1) out = flatStepBody(g, cfg, estimator, { x, eps, cond, step, lr, beta, flat, flatStates, extra }, entries);
  else {
    const carried = [step, flat, ...flatStates, ...extraSpecs.map((s) => extra[s.name])];
    const res = g.Loop(k, carried, (body, iter, c) => {
      const [t, f, ...rest] = c;
      const ex: Record<string, Value> = {};
      extraSpecs.forEach((s, i) => {
        ex[s.name] = rest[kinds.length + i];
      });
      const ci = Object.fromEntries(Object.entries(cond).map(([name, v]) => [name, body.Gather(v, iter, 0)]));
      const r = flatStepBody(
        body,
        cfg,
        estimator,
        {
          x: body.Gather(x, iter, 0),
          eps: body.Gather(eps, iter, 0),
          cond: ci,
          step: t,
          lr,
          beta,
          flat: f,
          flatStates: rest.slice(0, kinds.length),
          extra: ex,
        },
        entries,
      );
      return { carried: [body.Add(t, 1), ...r.params, ...r.states], scans: r.metrics };
    });
    const nc = carried.length;
    out = { params: res.slice(1, 2), states: res.slice(2, nc), metrics: res.slice(nc) };
  }
  for (const [i, m] of TRAIN_METRICS.entries()) g.output(out.metrics[i], m);
  g.output(out.params[0], updatedName(FLAT_PARAMS));
  for (const [i, n] of [...kinds, ...extraSpecs.map((s) => s.name)].entries()) g.output(out.states[i], updatedName(n));
  return g;
}

export const EVAL_OUTPUTS = ['rec', 'kl', 'elbo', 'log_w'] as const;

/**
 * eval: (x [batch, D], eps [S, batch, W], the family's inputs, params…) → rec, kl (analytic), elbo [batch] and the
 * importance log-weights log_w = log p(x, z) − log q(z|x) [S, batch]. For the conv model S is fixed when the graph
 * is built.
 */
export function buildEval(cfg: VaeConfig, samples: number | string = 'samples'): Graph {
  if (isPerDatapoint(cfg)) return buildPerDatapointEval(cfg, samples);
  if (isSemiAmortized(cfg)) return buildSemiAmortizedEval(cfg, samples);
  const family = latentFamily(cfg);
  const g = new Graph('eval');
  const dt = cfg.dtype;
  const x = g.input('x', dt, [BATCH, inputSize(cfg)]);
  const eps = g.input('eps', dt, [samples, BATCH, family.noise.width]);
  const cond = familyInputs(g, cfg, family);
  // No gradients here, so z need not be reparameterized: eval scores the family's exact draws (for a relaxed
  // family, the discrete ones the model deploys with rather than their relaxation).
  const t = elboTerms(g, ParamBinder.inputs(dt), cfg, family, x, eps, cond, { form: 'kl', reparameterized: false });
  g.output(t.rec, 'rec');
  g.output(t.kl, 'kl');
  g.output(t.elbo, 'elbo');
  g.output(t.logw, 'log_w');
  return g;
}

/** How the deployable graphs (encoder, decoder) store their weights. */
export interface DeployGraphOptions {
  /**
   * 'float16': every weight as float16 and a Cast to the config's dtype (half the file; inputs, outputs and the
   * arithmetic stay in the config's dtype). Default: the config's dtype.
   */
  weights?: 'float16';
}

/**
 * encoder: x [batch, D] (and the family's inputs) → the family's encoder outputs, weights embedded: mu, logvar
 * [batch, L] (for discrete latents the mean and log-variance of q's bits or one-hot entries, and the logits).
 */
export function buildEncoder(cfg: VaeConfig, values: Record<string, TensorData>, opts: DeployGraphOptions = {}): Graph {
  if (isPerDatapoint(cfg)) return buildPerDatapointEncoder(cfg, values, opts.weights);
  if (isSemiAmortized(cfg)) return buildSemiAmortizedEncoder(cfg, values, opts.weights);
  const family = latentFamily(cfg);
  const g = new Graph('encoder');
  const x = g.input('x', cfg.dtype, [BATCH, inputSize(cfg)]);
  const cond = familyInputs(g, cfg, family);
  const q = family.encode(g, ParamBinder.embedded(values, cfg.dtype, { storage: opts.weights }), x, cond);
  for (const [name, v] of Object.entries(family.encoderOutputs(g, q))) g.output(v, name);
  return g;
}

/**
 * decoder: z [batch, W] (a draw from the prior, as the family's decoderInput says) and the family's inputs →
 * x_mean [batch, D] (pixel probabilities or means), weights embedded.
 */
export function buildDecoder(cfg: VaeConfig, values: Record<string, TensorData>, opts: DeployGraphOptions = {}): Graph {
  const family = latentFamily(cfg);
  const g = new Graph('decoder');
  const z = g.input('z', cfg.dtype, [BATCH, family.decoderInput.width]);
  const cond: Record<string, Value> = { ...familyInputs(g, cfg, family) };
  for (const i of family.decoderInputs ?? []) cond[i.name] = g.input(i.name, cfg.dtype, [BATCH, i.width]);
  const p = ParamBinder.embedded(values, cfg.dtype, { storage: opts.weights });
  const loc = family.generate ? family.generate(g, p, z, cond) : family.decode(g, p, z, cond);
  const mean = decoderMean(g, cfg, loc);
  g.output(family.compose ? family.compose(g, mean, cond) : mean, 'x_mean');
  return g;
}

export type { OptimizerConfig };

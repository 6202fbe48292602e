/**
 * The graphs of a bundle: train_step (forward, ELBO, reverse-mode gradients, optimizer update), eval (per-example
 * bound terms and importance log-weights), encoder and decoder (weights embedded, for deployment).
 */
import { gradients } from '../autodiff/gradients.js';
import { Graph, type Value } from '../ir/graph.js';
import type { TensorData } from '../ir/tensor.js';
import { ParamBinder, type ParamSpec } from '../nn/params.js';
import { applyOptimizer, type OptimizerConfig, stateNames } from '../optim/optimizer.js';
import { conditionalDecode, conditionalElboTerms, conditionalEncode } from './conditional.js';
import { inputSize, type VaeConfig } from './config.js';
import { discreteElboTerms, discreteEncode, discreteMoments, isDiscrete, latentWidth } from './discrete.js';
import { scoreStateSpecs, scoreStepBody, usesScoreFunction } from './score-function.js';
import { decode, decoderMean, elboTerms, encode } from './vae.js';

export const BATCH = 'batch';

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
  const g = new Graph('specs');
  const p = ParamBinder.inputs(cfg.dtype);
  const x = g.input('x', cfg.dtype, [BATCH, inputSize(cfg)]);
  const eps = g.input('eps', cfg.dtype, [1, BATCH, latentWidth(cfg)]);
  const y = cfg.conditional ? g.input('y', cfg.dtype, [BATCH, cfg.conditional.classes]) : undefined;
  if (isDiscrete(cfg)) discreteElboTerms(g, p, cfg, x, eps);
  else if (y) conditionalElboTerms(g, p, cfg, x, y, eps);
  else elboTerms(g, p, cfg, x, eps);
  return p.specs;
}

export interface StateSpec {
  name: string;
  param: string;
  shape: number[];
}

export function optimizerStateSpecs(cfg: VaeConfig, params: readonly ParamSpec[]): StateSpec[] {
  const perParam = params.flatMap((p) => stateNames(cfg.optimizer, p.name).map((name) => ({ name, param: p.name, shape: p.shape })));
  // The score-function estimator's moving-average baseline travels with the optimizer state (models/score-function.ts).
  return [...perParam, ...scoreStateSpecs(cfg)];
}

/** Scalar training metrics every train step reports (batch means, nats). */
export const TRAIN_METRICS = ['loss', 'rec', 'kl', 'elbo'] as const;

/** Name of the updated copy of a parameter or state tensor among the train step's outputs. */
export function updatedName(name: string): string {
  return `${name}_new`;
}

interface StepValues {
  metrics: Value[];
  params: Value[];
  states: Value[];
}

/** One training step's computation given its inputs as values (shared by the plain and the fused graph). */
function stepBody(
  g: Graph,
  cfg: VaeConfig,
  x: Value,
  eps: Value,
  t: Value,
  lr: Value,
  beta: Value,
  params: Record<string, Value>,
  states: Record<string, Value>,
  specs: ParamSpec[],
  y?: Value,
): StepValues {
  if (usesScoreFunction(cfg)) return scoreStepBody(g, cfg, x, eps, t, lr, beta, params, states, specs);
  const p = ParamBinder.given(params, cfg.dtype);
  const form = cfg.objective === 'entropy' ? 'entropy' : 'kl';
  const terms = y ? conditionalElboTerms(g, p, cfg, x, y, eps, form) : elboTerms(g, p, cfg, x, eps, form);
  const loss = g.scope('loss', () => {
    if (cfg.objective === 'iwae') {
      // IWAE: −E_b[log (1/M) Σ_m w_m], a tighter bound than the ELBO for M > 1.
      const m = eps.shape[0] as number;
      return g.Neg(g.ReduceMean(g.Sub(g.ReduceLogSumExp(terms.logw, [0], false), Math.log(m))));
    }
    const rec = g.ReduceMean(terms.rec);
    let kl: Value;
    if (cfg.freeBits > 0) {
      // Free bits: each latent dim's batch-mean KL counts at least λ nats, so dims are not pushed to collapse.
      const perDim = form === 'kl' ? g.ReduceMean(terms.klPerDim, [0]) : undefined;
      kl = perDim
        ? g.ReduceSum(g.Max(perDim, g.scalar(cfg.freeBits, cfg.dtype)))
        : g.Max(g.ReduceMean(terms.kl), g.scalar(cfg.freeBits * cfg.latent, cfg.dtype));
    } else kl = g.ReduceMean(terms.kl);
    return g.Sub(g.Mul(kl, beta), rec);
  });
  const paramValues = specs.map((s) => params[s.name]);
  const grads = gradients(g, loss, paramValues);
  const slots = specs.map((s, i) => ({
    name: s.name,
    value: paramValues[i],
    grad: grads[i],
    state: stateNames(cfg.optimizer, s.name).map((n) => states[n]),
  }));
  const { updated } = applyOptimizer(g, cfg.optimizer, slots, lr, t);
  const metrics = [loss, g.ReduceMean(terms.rec), g.ReduceMean(terms.kl), g.ReduceMean(terms.elbo)];
  return { metrics, params: updated.map((u) => u.value), states: updated.flatMap((u) => u.state) };
}

export interface TrainStepOptions {
  /** Run this many optimizer steps per session.run with an ONNX Loop (x gets a leading [K] axis). Default 1. */
  fusedSteps?: number;
}

/**
 * train_step: (x [batch, D], eps [M, batch, L], step, lr, beta, params…, state…) →
 * (loss, rec, kl, elbo, params_new…, state_new…). `step` is the 1-based number of this update (float).
 * With fusedSteps K > 1: x [K, batch, D], eps [K, M, batch, L], metrics [K], and `step` is the first step's number.
 */
export function buildTrainStep(cfg: VaeConfig, opts: TrainStepOptions = {}): Graph {
  const k = opts.fusedSteps ?? 1;
  const specs = parameterSpecs(cfg);
  const stateSpecs = optimizerStateSpecs(cfg, specs);
  const g = new Graph('train_step');
  const dt = cfg.dtype;
  const d = inputSize(cfg);
  const x = g.input('x', dt, k > 1 ? [k, BATCH, d] : [BATCH, d]);
  const eps = g.input('eps', dt, k > 1 ? [k, cfg.samples, BATCH, latentWidth(cfg)] : [cfg.samples, BATCH, latentWidth(cfg)]);
  // Conditional models: the one-hot labels y [batch, C] (models/conditional.ts).
  const classes = cfg.conditional?.classes;
  const y = classes ? g.input('y', dt, k > 1 ? [k, BATCH, classes] : [BATCH, classes]) : undefined;
  const step = g.input('step', dt, []);
  const lr = g.input('lr', dt, []);
  const beta = g.input('beta', dt, []);
  const params: Record<string, Value> = {};
  for (const s of specs) params[s.name] = g.input(s.name, dt, s.shape);
  const states: Record<string, Value> = {};
  for (const s of stateSpecs) states[s.name] = g.input(s.name, dt, s.shape);

  let out: StepValues;
  if (k === 1) out = stepBody(g, cfg, x, eps, step, lr, beta, params, states, specs, y);
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
      const r = stepBody(body, cfg, xi, ei, t, lr, beta, ps, ss, specs, y && body.Gather(y, iter, 0));
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

export const EVAL_OUTPUTS = ['rec', 'kl', 'elbo', 'log_w'] as const;

/**
 * eval: (x [batch, D], eps [S, batch, L], params…) → rec, kl (analytic), elbo [batch] and the importance
 * log-weights log_w = log p(x, z) − log q(z|x) [S, batch]. For the conv model S is fixed when the graph is built.
 */
export function buildEval(cfg: VaeConfig, samples: number | string = 'samples'): Graph {
  const g = new Graph('eval');
  const dt = cfg.dtype;
  const x = g.input('x', dt, [BATCH, inputSize(cfg)]);
  const eps = g.input('eps', dt, [samples, BATCH, latentWidth(cfg)]);
  const y = cfg.conditional ? g.input('y', dt, [BATCH, cfg.conditional.classes]) : undefined;
  const p = ParamBinder.inputs(dt);
  const t = isDiscrete(cfg)
    ? discreteElboTerms(g, p, cfg, x, eps)
    : y
      ? conditionalElboTerms(g, p, cfg, x, y, eps, 'kl')
      : elboTerms(g, p, cfg, x, eps, 'kl');
  g.output(t.rec, 'rec');
  g.output(t.kl, 'kl');
  g.output(t.elbo, 'elbo');
  g.output(t.logw, 'log_w');
  return g;
}

/** encoder: x [batch, D] → mu, logvar [batch, L], weights embedded. */
export function buildEncoder(cfg: VaeConfig, values: Record<string, TensorData>): Graph {
  const g = new Graph('encoder');
  const x = g.input('x', cfg.dtype, [BATCH, inputSize(cfg)]);
  const y = cfg.conditional ? g.input('y', cfg.dtype, [BATCH, cfg.conditional.classes]) : undefined;
  const p = ParamBinder.embedded(values, cfg.dtype);
  if (isDiscrete(cfg)) {
    // Discrete latents: mu and logvar are the mean and log-variance of q's bits (or one-hot entries), plus the logits.
    const logits = discreteEncode(g, p, cfg, x);
    const m = discreteMoments(g, cfg, logits);
    g.output(m.mean, 'mu');
    g.output(m.logvar, 'logvar');
    g.output(logits, 'logits');
    return g;
  }
  const { mu, logvar } = y ? conditionalEncode(g, p, cfg, x, y) : encode(g, p, cfg, x);
  g.output(mu, 'mu');
  g.output(logvar, 'logvar');
  return g;
}

/** decoder: z [batch, L] → x_mean [batch, D] (pixel probabilities or means), weights embedded. */
export function buildDecoder(cfg: VaeConfig, values: Record<string, TensorData>): Graph {
  const g = new Graph('decoder');
  const z = g.input('z', cfg.dtype, [BATCH, latentWidth(cfg)]);
  const y = cfg.conditional ? g.input('y', cfg.dtype, [BATCH, cfg.conditional.classes]) : undefined;
  const p = ParamBinder.embedded(values, cfg.dtype);
  const loc = y ? conditionalDecode(g, p, cfg, z, y) : decode(g, p, { ...cfg, latent: latentWidth(cfg) }, z);
  g.output(decoderMean(g, cfg, loc), 'x_mean');
  return g;
}

export type { OptimizerConfig };

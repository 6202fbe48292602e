/**
 * Per-datapoint (non-amortized) variational inference as a training mode, `{"inference": "per-datapoint"}`: every
 * training example i has its own q_i = N(μ_i, diag σ_i²), a row of the table `q.mu`, `q.logvar` [N, L], and θ is
 * trained jointly with the table over minibatches — |θ| + 2·L·N parameters, no encoder.
 *
 * - train_step takes the batch's rows of the table (and their Adam state and update counts), gathered by the host
 *   (runtime/trainer.ts), and returns them updated for the host to scatter back: one Adam step of ELBO_i for each
 *   row, with its own bias correction (a row is updated only when its example is in the batch), and one step of
 *   the configured optimizer for θ. The table and its state are parameters and optimizer state of the bundle, so
 *   they live in the checkpoint and resume bit-exactly.
 * - Inference for a new x is an optimization: `refineSteps` Adam steps (lr `refineLr`) of its ELBO with θ fixed,
 *   from N(0, I), inside the graph (an ONNX Loop). encoder.onnx and eval.onnx run it, so every host (sampling,
 *   reconstruction, eval, IWAE, the browser) uses a per-datapoint model as it uses an amortized one, at the cost
 *   of refineSteps decoder forward and backward passes per encoding. The refinement's noise is a fixed set of
 *   draws embedded in the graph (the sample-average approximation): the same x always gets the same q, on every
 *   runtime, so the chunks of one IWAE estimate all use one proposal.
 */
import { gradients } from '../autodiff/gradients.js';
import { Graph, type Value } from '../ir/graph.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { ParamBinder, type ParamSpec } from '../nn/params.js';
import { applyOptimizer, type OptimizerConfig, oneMinusPow, stateNames } from '../optim/optimizer.js';
import { Prng } from '../random/prng.js';
import { elboTerms, klPenalty, type StateSpec } from './bound.js';
import { inputSize, type VaeConfig } from './config.js';
import type { FreePosterior, LatentFamily } from './families/index.js';
import { BATCH, familyInputs, updatedName } from './graph-io.js';
import { freeFamily, generativeSpecs, REFINE_OPTIMIZER } from './per-datapoint.js';

/** How many times each row of the table was updated (its Adam bias correction), [N]. */
export const Q_UPDATES = 'q.updates';

/** Seed of the refinement's embedded noise (the sample-average approximation of encoder.onnx and eval.onnx). */
const REFINE_NOISE_SEED = 0x9d_a7a;

export function isPerDatapoint(cfg: VaeConfig): boolean {
  return cfg.inference === 'per-datapoint';
}

/** The q table's optimizer: Adam with the usual constants (its learning rate is the config's refineLr). */
export function tableOptimizer(): OptimizerConfig {
  return { ...REFINE_OPTIMIZER };
}

/** The q table's tensors, [N, L] each, starting at q_i = N(0, I) = the prior (μ = 0, log σ² = 0). */
export function tableSpecs(cfg: VaeConfig): ParamSpec[] {
  const { free } = freeFamily(cfg);
  const n = cfg.examples as number;
  return free.names.map((name) => ({ name: `q.${name}`, shape: [n, free.width], init: { kind: 'const', value: 0 } }));
}

/** The table's Adam state ([N, L] per kind and tensor) and the per-row update counts [N]. */
export function tableStateSpecs(cfg: VaeConfig): StateSpec[] {
  const tables = tableSpecs(cfg);
  const perTensor = tables.flatMap((t) => stateNames(tableOptimizer(), t.name).map((name) => ({ name, param: t.name, shape: t.shape })));
  return [...perTensor, { name: Q_UPDATES, param: tables[0].name, shape: [cfg.examples as number] }];
}

/** Every tensor the host gathers by example index and scatters back: the table, its Adam state, the counts. */
export function tableTensorNames(cfg: VaeConfig): string[] {
  return [...tableSpecs(cfg).map((t) => t.name), ...tableStateSpecs(cfg).map((s) => s.name)];
}

/** The parameters of a per-datapoint model: θ (decoder, likelihood), then the q table. */
export function perDatapointParameterSpecs(cfg: VaeConfig): ParamSpec[] {
  return [...generativeSpecs(cfg), ...tableSpecs(cfg)];
}

/**
 * One Adam step per row with the row's own step count t_i (bias corrections 1 − βᵗⁱ per row): p ← p − lr·m̂/(√v̂ + ε).
 * `t` is [batch, 1] (1-based, after this update); p, grad, m, v are [batch, W].
 */
function rowAdam(g: Graph, opt: OptimizerConfig, p: Value, grad: Value, m: Value, v: Value, lr: number, t: Value): Value[] {
  return g.scope('q_optim', () => {
    const m1 = g.Add(g.Mul(m, opt.beta1), g.Mul(grad, 1 - opt.beta1));
    const v1 = g.Add(g.Mul(v, opt.beta2), g.Mul(g.Mul(grad, grad), 1 - opt.beta2));
    const c1 = oneMinusPow(g, [opt.beta1], t);
    const c2 = oneMinusPow(g, [opt.beta2], t);
    const step = g.Div(g.Div(m1, c1), g.Add(g.Sqrt(g.Div(v1, c2)), opt.eps));
    return [g.Sub(p, g.Mul(step, lr)), m1, v1];
  });
}

/**
 * train_step of a per-datapoint model: (x [batch, D], eps [M, batch, L], the family's inputs, step, lr, beta, θ…,
 * θ's optimizer state…, q.mu, q.logvar [batch, L] (the batch's rows), their Adam state [batch, L], q.updates [batch])
 * → (loss, rec, kl, elbo, θ_new…, state_new…, the rows updated, q.updates_new). The loss is the batch mean of
 * β·KL(q_i‖p) − E_q_i[log p(x_i|z)] (KL or entropy form, free bits); its gradient in row i is (1/batch)·∇ −ELBO_i,
 * and Adam's per-coordinate scaling makes each row's step independent of the batch it is in.
 */
export function buildPerDatapointTrainStep(cfg: VaeConfig): Graph {
  const { family, free } = freeFamily(cfg);
  const dt = cfg.dtype;
  const g = new Graph('train_step');
  const x = g.input('x', dt, [BATCH, inputSize(cfg)]);
  const eps = g.input('eps', dt, [cfg.samples, BATCH, family.noise.width]);
  const cond = familyInputs(g, cfg, family);
  const step = g.input('step', dt, []);
  const lr = g.input('lr', dt, []);
  const beta = g.input('beta', dt, []);
  const specs = generativeSpecs(cfg);
  const params = specs.map((s) => g.input(s.name, dt, s.shape));
  const states = specs.map((s) => stateNames(cfg.optimizer, s.name).map((n) => g.input(n, dt, s.shape)));
  const opt = tableOptimizer();
  const qNames = free.names.map((n) => `q.${n}`);
  const rows = qNames.map((n) => g.input(n, dt, [BATCH, free.width]));
  const rowStates = qNames.map((n) => stateNames(opt, n).map((s) => g.input(s, dt, [BATCH, free.width])));
  const updates = g.input(Q_UPDATES, dt, [BATCH]);

  const given: Record<string, Value> = {};
  specs.forEach((s, i) => {
    given[s.name] = params[i];
  });
  const form = cfg.objective === 'entropy' ? 'entropy' : 'kl';
  const terms = elboTerms(g, ParamBinder.given(given, dt), cfg, family, x, eps, cond, {
    posterior: free.posterior(rows),
    form,
    reparameterized: true,
  });
  const loss = g.scope('loss', () => g.Sub(g.Mul(klPenalty(g, cfg, terms, form, cfg.freeBits), beta), g.ReduceMean(terms.rec)));
  const grads = gradients(g, loss, [...params, ...rows]);
  const slots = specs.map((s, i) => ({ name: s.name, value: params[i], grad: grads[i], state: states[i] }));
  const { updated } = applyOptimizer(g, cfg.optimizer, slots, lr, step);
  const t = g.Unsqueeze(g.Add(updates, 1), [1]);
  const newRows = rows.map((r, j) =>
    rowAdam(g, opt, r, grads[specs.length + j], rowStates[j][0], rowStates[j][1], cfg.refineLr as number, t),
  );

  g.output(loss, 'loss');
  g.output(g.ReduceMean(terms.rec), 'rec');
  g.output(g.ReduceMean(terms.kl), 'kl');
  g.output(g.ReduceMean(terms.elbo), 'elbo');
  specs.forEach((s, i) => {
    g.output(updated[i].value, updatedName(s.name));
    stateNames(cfg.optimizer, s.name).forEach((n, k) => {
      g.output(updated[i].state[k], updatedName(n));
    });
  });
  qNames.forEach((n, j) => {
    g.output(newRows[j][0], updatedName(n));
    stateNames(opt, n).forEach((s, k) => {
      g.output(newRows[j][1 + k], updatedName(s));
    });
  });
  g.output(g.Add(updates, 1), updatedName(Q_UPDATES));
  return g;
}

/**
 * q for a new x: refineSteps Adam steps (lr refineLr) of Σ_i ELBO_i from N(0, I) — or from `start` (the encoder's q:
 * semi-amortized inference) — with θ fixed (`p` binds θ: embedded or graph inputs), one embedded draw of ε per step
 * shared by the batch (fixed noise: the same x always gets the same q). Returns q's free parameters [batch, W] each.
 */
export function refine(
  g: Graph,
  cfg: VaeConfig,
  family: LatentFamily,
  free: FreePosterior<unknown>,
  p: Record<string, Value>,
  x: Value,
  cond: Record<string, Value>,
  start?: Value[],
): Value[] {
  const dt = cfg.dtype;
  const K = cfg.refineSteps as number;
  const W = free.width;
  const noise = new Prng(REFINE_NOISE_SEED);
  const draws = tensorData(dt, [K, 1, 1, family.noise.width]);
  noise.fillNormal(draws.data as Float32Array, 0, 1);
  const epsAll = g.Constant(draws);
  // [batch, W] zeros: μ = 0, log σ² = 0.
  const zeros = g.Mul(g.ReduceSum(g.Mul(x, 0), [1], true), g.Constant(tensorData(dt, [1, W])));
  const opt = tableOptimizer();
  const q0 = start ?? free.names.map(() => zeros);
  const s0 = free.names.flatMap(() => [zeros, zeros]);
  const batchShape = g.Concat([g.ints([1]), g.Slice(g.Shape(x), [0], [1], [0]), g.ints([family.noise.width])], 0);
  const lrV = g.scalar(cfg.refineLr as number, dt);
  const res = g.Loop(g.scalar(K, 'int64'), [...q0, ...s0], (body, iter, c) => {
    const qs = c.slice(0, q0.length);
    const ss = c.slice(q0.length);
    const e = body.Expand(body.Gather(epsAll, iter, 0), batchShape);
    const terms = elboTerms(body, ParamBinder.given(p, dt), cfg, family, x, e, cond, {
      posterior: free.posterior(qs),
      reparameterized: true,
    });
    const loss = body.Neg(body.ReduceSum(terms.elbo));
    const grads = gradients(body, loss, qs);
    const t = body.Add(body.Cast(iter, dt), 1);
    const slots = qs.map((q, j) => ({ name: `q.${free.names[j]}`, value: q, grad: grads[j], state: [ss[2 * j], ss[2 * j + 1]] }));
    const up = applyOptimizer(body, opt, slots, lrV, t).updated;
    return { carried: [...up.map((u) => u.value), ...up.flatMap((u) => u.state)], scans: [] };
  });
  return res.slice(0, q0.length);
}

/** θ's values from a binder (embedded initializers for encoder.onnx, graph inputs for eval.onnx), by name. */
export function generativeValues(g: Graph, cfg: VaeConfig, p: ParamBinder): Record<string, Value> {
  return Object.fromEntries(generativeSpecs(cfg).map((s) => [s.name, p.param(g, s.name, s.shape, s.init)]));
}

/** How an inference mode finds q's free parameters for x, with the model's parameters bound by `p`. */
export type FindPosterior = (g: Graph, p: ParamBinder, x: Value, cond: Record<string, Value>) => Value[];

/** A per-datapoint model's q for a new x: refinement from N(0, I). */
const refineFromPrior: (cfg: VaeConfig) => FindPosterior = (cfg) => (g, p, x, cond) => {
  const { family, free } = freeFamily(cfg);
  return refine(g, cfg, family, free, generativeValues(g, cfg, p), x, cond);
};

/** encoder.onnx of a mode that finds q by `findQ`: x (and the family's inputs) → mu, logvar (weights embedded). */
export function buildFindingEncoder(cfg: VaeConfig, values: Record<string, TensorData>, findQ: FindPosterior, weights?: 'float16'): Graph {
  const { family, free } = freeFamily(cfg);
  const g = new Graph('encoder');
  const x = g.input('x', cfg.dtype, [BATCH, inputSize(cfg)]);
  const cond = familyInputs(g, cfg, family);
  const q = findQ(g, ParamBinder.embedded(values, cfg.dtype, { storage: weights }), x, cond);
  for (const [name, v] of Object.entries(family.encoderOutputs(g, free.posterior(q) as never))) g.output(v, name);
  return g;
}

/**
 * eval.onnx of a mode that finds q by `findQ`, with the amortized eval graph's signature: (x, eps [S, batch, L], the
 * family's inputs, parameters…) → rec, kl, elbo [batch], log_w [S, batch]. q is found first; the refinement is
 * deterministic, so every chunk of samples of one example sees the same q.
 */
export function buildFindingEval(cfg: VaeConfig, samples: number | string, findQ: FindPosterior): Graph {
  const { family, free } = freeFamily(cfg);
  const dt = cfg.dtype;
  const g = new Graph('eval');
  const x = g.input('x', dt, [BATCH, inputSize(cfg)]);
  const eps = g.input('eps', dt, [samples, BATCH, family.noise.width]);
  const cond = familyInputs(g, cfg, family);
  const p = ParamBinder.inputs(dt);
  const q = findQ(g, p, x, cond);
  const t = elboTerms(g, p, cfg, family, x, eps, cond, { posterior: free.posterior(q), form: 'kl' });
  g.output(t.rec, 'rec');
  g.output(t.kl, 'kl');
  g.output(t.elbo, 'elbo');
  g.output(t.logw, 'log_w');
  return g;
}

/** encoder.onnx of a per-datapoint model: x (and the family's inputs) → mu, logvar, by refinement (θ embedded). */
export function buildPerDatapointEncoder(cfg: VaeConfig, values: Record<string, TensorData>, weights?: 'float16'): Graph {
  return buildFindingEncoder(cfg, values, refineFromPrior(cfg), weights);
}

/** eval.onnx of a per-datapoint model: q fitted by refinement from N(0, I), then the bound's terms. */
export function buildPerDatapointEval(cfg: VaeConfig, samples: number | string = 'samples'): Graph {
  return buildFindingEval(cfg, samples, refineFromPrior(cfg));
}

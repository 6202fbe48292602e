/**
 * Semi-amortized inference, `{"inference": "semi-amortized", "refineSteps": K}` (Kim, Wiseman, Miller, Sontag &
 * Rush 2018, "Semi-amortized variational autoencoders"), the stop-gradient variant: the encoder gives q₀ = q_φ(z|x),
 * K Adam steps of the ELBO in q (θ fixed) refine it to q_K, and
 *   θ is trained on ELBO(q_K; θ)           (the decoder learns from the better posterior),
 *   φ is trained on ELBO(q₀; sg(θ))        (the encoder learns to start the refinement well),
 * with q_K a constant for the gradient (no backpropagation through the refinement). encoder.onnx and eval.onnx
 * encode and then refine, as the model is used at test time; the refinement runs inside the graph (ONNX Loop) with
 * the same embedded noise as per-datapoint inference (models/per-datapoint-training.ts).
 */
import { gradients } from '../autodiff/gradients.js';
import { Graph, type Value } from '../ir/graph.js';
import type { TensorData } from '../ir/tensor.js';
import { ParamBinder, type ParamSpec } from '../nn/params.js';
import { applyOptimizer, stateNames } from '../optim/optimizer.js';
import { elboTerms, klPenalty } from './bound.js';
import { inputSize, type VaeConfig } from './config.js';
import type { FreePosterior, LatentFamily } from './families/index.js';
import { BATCH, familyInputs, updatedName } from './graph-io.js';
import { freeFamily, generativeSpecs } from './per-datapoint.js';
import { buildFindingEncoder, buildFindingEval, type FindPosterior, generativeValues, refine } from './per-datapoint-training.js';

export function isSemiAmortized(cfg: VaeConfig): boolean {
  return cfg.inference === 'semi-amortized';
}

/** q's free parameters ([batch, W] each, in the free posterior's order) from the encoder's output. */
function encoderStart(g: Graph, family: LatentFamily, free: FreePosterior<unknown>, q: unknown): Value[] {
  const out = family.encoderOutputs(g, q as never);
  return free.names.map((n) => {
    const v = out[n];
    if (!v) throw new Error(`semi-amortized inference: the encoder gives no '${n}' to start the refinement from`);
    return v;
  });
}

/**
 * train_step of a semi-amortized model, the amortized step's signature (named layout): (x, eps, the family's inputs,
 * step, lr, beta, params…, state…) → (loss, rec, kl, elbo of the refined q, params_new…, state_new…).
 */
export function buildSemiAmortizedTrainStep(cfg: VaeConfig, specs: ParamSpec[]): Graph {
  const { family, free } = freeFamily(cfg);
  const dt = cfg.dtype;
  const g = new Graph('train_step');
  const x = g.input('x', dt, [BATCH, inputSize(cfg)]);
  const eps = g.input('eps', dt, [cfg.samples, BATCH, family.noise.width]);
  const cond = familyInputs(g, cfg, family);
  const step = g.input('step', dt, []);
  const lr = g.input('lr', dt, []);
  const beta = g.input('beta', dt, []);
  const params = specs.map((s) => g.input(s.name, dt, s.shape));
  const states = specs.map((s) => stateNames(cfg.optimizer, s.name).map((n) => g.input(n, dt, s.shape)));
  const theta = new Set(generativeSpecs(cfg).map((s) => s.name));
  const all: Record<string, Value> = {};
  const encoderView: Record<string, Value> = {};
  specs.forEach((s, i) => {
    all[s.name] = params[i];
    encoderView[s.name] = theta.has(s.name) ? g.stopGradient(params[i]) : params[i];
  });
  const gen = Object.fromEntries([...theta].map((n) => [n, all[n]]));
  const form = cfg.objective === 'entropy' ? 'entropy' : 'kl';
  // φ's objective: the ELBO of the encoder's q₀ with θ held constant.
  const t0 = elboTerms(g, ParamBinder.given(encoderView, dt), cfg, family, x, eps, cond, { form, reparameterized: true });
  const q0 = encoderStart(g, family, free, t0.q).map((v) => g.stopGradient(v));
  // θ's objective: the ELBO of q_K (a constant) after K refinement steps from q₀.
  const qK = refine(g, cfg, family, free, gen, x, cond, q0).map((v) => g.stopGradient(v));
  const tK = elboTerms(g, ParamBinder.given(all, dt), cfg, family, x, eps, cond, {
    posterior: free.posterior(qK),
    form,
    reparameterized: true,
  });
  const loss = g.scope('loss', () => {
    const enc = g.Sub(g.Mul(klPenalty(g, cfg, t0, form, cfg.freeBits), beta), g.ReduceMean(t0.rec));
    const dec = g.Sub(g.Mul(klPenalty(g, cfg, tK, form, cfg.freeBits), beta), g.ReduceMean(tK.rec));
    return g.Add(enc, dec);
  });
  const grads = gradients(g, loss, params);
  const slots = specs.map((s, i) => ({ name: s.name, value: params[i], grad: grads[i], state: states[i] }));
  const { updated } = applyOptimizer(g, cfg.optimizer, slots, lr, step);
  g.output(loss, 'loss');
  g.output(g.ReduceMean(tK.rec), 'rec');
  g.output(g.ReduceMean(tK.kl), 'kl');
  g.output(g.ReduceMean(tK.elbo), 'elbo');
  specs.forEach((s, i) => {
    g.output(updated[i].value, updatedName(s.name));
    stateNames(cfg.optimizer, s.name).forEach((n, k) => {
      g.output(updated[i].state[k], updatedName(n));
    });
  });
  return g;
}

/** Encode, then refine: q's free parameters for x. */
const encodeAndRefine: (cfg: VaeConfig) => FindPosterior = (cfg) => (g, p, x, cond) => {
  const { family, free } = freeFamily(cfg);
  const q0 = family.encode(g, p, x, cond);
  return refine(g, cfg, family, free, generativeValues(g, cfg, p), x, cond, encoderStart(g, family, free, q0));
};

/** encoder.onnx of a semi-amortized model: x → mu, logvar of the refined q (weights embedded). */
export function buildSemiAmortizedEncoder(cfg: VaeConfig, values: Record<string, TensorData>, weights?: 'float16'): Graph {
  return buildFindingEncoder(cfg, values, encodeAndRefine(cfg), weights);
}

/** eval.onnx of a semi-amortized model (the amortized signature): the bound's terms for the refined q. */
export function buildSemiAmortizedEval(cfg: VaeConfig, samples: number | string = 'samples'): Graph {
  return buildFindingEval(cfg, samples, encodeAndRefine(cfg));
}

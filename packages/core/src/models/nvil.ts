/**
 * NVIL (Mnih & Gregor 2014, "Neural variational inference and learning in belief networks"): the score-function
 * estimator of the ELBO with an input-dependent baseline, signal centering and variance normalization
 * (`estimator: 'score'`, `baseline: 'nvil'`; 'kl' or 'entropy' objective).
 *
 * With the reward r(x, z) of ./score-function.ts (log p(x|z), or + β·log p(z) in the entropy form), the encoder's
 * learning signal per sample is
 *   A = (r − b_ψ(x) − c) / max(1, √v),
 * where b_ψ(x) is a small MLP of x alone (`nvilBaseline`: D → 100 → 1, tanh, scope 'nvil', so its parameters are
 * the model's `nvil.fc1.weight` … in parameterSpecs and the checkpoint), c is a running mean of r − b_ψ(x) and v a
 * running variance of it (estimator state NVIL_MEAN, NVIL_VAR, updated like the moving-average baseline with decay
 * `baselineDecay` α and Adam-style bias correction). b_ψ, c and v do not depend on z, so E[∇log q(z|x)·A] is the
 * exact gradient divided by max(1, √v) (the normalization is a step size, 1 until the signal's spread exceeds one nat).
 * ψ is trained jointly to minimize ½·mean (r − b_ψ(x) − c)² (r and c constant), added to the loss as t − sg(t) so the
 * reported loss stays −rec + β·KL and only ψ receives its gradient.
 *
 * @example
 * const cfg = resolveConfig({ latentType: 'bernoulli', latent: 16, samples: 1, baseline: 'nvil' });
 * parameterSpecs(cfg).at(-1)?.name; // 'nvil.fc2.bias'
 */
import type { Graph, Value } from '../ir/graph.js';
import { mlp } from '../nn/layers.js';
import type { ParamBinder } from '../nn/params.js';
import { type ElboTerms, elboTerms, type GradientEstimator } from './bound.js';
import { inputSize, type VaeConfig } from './config.js';
import type { Conditions, LatentFamily } from './families/family.js';
import { baselineDecayOf, movingAverageValue, scoreObjective } from './score-function.js';

/** Hidden units of the baseline network b_ψ(x) (the paper's MNIST baseline had one layer of 100). */
export const NVIL_HIDDEN = 100;
/** The scope of b_ψ's parameters: `nvil.fc1.weight`, `nvil.fc1.bias`, `nvil.fc2.weight`, `nvil.fc2.bias`. */
export const NVIL_SCOPE = 'nvil';
/** The estimator's state tensors (shape [1]): running mean c and variance v of r − b_ψ(x). */
export const NVIL_MEAN = 'nvil.signal_mean';
export const NVIL_VAR = 'nvil.signal_var';

/** True for a parameter of an estimator (NVIL's baseline network) rather than of the model's bound. */
export function isEstimatorParam(name: string): boolean {
  return name.startsWith(`${NVIL_SCOPE}.`);
}

/** b_ψ(x) [batch] for x [batch, D]: the input-dependent baseline (built at the graph's top scope). */
export function nvilBaseline(g: Graph, p: ParamBinder, cfg: VaeConfig, x: Value): Value {
  const out = mlp(g, p, NVIL_SCOPE, x, [inputSize(cfg), NVIL_HIDDEN, 1], 'tanh');
  return g.scope(NVIL_SCOPE, () => g.Reshape(out, [-1]));
}

export interface NvilObjective {
  loss: Value;
  terms: ElboTerms;
  /** b_ψ(x), [batch]. */
  baseline: Value;
  /** mean and batch variance of the constant residual r − b_ψ(x) (they update c and v). */
  residualMean: Value;
  residualVar: Value;
}

export interface NvilOptions {
  beta?: Value;
  /** The centering c (bias-corrected running mean), [1]. */
  center: Value;
  /** 1/max(1, √v) (variance normalization), [1]; absent: 1 (the gradient-variance report's unscaled estimator). */
  scale?: Value;
  freeBits?: boolean;
}

/** The NVIL objective for x [batch, D] and noise eps [M, batch, W] (see the file's comment). */
export function nvilObjective(
  g: Graph,
  p: ParamBinder,
  cfg: VaeConfig,
  family: LatentFamily,
  x: Value,
  eps: Value,
  cond: Conditions,
  opts: NvilOptions,
): NvilObjective {
  if (cfg.objective === 'iwae') throw new Error("NVIL estimates the ELBO's gradient ('kl' or 'entropy' objective); for 'iwae' use VIMCO");
  const form = cfg.objective === 'entropy' ? 'entropy' : 'kl';
  const terms = elboTerms(g, p, cfg, family, x, eps, cond, { form, reparameterized: false });
  // After the bound's parameters, so parameterSpecs lists the model first and b_ψ last.
  const b = nvilBaseline(g, p, cfg, x);
  let residual: Value | undefined;
  const o = scoreObjective(g, p, cfg, family, x, eps, cond, {
    beta: opts.beta,
    freeBits: opts.freeBits,
    terms,
    advantage: (reward) => {
      residual = g.Sub(reward, b);
      const centered = g.Sub(residual, opts.center);
      return opts.scale ? g.Mul(centered, opts.scale) : centered;
    },
  });
  return g.scope(NVIL_SCOPE, () => {
    if (!residual) throw new Error('NVIL: the score objective did not ask for the learning signal');
    // ½·mean (r − b_ψ(x) − c)² with r and c constant: only ψ gets its gradient; t − sg(t) keeps the loss's value.
    const target = g.stopGradient(g.Sub(o.reward, opts.center));
    const t = g.Mul(g.ReduceMean(g.Pow(g.Sub(target, b), 2)), 0.5);
    const loss = g.Add(o.loss, g.Sub(t, g.stopGradient(t)));
    const d = g.stopGradient(residual);
    const residualMean = g.ReduceMean(d);
    const residualVar = g.ReduceMean(g.Pow(g.Sub(d, residualMean), 2));
    return { loss, terms, baseline: b, residualMean, residualVar };
  });
}

/** The NVIL train-step estimator: its baseline network as parameters, c and v as carried state. */
export function nvilEstimator(cfg: VaeConfig, family: LatentFamily): GradientEstimator {
  const alpha = baselineDecayOf(cfg);
  return {
    name: 'score',
    stateSpecs: [
      { name: NVIL_MEAN, param: '', shape: [1] },
      { name: NVIL_VAR, param: '', shape: [1] },
    ],
    declareParams: (g, p, x) => {
      nvilBaseline(g, p, cfg, x);
    },
    objective(g, p, { x, eps, cond, step, beta, states }) {
      const dt = cfg.dtype;
      const [cs, vs] = [states[NVIL_MEAN], states[NVIL_VAR]];
      if (!cs || !vs) throw new Error(`NVIL train step: the states '${NVIL_MEAN}' and '${NVIL_VAR}' were not given`);
      const center = movingAverageValue(g, cs, step, alpha, dt);
      const v = movingAverageValue(g, vs, step, alpha, dt);
      const scale = g.scope(NVIL_SCOPE, () => g.Reciprocal(g.Max(g.Sqrt(g.Max(v, g.scalar(0, dt))), g.scalar(1, dt))));
      const o = nvilObjective(g, p, cfg, family, x, eps, cond, { beta, center, scale });
      return {
        loss: o.loss,
        terms: o.terms,
        nextStates: (h) =>
          h.scope(NVIL_SCOPE, () => [
            h.Add(h.Mul(cs, alpha), h.Mul(o.residualMean, 1 - alpha)),
            h.Add(h.Mul(vs, alpha), h.Mul(o.residualVar, 1 - alpha)),
          ]),
      };
    },
  };
}

/**
 * VIMCO (Mnih & Rezende 2016): the multi-sample score-function estimator of the importance-weighted bound's gradient,
 * for latents without reparameterization (`objective: 'iwae'`, `estimator: 'score'`, `baseline: 'vimco'`, K ≥ 2).
 *
 * With K samples z_k ~ q(z|x) (constants for autodiff) and log-weights log w_k = log p(x, z_k) − log q(z_k|x),
 *   L̂ = log (1/K) Σ_k w_k,
 *   ∇L̂ (in expectation) = E[ Σ_k L̂ ∇log q(z_k|x) + Σ_k w̃_k ∇log w_k ],   w̃_k = w_k / Σ_j w_j.
 * The second sum is what autodiff gives for L̂ itself with z held constant (encoder: −Σ_k w̃_k ∇log q(z_k|x); decoder:
 * Σ_k w̃_k ∇log p(x, z_k)). The first is the score term; every sample shares the learning signal L̂, so VIMCO gives
 * each sample its own baseline, the bound with z_k's log-weight replaced by the geometric mean of the others':
 *   L̂_{−k} = log (1/K) ( Σ_{j≠k} w_j + exp( (1/(K − 1)) Σ_{j≠k} log w_j ) ),
 * which does not depend on z_k, so E[L̂_{−k} ∇log q(z_k|x)] = 0 and the estimate stays unbiased with the per-sample
 * signal L̂ − L̂_{−k} (`vimcoSignals`). Without a baseline (signal L̂) or with the moving average of past L̂ this file's
 * objective is the plain score function of the same bound, the comparison point of the variance report.
 *
 * As in ./score-function.ts the gradient comes from a surrogate: the loss −mean_b L̂ plus s − sg(s) with
 * s = −mean_b Σ_k sg(signal_k)·log q(z_k|x), so its value is the IWAE loss and its gradient the estimator's.
 *
 * @example
 * const cfg = resolveConfig({ latentType: 'bernoulli', objective: 'iwae', samples: 5, baseline: 'vimco' });
 * const step = buildTrainStep(cfg); // the encoder follows VIMCO's per-sample learning signals
 */
import type { Graph, Value } from '../ir/graph.js';
import { tensorData } from '../ir/tensor.js';
import type { ParamBinder } from '../nn/params.js';
import { type ElboTerms, elboTerms, type GradientEstimator } from './bound.js';
import type { VaeConfig } from './config.js';
import type { Conditions, LatentFamily } from './families/family.js';
import { BASELINE_STATE, baselineDecayOf, movingAverageValue } from './score-function.js';

/** Baselines of the IWAE score function: none (signal L̂), the moving average of L̂, or VIMCO's leave-one-out. */
export type IwaeBaseline = 'none' | 'moving-average' | 'vimco';

export interface VimcoSignals {
  /** L̂ = log (1/K) Σ_k w_k, [batch]. */
  lhat: Value;
  /** L̂_{−k}: the bound with log w_k replaced by the mean of the other K − 1 log-weights, [K, batch]. */
  leaveOneOut: Value;
  /** L̂ − L̂_{−k}, [K, batch]. */
  signal: Value;
}

/** VIMCO's per-sample learning signals from log-weights [K, batch] (K ≥ 2 and static). */
export function vimcoSignals(g: Graph, logw: Value): VimcoSignals {
  const k = logw.shape[0];
  if (typeof k !== 'number' || k < 2) throw new Error(`VIMCO needs a static sample count K ≥ 2, got log-weights ${logw}`);
  return g.scope('vimco', () => {
    const lhat = g.Sub(g.ReduceLogSumExp(logw, [0], false), Math.log(k));
    // m_k = (Σ_j log w_j − log w_k)/(K − 1), the geometric mean of the other weights (in logs), [K, batch].
    const m = g.Div(g.Sub(g.ReduceSum(logw, [0], true), logw), k - 1);
    // Row k of [K, K, batch]: the K log-weights with the k-th replaced by m_k (Where, so no 0·∞ where a weight is 0).
    const eye = new Float64Array(k * k);
    for (let i = 0; i < k; i++) eye[i * k + i] = 1;
    const diag = g.Greater(g.op1('Constant', [], { value: tensorData(logw.dtype, [k, k, 1], eye) }, { name: 'eye' }), 0.5);
    const rows = g.Where(diag, g.Unsqueeze(m, [1]), g.Unsqueeze(logw, [0]));
    const leaveOneOut = g.Sub(g.ReduceLogSumExp(rows, [1], false), Math.log(k));
    return { lhat, leaveOneOut, signal: g.Sub(g.Unsqueeze(lhat, [0]), leaveOneOut) };
  });
}

export interface IwaeScoreObjective {
  /** −mean_b L̂ in value; its gradient is the estimator's. */
  loss: Value;
  terms: ElboTerms;
  /** L̂ per example, [batch]. */
  lhat: Value;
  /** mean_b L̂ (feeds the moving average). */
  lhatMean: Value;
}

/**
 * The score-function objective of the importance-weighted bound for x [batch, D] and noise eps [K, batch, W]: z drawn
 * as a constant, the learning signal per sample L̂ − b_k with b_k = 0, the moving average (`movingAverage`, [1]), or
 * VIMCO's L̂_{−k}.
 */
export function iwaeScoreObjective(
  g: Graph,
  p: ParamBinder,
  cfg: VaeConfig,
  family: LatentFamily,
  x: Value,
  eps: Value,
  cond: Conditions,
  baseline: IwaeBaseline,
  movingAverage?: Value,
): IwaeScoreObjective {
  const terms = elboTerms(g, p, cfg, family, x, eps, cond, { form: 'kl', reparameterized: false });
  return g.scope('score', () => {
    let lhat: Value;
    let signal: Value;
    if (baseline === 'vimco') {
      const v = vimcoSignals(g, terms.logw);
      lhat = v.lhat;
      signal = v.signal;
    } else {
      const k = eps.shape[0];
      if (typeof k !== 'number') throw new Error(`the IWAE score function needs a static sample count, got eps ${eps}`);
      lhat = g.Sub(g.ReduceLogSumExp(terms.logw, [0], false), Math.log(k));
      signal = g.Unsqueeze(lhat, [0]);
      if (baseline === 'moving-average') {
        if (!movingAverage) throw new Error("IWAE score function: baseline 'moving-average' needs the running average as a value");
        signal = g.Sub(signal, movingAverage);
      }
    }
    const s = g.Neg(g.ReduceMean(g.ReduceSum(g.Mul(terms.logqz, g.stopGradient(signal)), [0])));
    const loss = g.Add(g.Neg(g.ReduceMean(lhat)), g.Sub(s, g.stopGradient(s)));
    return { loss, terms, lhat, lhatMean: g.stopGradient(g.ReduceMean(lhat)) };
  });
}

/** The train step's estimator for `objective: 'iwae'` with the score function (VIMCO, or the plain/moving-average signal). */
export function iwaeScoreEstimator(cfg: VaeConfig, family: LatentFamily): GradientEstimator {
  const kind = (cfg.baseline ?? 'none') as IwaeBaseline;
  const alpha = baselineDecayOf(cfg);
  return {
    name: 'score',
    stateSpecs: kind === 'moving-average' ? [{ name: BASELINE_STATE, param: '', shape: [1] }] : [],
    objective(g, p, { x, eps, cond, step, states }) {
      const stored = states[BASELINE_STATE];
      if (kind === 'moving-average' && !stored) throw new Error(`score-function train step: the state '${BASELINE_STATE}' was not given`);
      const ma = kind === 'moving-average' ? movingAverageValue(g, stored, step, alpha, cfg.dtype) : undefined;
      const o = iwaeScoreObjective(g, p, cfg, family, x, eps, cond, kind, ma);
      return {
        loss: o.loss,
        terms: o.terms,
        nextStates: (h) =>
          kind === 'moving-average' ? [h.scope('score', () => h.Add(h.Mul(stored, alpha), h.Mul(o.lhatMean, 1 - alpha)))] : [],
      };
    },
  };
}

/**
 * The score-function (REINFORCE) estimator of the bound's gradient, for Gaussian and discrete latents.
 *
 * For L(φ, θ) = E_q[f(z)] with z ~ q_φ(z|x) and no reparameterization:
 *   ∇φ E_q[f] = E_q[∇φ log q(z|x) · f(z)]            (∇q = q·∇log q)
 *   ∇θ E_q[f] = E_q[∇θ f(z)]                          (the decoder's gradient needs no reparameterization)
 * estimated with M samples as (1/M) Σ_j ∇φ log q(z_j|x) · (r_j − b_j) + ∇θ log p(x|z_j). The reward r is the part of
 * the integrand whose expectation has no closed form: r = log p(x|z) in the KL form (the analytic KL is
 * differentiated exactly) and r = log p(x|z) + β·log p(z) in the entropy form (analytic H(q)); a family without the
 * closed form (two stochastic layers) has r = log p(x|z) + β·(log p(z) − log q(z|x)) in either form. A baseline b that does
 * not depend on z_j leaves the estimate unbiased, since E_q[∇ log q] = 0, and lowers its variance:
 *   - moving average: b = the running mean of past batches' rewards, b ← α·b + (1 − α)·mean r, carried between steps
 *     as a state tensor like the optimizer's (BASELINE_STATE), read with Adam-style bias correction b/(1 − αⁿ);
 *   - leave-one-out (M > 1): b_j = (1/(M − 1)) Σ_{k≠j} r_k, the other samples' mean for the same example.
 *
 * The graph gets this gradient from a surrogate: z, r and b are constants (stop-gradient), and the loss adds
 * s − sg(s) with s = −mean_j[log q(z_j|x)·(r_j − b_j)], which is 0 in value and ∇s in gradient, so the reported loss
 * stays −rec + β·KL while autodiff differentiates the estimator.
 *
 * Which estimator a model uses follows from its latent family (families/): the score function where the family
 * cannot reparameterize (discrete latents), or where the config asks for it (`estimator: 'score'`).
 *
 * @example
 * const cfg = resolveConfig({ estimator: 'score', baseline: 'leave-one-out', samples: 8 });
 * const step = buildTrainStep(cfg); // its parameter update follows the REINFORCE gradient
 */
import type { Graph, Value } from '../ir/graph.js';
import type { ParamBinder } from '../nn/params.js';
import { type ElboTerms, elboTerms, type GradientEstimator, klPenalty } from './bound.js';
import type { VaeConfig } from './config.js';
import type { Conditions, LatentFamily } from './families/family.js';

/** The ELBO's baselines (this file), NVIL's learned one (./nvil.ts) and VIMCO's for the IWAE bound (./vimco.ts). */
export type Baseline = 'none' | 'moving-average' | 'leave-one-out' | 'nvil' | 'vimco';

/** Name of the moving-average baseline's state tensor (shape [1]) in the train step and the checkpoint. */
export const BASELINE_STATE = 'score.baseline';

export function baselineOf(cfg: VaeConfig): Baseline {
  return cfg.baseline ?? 'none';
}

/** Decay α of the moving-average baseline (default 0.9). */
export function baselineDecayOf(cfg: VaeConfig): number {
  return cfg.baselineDecay ?? 0.9;
}

/**
 * The moving average's value before step t (1-based): with Adam's bias correction b/(1 − α^(t−1)) it is a weighted
 * mean of the past rewards (0 before any).
 */
export function movingAverageValue(g: Graph, stored: Value, step: Value, alpha: number, dt: VaeConfig['dtype']): Value {
  return g.scope('score', () => g.Div(stored, g.Max(g.Sub(1, g.Pow(g.scalar(alpha, dt), g.Sub(step, 1))), g.scalar(1e-12, dt))));
}

/** Per-sample baseline b [M, batch] (or [1]) for the rewards r [M, batch]; undefined for none. */
export function baselineValue(g: Graph, kind: Baseline, reward: Value, movingAverage?: Value): Value | undefined {
  if (kind === 'none') return undefined;
  if (kind === 'nvil' || kind === 'vimco')
    throw new Error(`score-function baseline '${kind}' is its own estimator (${kind === 'nvil' ? './nvil.ts' : './vimco.ts'})`);
  if (kind === 'moving-average') {
    if (!movingAverage) throw new Error("score-function baseline 'moving-average' needs the running average as a value");
    return movingAverage;
  }
  const m = reward.shape[0];
  if (typeof m !== 'number' || m < 2) {
    throw new Error(`leave-one-out baseline needs a static sample count M ≥ 2, got rewards ${reward}`);
  }
  // b_j = (Σ_k r_k − r_j)/(M − 1): independent of z_j, so E[∇log q(z_j)·b_j] = 0.
  return g.Div(g.Sub(g.ReduceSum(reward, [0], true), reward), m - 1);
}

export interface ScoreObjective {
  /** −rec + β·KL (batch mean) in value; its gradient is the score-function estimate. */
  loss: Value;
  /** The bound's terms, z drawn without reparameterization. */
  terms: ElboTerms;
  /** The reward r [M, batch] (constant) and its mean over samples and batch (feeds the moving average). */
  reward: Value;
  rewardMean: Value;
}

export interface ScoreObjectiveOptions {
  /** KL weight β (a scalar value); default 1. */
  beta?: Value;
  /** The baseline to use (default: the config's). */
  baseline?: Baseline;
  /** The moving-average baseline's current (bias-corrected) value, shape [1] or []. */
  movingAverage?: Value;
  /** Apply the config's free bits to the KL term (train steps do; gradient reports do not). Default true. */
  freeBits?: boolean;
  /** The bound's terms when the caller has built them (z drawn without reparameterization); default: built here. */
  terms?: ElboTerms;
  /**
   * The learning signal from the reward r [M, batch] (held constant afterwards), replacing `baseline`: NVIL's
   * (r − b_ψ(x) − c)/max(1, σ) (./nvil.ts).
   */
  advantage?: (reward: Value) => Value;
}

/**
 * The score-function objective for x [batch, D] and noise eps [M, batch, W] (the family's noise): the bound with z
 * drawn as a constant, and the surrogate loss whose gradient is the estimator's.
 */
export function scoreObjective(
  g: Graph,
  p: ParamBinder,
  cfg: VaeConfig,
  family: LatentFamily,
  x: Value,
  eps: Value,
  cond: Conditions,
  opts: ScoreObjectiveOptions = {},
): ScoreObjective {
  if (cfg.objective === 'iwae') throw new Error("the score-function estimator supports the 'kl' and 'entropy' objectives, not 'iwae'");
  const form = cfg.objective === 'entropy' ? 'entropy' : 'kl';
  const terms = opts.terms ?? elboTerms(g, p, cfg, family, x, eps, cond, { form, reparameterized: false });
  return g.scope('score', () => {
    const beta = opts.beta ?? g.scalar(1, terms.logpx.dtype);
    // The reward: the integrand's non-analytic part, held constant. Where the family has no closed-form KL (KL form)
    // or entropy (entropy form), e.g. two stochastic layers, the bound's KL is itself a Monte Carlo estimate
    // mean(log q − log p) at z, and its score term ∇log q·(log p − log q) belongs in the reward too.
    const analytic = form === 'entropy' ? family.entropy !== undefined : terms.klPerDim !== undefined;
    const logRatio = analytic ? undefined : g.Sub(terms.logpz, terms.logqz);
    const reward = g.stopGradient(
      logRatio
        ? g.Add(terms.logpx, g.Mul(logRatio, beta))
        : form === 'entropy'
          ? g.Add(terms.logpx, g.Mul(terms.logpz, beta))
          : terms.logpx,
    );
    const b = opts.advantage ? undefined : baselineValue(g, opts.baseline ?? baselineOf(cfg), reward, opts.movingAverage);
    const advantage = opts.advantage ? g.stopGradient(opts.advantage(reward)) : b ? g.stopGradient(g.Sub(reward, b)) : reward;
    const s = g.Neg(g.ReduceMean(g.Mul(terms.logqz, advantage)));
    const surrogate = g.Sub(s, g.stopGradient(s));
    // Free bits as in the reparameterized step; in the entropy form the −β·H(q) part of β·KL carries the analytic
    // entropy gradient, and log p(z) of a constant z has none.
    const klTerm = klPenalty(g, cfg, terms, form, opts.freeBits === false ? 0 : cfg.freeBits);
    const loss = g.Add(g.Sub(g.Mul(klTerm, beta), g.ReduceMean(terms.rec)), surrogate);
    return { loss, terms, reward, rewardMean: g.ReduceMean(reward) };
  });
}

/**
 * The score-function estimator of a train step: objective and, for the moving-average baseline, the baseline's
 * update (carried after the optimizer state as BASELINE_STATE). Before step t the average has had t − 1 updates
 * from 0.
 */
export function scoreFunctionEstimator(cfg: VaeConfig, family: LatentFamily): GradientEstimator {
  const kind = baselineOf(cfg);
  const alpha = baselineDecayOf(cfg);
  return {
    name: 'score',
    stateSpecs: kind === 'moving-average' ? [{ name: BASELINE_STATE, param: '', shape: [1] }] : [],
    objective(g, p, { x, eps, cond, step, beta, states }) {
      const dt = cfg.dtype;
      let movingAverage: Value | undefined;
      const stored = states[BASELINE_STATE];
      if (kind === 'moving-average') {
        if (!stored) throw new Error(`score-function train step: the state '${BASELINE_STATE}' was not given`);
        movingAverage = movingAverageValue(g, stored, step, alpha, dt);
      }
      const o = scoreObjective(g, p, cfg, family, x, eps, cond, { beta, baseline: kind, movingAverage });
      return {
        loss: o.loss,
        terms: o.terms,
        nextStates: (h) =>
          stored && kind === 'moving-average' ? [h.scope('score', () => h.Add(h.Mul(stored, alpha), h.Mul(o.rewardMean, 1 - alpha)))] : [],
      };
    },
  };
}

/**
 * The score-function (REINFORCE) estimator of the bound's gradient, for Gaussian and discrete latents.
 *
 * For L(φ, θ) = E_q[f(z)] with z ~ q_φ(z|x) and no reparameterization:
 *   ∇φ E_q[f] = E_q[∇φ log q(z|x) · f(z)]            (∇q = q·∇log q)
 *   ∇θ E_q[f] = E_q[∇θ f(z)]                          (the decoder's gradient needs no reparameterization)
 * estimated with M samples as (1/M) Σ_j ∇φ log q(z_j|x) · (r_j − b_j) + ∇θ log p(x|z_j). The reward r is the part of
 * the integrand whose expectation has no closed form: r = log p(x|z) in the KL form (the analytic KL is
 * differentiated exactly) and r = log p(x|z) + β·log p(z) in the entropy form (analytic H(q)). A baseline b that does
 * not depend on z_j leaves the estimate unbiased, since E_q[∇ log q] = 0, and lowers its variance:
 *   - moving average: b = the running mean of past batches' rewards, b ← α·b + (1 − α)·mean r, carried between steps
 *     as a state tensor like the optimizer's (BASELINE_STATE), read with Adam-style bias correction b/(1 − αⁿ);
 *   - leave-one-out (M > 1): b_j = (1/(M − 1)) Σ_{k≠j} r_k, the other samples' mean for the same example.
 *
 * The graph gets this gradient from a surrogate: z, r and b are constants (stop-gradient), and the loss adds
 * s − sg(s) with s = −mean_j[log q(z_j|x)·(r_j − b_j)], which is 0 in value and ∇s in gradient, so the reported loss
 * stays −rec + β·KL while autodiff differentiates the estimator.
 *
 * @example
 * const cfg = resolveConfig({ estimator: 'score', baseline: 'leave-one-out', samples: 8 });
 * const step = buildTrainStep(cfg); // its parameter update follows the REINFORCE gradient
 */
import { gradients } from '../autodiff/gradients.js';
import type { Graph, Value } from '../ir/graph.js';
import { ParamBinder, type ParamSpec } from '../nn/params.js';
import { applyOptimizer, stateNames } from '../optim/optimizer.js';
import type { VaeConfig } from './config.js';
import { discreteLatent, isDiscrete, latentWidth, type StochasticLatent } from './discrete.js';
import { gaussianEntropy, gaussianLogProb, klStandardNormalPerDim, standardNormalLogProb } from './distributions.js';
import { decode, encode, logLikelihood } from './vae.js';

export type Estimator = 'reparam' | 'score';
export type Baseline = 'none' | 'moving-average' | 'leave-one-out';

/** Name of the moving-average baseline's state tensor (shape [1]) in the train step and the checkpoint. */
export const BASELINE_STATE = 'score.baseline';

export function estimatorOf(cfg: VaeConfig): Estimator {
  return cfg.estimator ?? (isDiscrete(cfg) ? 'score' : 'reparam');
}

export function baselineOf(cfg: VaeConfig): Baseline {
  return cfg.baseline ?? 'none';
}

/** Decay α of the moving-average baseline (default 0.9). */
export function baselineDecayOf(cfg: VaeConfig): number {
  return cfg.baselineDecay ?? 0.9;
}

/** True when the train step uses the score-function estimator (always for discrete latents). */
export function usesScoreFunction(cfg: VaeConfig): boolean {
  return estimatorOf(cfg) === 'score';
}

/** Extra state tensors the score-function train step carries (the moving-average baseline), as optimizer state. */
export function scoreStateSpecs(cfg: VaeConfig): { name: string; param: string; shape: number[] }[] {
  return usesScoreFunction(cfg) && baselineOf(cfg) === 'moving-average' ? [{ name: BASELINE_STATE, param: '', shape: [1] }] : [];
}

/**
 * A Gaussian q(z|x) = N(μ, σ²) sampled without reparameterization: z = sg(μ) + sg(σ)·ε is a constant, and
 * log q(z|x) = Σ −½ log 2π − ½ log σ² − (z − μ)²/(2σ²) is differentiated in μ and σ.
 */
export function gaussianScoreLatent(g: Graph, p: ParamBinder, cfg: VaeConfig, x: Value, eps: Value): StochasticLatent {
  const { mu, logvar } = encode(g, p, cfg, x);
  return g.scope('latent', () => {
    const std = g.Exp(g.Mul(g.stopGradient(logvar), 0.5));
    const z = g.stopGradient(g.Add(g.stopGradient(mu), g.Mul(std, eps)));
    return {
      z,
      logq: gaussianLogProb(g, z, mu, logvar),
      logpz: standardNormalLogProb(g, z),
      klPerDim: klStandardNormalPerDim(g, mu, logvar),
      entropy: gaussianEntropy(g, logvar),
    };
  });
}

/** Per-sample baseline b [M, batch] (or [1]) for the rewards r [M, batch]; undefined for none. */
export function baselineValue(g: Graph, kind: Baseline, reward: Value, movingAverage?: Value): Value | undefined {
  if (kind === 'none') return undefined;
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
  /** E_q[log p(x|z)], [batch] */
  rec: Value;
  /** Analytic KL (KL form) or −E[log p(z)] − H(q) (entropy form), [batch] */
  kl: Value;
  elbo: Value;
  /** Importance log-weights log p(x, z) − log q(z|x), [M, batch] */
  logw: Value;
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
}

/**
 * The score-function objective for x [batch, D] and noise eps [M, batch, W] (N(0, 1) for Gaussian latents, U(0, 1)
 * for discrete ones). Builds the encoder, the sample, the decoder and the surrogate loss.
 */
export function scoreObjective(
  g: Graph,
  p: ParamBinder,
  cfg: VaeConfig,
  x: Value,
  eps: Value,
  opts: ScoreObjectiveOptions = {},
): ScoreObjective {
  if (cfg.objective === 'iwae') throw new Error("the score-function estimator supports the 'kl' and 'entropy' objectives, not 'iwae'");
  const lat = isDiscrete(cfg) ? discreteLatent(g, p, cfg, x, eps) : gaussianScoreLatent(g, p, cfg, x, eps);
  const loc = decode(g, p, { ...cfg, latent: latentWidth(cfg) }, lat.z);
  const logpx = logLikelihood(g, p, cfg, x, loc);
  return g.scope('score', () => {
    const dt = logpx.dtype;
    const beta = opts.beta ?? g.scalar(1, dt);
    const entropyForm = cfg.objective === 'entropy';
    const rec = g.ReduceMean(logpx, [0]);
    const klSum = g.ReduceSum(lat.klPerDim, [-1]);
    const kl = entropyForm ? g.Sub(g.Neg(g.ReduceMean(lat.logpz, [0])), lat.entropy) : klSum;
    // The reward: the integrand's non-analytic part, held constant.
    const reward = g.stopGradient(entropyForm ? g.Add(logpx, g.Mul(lat.logpz, beta)) : logpx);
    const b = baselineValue(g, opts.baseline ?? baselineOf(cfg), reward, opts.movingAverage);
    const advantage = b ? g.stopGradient(g.Sub(reward, b)) : reward;
    const s = g.Neg(g.ReduceMean(g.Mul(lat.logq, advantage)));
    const surrogate = g.Sub(s, g.stopGradient(s));
    let klTerm: Value;
    const lambda = opts.freeBits === false ? 0 : cfg.freeBits;
    if (lambda > 0) {
      // Free bits, as in the reparameterized step: each dim's batch-mean KL counts at least λ nats.
      klTerm = entropyForm
        ? g.Max(g.ReduceMean(kl), g.scalar(lambda * cfg.latent, dt))
        : g.ReduceSum(g.Max(g.ReduceMean(lat.klPerDim, [0]), g.scalar(lambda, dt)));
    } else klTerm = g.ReduceMean(kl);
    // In the entropy form the −β·H(q) part of β·KL carries the analytic entropy gradient; log p(z) has none.
    const loss = g.Add(g.Sub(g.Mul(klTerm, beta), g.ReduceMean(rec)), surrogate);
    return {
      loss,
      rec,
      kl,
      elbo: g.Sub(rec, kl),
      logw: g.Sub(g.Add(logpx, lat.logpz), lat.logq),
      reward,
      rewardMean: g.ReduceMean(reward),
    };
  });
}

/** What one train step returns (the same shape as graphs.ts's step body). */
export interface ScoreStepValues {
  metrics: Value[];
  params: Value[];
  states: Value[];
}

/**
 * One training step with the score-function estimator: objective, gradients, optimizer update and, for the
 * moving-average baseline, the baseline's update (appended after the optimizer state, as scoreStateSpecs lists it).
 * `t` is the 1-based step number: before step t the average has had t − 1 updates from 0.
 */
export function scoreStepBody(
  g: Graph,
  cfg: VaeConfig,
  x: Value,
  eps: Value,
  t: Value,
  lr: Value,
  beta: Value,
  params: Record<string, Value>,
  states: Record<string, Value>,
  specs: readonly ParamSpec[],
): ScoreStepValues {
  const p = ParamBinder.given(params, cfg.dtype);
  const dt = cfg.dtype;
  const kind = baselineOf(cfg);
  const alpha = baselineDecayOf(cfg);
  let movingAverage: Value | undefined;
  const stored = states[BASELINE_STATE];
  if (kind === 'moving-average') {
    if (!stored) throw new Error(`score-function train step: the state '${BASELINE_STATE}' was not given`);
    // Bias correction as in Adam: b/(1 − α^(t−1)) is a weighted mean of the past rewards (0 before any).
    movingAverage = g.scope('score', () => g.Div(stored, g.Max(g.Sub(1, g.Pow(g.scalar(alpha, dt), g.Sub(t, 1))), g.scalar(1e-12, dt))));
  }
  const o = scoreObjective(g, p, cfg, x, eps, { beta, baseline: kind, movingAverage });
  const paramValues = specs.map((s) => params[s.name]);
  const grads = gradients(g, o.loss, paramValues);
  const slots = specs.map((s, i) => ({
    name: s.name,
    value: paramValues[i],
    grad: grads[i],
    state: stateNames(cfg.optimizer, s.name).map((n) => states[n]),
  }));
  const { updated } = applyOptimizer(g, cfg.optimizer, slots, lr, t);
  const extra =
    stored && kind === 'moving-average' ? [g.scope('score', () => g.Add(g.Mul(stored, alpha), g.Mul(o.rewardMean, 1 - alpha)))] : [];
  const metrics = [o.loss, g.ReduceMean(o.rec), g.ReduceMean(o.kl), g.ReduceMean(o.elbo)];
  return { metrics, params: updated.map((u) => u.value), states: [...updated.flatMap((u) => u.state), ...extra] };
}

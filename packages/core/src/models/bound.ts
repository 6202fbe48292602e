/**
 * The bound, once for every latent family (families/), and what the gradient estimators share: the step's inputs,
 * the objective they return, and the KL term with free bits.
 *
 * KL form: E_q[log p(x|z)] − KL(q ‖ p), KL analytic where the family has it.
 * Entropy form: E_q[log p(x|z) + log p(z)] + H(q), so KL is estimated as −E_q[log p(z)] − H(q).
 * Importance log-weights log w = log p(x, z) − log q(z|x) for IWAE and log p(x) estimates.
 */
import type { Graph, Value } from '../ir/graph.js';
import type { ParamBinder } from '../nn/params.js';
import type { VaeConfig } from './config.js';
import type { Conditions, LatentFamily, LatentSample } from './families/family.js';
import { logLikelihood } from './vae.js';

export type BoundForm = 'kl' | 'entropy';

/** The bound's terms, per example and in nats, for any family (Q: q's parameters). */
export interface ElboTerms<Q = unknown> {
  /** q's parameters (μ, log σ² or logits). */
  q: Q;
  /** The sample the decoder took, [M, batch, W]. */
  z: Value;
  /** log p(x|z), [M, batch] */
  logpx: Value;
  /** log p(z), [M, batch] */
  logpz: Value;
  /** log q(z|x), [M, batch] */
  logqz: Value;
  /** Reconstruction term E_q[log p(x|z)] (mean over the M samples), [batch] */
  rec: Value;
  /** KL(q(z|x) ‖ p(z)): analytic (KL form) or its Monte Carlo estimate (entropy form), [batch] */
  kl: Value;
  /** Analytic KL per latent dim, [batch, L] (free bits use it); absent where the family has no closed form. */
  klPerDim?: Value;
  /** The ELBO per example, nats: rec − kl. [batch] */
  elbo: Value;
  /** Importance log-weights log p(x, z) − log q(z|x), [M, batch]. */
  logw: Value;
}

export interface ElboOptions<Q> {
  /** Default 'kl'. */
  form?: BoundForm;
  /** Draw z by reparameterization (default: where the family can); false makes z a constant (score function). */
  reparameterized?: boolean;
  /** q's parameters when they are given (per-datapoint inference) rather than encoded from x. */
  posterior?: Q;
}

/**
 * The bound's terms for x [batch, D], noise ε [M, batch, W] and the family's extra inputs. Parameter names come
 * from the module scopes (encoder., decoder., likelihood., prior.), so only the arithmetic of the bound is built in
 * the 'elbo' scope: the same names then appear in every graph.
 */
export function elboTerms<Q, S extends LatentSample, P>(
  g: Graph,
  p: ParamBinder,
  cfg: VaeConfig,
  family: LatentFamily<Q, S, P>,
  x: Value,
  eps: Value,
  cond: Conditions,
  opts: ElboOptions<Q> = {},
): ElboTerms<Q> {
  // Conditions the family derives from x itself (a structured-output model's observed part).
  const c = family.derive ? { ...cond, ...family.derive(g, x) } : cond;
  const q = opts.posterior ?? family.encode(g, p, x, c);
  const s = family.sample(g, p, q, eps, opts.reparameterized ?? family.reparameterizable);
  const loc = family.decode(g, p, s.z, c);
  const logpx = logLikelihood(g, p, cfg, x, loc, family.likelihoodMask?.(g));
  const prior = family.prior(g, p, s, c);
  return g.scope('elbo', () => {
    const logpz = family.logPrior(g, s, prior);
    const logqz = family.logQ(g, q, s);
    const rec = g.ReduceMean(logpx, [0]);
    const klPerDim = family.klPerDim?.(g, q, prior);
    let kl: Value;
    if ((opts.form ?? 'kl') === 'kl') {
      kl = klPerDim ? g.ReduceSum(klPerDim, [-1]) : g.ReduceMean(g.Sub(logqz, logpz), [0]);
    } else {
      const negLogpz = g.Neg(g.ReduceMean(logpz, [0]));
      kl = family.entropy ? g.Sub(negLogpz, family.entropy(g, q)) : g.Add(negLogpz, g.ReduceMean(logqz, [0]));
    }
    const elbo = g.Sub(rec, kl);
    const logw = g.Sub(g.Add(logpx, logpz), logqz);
    return { q, z: s.z, logpx, logpz, logqz, rec, kl, klPerDim, elbo, logw };
  });
}

/**
 * The KL term of a loss, a scalar: the batch mean of KL, or with free bits λ > 0 each latent dim's batch-mean KL
 * counted as at least λ nats (so dims are not pushed to collapse); without a per-dim KL (entropy form, or no
 * closed form) the total counts as at least λ·L.
 */
export function klPenalty(g: Graph, cfg: VaeConfig, terms: ElboTerms, form: BoundForm, lambda: number): Value {
  if (!(lambda > 0)) return g.ReduceMean(terms.kl);
  const perDim = form === 'kl' && terms.klPerDim ? g.ReduceMean(terms.klPerDim, [0]) : undefined;
  return perDim
    ? g.ReduceSum(g.Max(perDim, g.scalar(lambda, cfg.dtype)))
    : g.Max(g.ReduceMean(terms.kl), g.scalar(lambda * cfg.latent, cfg.dtype));
}

/** The name of the gradient estimator: pathwise (reparameterization) or the score function (REINFORCE). */
export type Estimator = 'reparam' | 'score';

/** A carried state tensor of the train step (optimizer state, or an estimator's such as a running baseline). */
export interface StateSpec {
  name: string;
  param: string;
  shape: number[];
}

/** One training step's inputs as graph values (the plain train step's inputs, or a Loop body's copies of them). */
export interface StepInputs {
  /** [batch, D] */
  x: Value;
  /** [M, batch, W] */
  eps: Value;
  /** The family's extra inputs ({ y } for a conditional model). */
  cond: Conditions;
  /** 1-based number of this update. */
  step: Value;
  lr: Value;
  /** KL weight β. */
  beta: Value;
  params: Record<string, Value>;
  /** Optimizer state and the estimator's own state, by name. */
  states: Record<string, Value>;
}

/** What an estimator makes of one step's inputs: the loss to differentiate and the bound's terms. */
export interface StepObjective {
  /** −ELBO-like scalar (batch mean) whose gradient is the estimator's. */
  loss: Value;
  terms: ElboTerms;
  /** New values of the estimator's own state (GradientEstimator.stateSpecs), built after the optimizer's update. */
  nextStates(g: Graph): Value[];
}

/** A gradient estimator for the train step: pathwise (./estimators.ts) or score function (./score-function.ts). */
export interface GradientEstimator {
  readonly name: Estimator;
  /** State it carries between steps besides the optimizer's (the moving-average baseline). */
  readonly stateSpecs: StateSpec[];
  /** Parameters of its own (NVIL's baseline network), declared after the bound's: parameterSpecs and the checkpoint. */
  declareParams?(g: Graph, p: ParamBinder, x: Value): void;
  objective(g: Graph, p: ParamBinder, inputs: StepInputs): StepObjective;
}

/**
 * VAEs with discrete latents, trained with the score-function estimator (models/score-function.ts).
 * - Bernoulli: L independent bits, q(z|x) = Π Bern(z_i; σ(l_i)), prior Bern(0.5). Sampled from uniform noise u:
 *   z_i = [u_i < σ(l_i)].
 * - Categorical: G = `latent` groups of K = `categories` classes, q(z|x) = Π_g Cat(z_g; softmax(l_g)), prior
 *   uniform. Sampled by Gumbel-max: z_g = one-hot(argmax_k l_gk − log(−log u_gk)); z is fed to the decoder one-hot.
 * The noise u ~ U(0, 1) is the graphs' `eps` input (drawn by the host PRNG), shaped [M, batch, latentWidth(cfg)], so
 * the Trainer and Evaluator feed it like the Gaussian noise. KL(q ‖ p) is analytic for both.
 *
 * @example
 * const cfg = resolveConfig({ latentType: 'categorical', latent: 4, categories: 10, samples: 4, baseline: 'leave-one-out' });
 * const bundle = await createBundle(cfg, initialState(cfg, 0)); // eps [4, batch, 40] of uniforms
 */
import type { Graph, Value } from '../ir/graph.js';
import { tensorData } from '../ir/tensor.js';
import { linear } from '../nn/layers.js';
import type { ParamBinder } from '../nn/params.js';
import type { Prng } from '../random/prng.js';
import type { VaeConfig } from './config.js';
import { bernoulliLogProb } from './distributions.js';
import { decode, encoderFeatures, logLikelihood } from './vae.js';

export type LatentType = 'gaussian' | 'bernoulli' | 'categorical';

export function latentTypeOf(cfg: VaeConfig): LatentType {
  return cfg.latentType ?? 'gaussian';
}

export function isDiscrete(cfg: VaeConfig): boolean {
  return latentTypeOf(cfg) !== 'gaussian';
}

/** Classes per categorical group (default 10). */
export function categoriesOf(cfg: VaeConfig): number {
  return cfg.categories ?? 10;
}

/** Values per example of the noise eps and of the decoder's input z: L, or G·K for categorical latents (one-hot). */
export function latentWidth(cfg: VaeConfig): number {
  return latentTypeOf(cfg) === 'categorical' ? cfg.latent * categoriesOf(cfg) : cfg.latent;
}

/** Fills the noise a graph's `eps` input takes: N(0, 1) for Gaussian latents, U(0, 1) for discrete ones. */
export function fillLatentNoise<T extends Float32Array | Float64Array>(cfg: VaeConfig, prng: Prng, out: T): T {
  return isDiscrete(cfg) ? prng.fillUniform(out) : prng.fillNormal(out);
}

/** A discrete model's prior, as the Sampler draws from it: Bernoulli(½) bits, or uniform one-hot groups of K. */
export type DiscretePrior = { type: 'bernoulli' } | { type: 'categorical'; categories: number };

/**
 * What a Sampler needs to know of the latent: the decoder's input width, and the discrete prior if there is one.
 * @example new Sampler(ort, decoder, encoder, { ...samplerLatent(cfg), outputSize: 784 })
 */
export function samplerLatent(cfg: VaeConfig): { latent: number; discrete?: DiscretePrior } {
  const t = latentTypeOf(cfg);
  if (t === 'gaussian') return { latent: cfg.latent };
  return {
    latent: latentWidth(cfg),
    discrete: t === 'bernoulli' ? { type: 'bernoulli' } : { type: 'categorical', categories: categoriesOf(cfg) },
  };
}

/** Fills z (n × W values) with draws from a discrete prior: fair bits, or one uniformly chosen class per group. */
export function fillDiscretePrior(prior: DiscretePrior, prng: Prng, z: Float32Array): Float32Array {
  if (prior.type === 'bernoulli') {
    for (let i = 0; i < z.length; i++) z[i] = prng.uniform() < 0.5 ? 1 : 0;
    return z;
  }
  const k = prior.categories;
  if (z.length % k !== 0) throw new Error(`fillDiscretePrior: ${z.length} values are not whole groups of ${k} classes`);
  z.fill(0);
  for (let g = 0; g < z.length; g += k) z[g + prng.int(k)] = 1;
  return z;
}

/** The sampled latent and the pieces of the bound that depend on q (shared with the Gaussian score-function path). */
export interface StochasticLatent {
  /** The sample, [M, batch, W]: a constant for autodiff (no reparameterization). */
  z: Value;
  /** log q(z|x) of that sample, [M, batch]: differentiable in the encoder's parameters. */
  logq: Value;
  /** log p(z) under the prior, [M, batch] (a constant for the discrete priors). */
  logpz: Value;
  /** Analytic KL(q(z|x) ‖ p(z)) per latent dim (bit or group), [batch, L]. */
  klPerDim: Value;
  /** Analytic entropy H(q(z|x)), [batch]. */
  entropy: Value;
}

/** Encoder of a discrete VAE: x [batch, D] → logits [batch, W] (per bit, or per group and class). */
export function discreteEncode(g: Graph, p: ParamBinder, cfg: VaeConfig, x: Value): Value {
  return g.scope('encoder', () => {
    const { h, width } = encoderFeatures(g, p, cfg, x);
    return linear(g, p, 'logits', h, width, latentWidth(cfg));
  });
}

/** Categorical logits [..., G·K] → log-probabilities, normalized within each group of K, same shape. */
function groupLogSoftmax(g: Graph, cfg: VaeConfig, logits: Value): Value {
  const k = categoriesOf(cfg);
  return g.Reshape(g.LogSoftmax(g.Reshape(logits, [0, cfg.latent, k]), -1), [0, cfg.latent * k]);
}

/**
 * KL(q ‖ p) per latent dim, [batch, L]. Bernoulli, q = σ(l): log 2 + q·log q + (1 − q)·log(1 − q) with
 * log q = −softplus(−l), log(1 − q) = −softplus(l) (stable for any logit). Categorical: log K + Σ_k q_k log q_k.
 */
export function discreteKlPerDim(g: Graph, cfg: VaeConfig, logits: Value): Value {
  if (latentTypeOf(cfg) === 'bernoulli') {
    const q = g.Sigmoid(logits);
    const negEntropy = g.Neg(g.Add(g.Mul(q, g.Softplus(g.Neg(logits))), g.Mul(g.Sub(1, q), g.Softplus(logits))));
    return g.Add(negEntropy, Math.log(2));
  }
  const k = categoriesOf(cfg);
  const logq = g.LogSoftmax(g.Reshape(logits, [0, cfg.latent, k]), -1);
  return g.Add(g.ReduceSum(g.Mul(g.Exp(logq), logq), [-1]), Math.log(k));
}

/**
 * z from the noise u [M, batch, W] and logits [batch, W], as a constant for autodiff. Bernoulli: z = [u < σ(l)].
 * Categorical: the Gumbel-max trick, argmax_k (l_k + g_k) with g_k = −log(−log u_k) ~ Gumbel(0, 1), is a draw from
 * softmax(l); u is clamped away from 0 so g stays finite.
 */
export function sampleDiscrete(g: Graph, cfg: VaeConfig, logits: Value, u: Value): Value {
  const l = g.stopGradient(logits);
  if (latentTypeOf(cfg) === 'bernoulli') return g.stopGradient(g.Cast(g.Less(u, g.Sigmoid(l)), l.dtype));
  const k = categoriesOf(cfg);
  const gumbel = g.Neg(g.Log(g.Neg(g.Log(g.Max(u, g.scalar(1e-30, u.dtype))))));
  // [M, batch, G·K] → [M, batch, G, K] (0 copies a dim, so symbolic sample and batch dims keep their names).
  const scores = g.Reshape(g.Add(l, gumbel), [0, 0, cfg.latent, k]);
  const idx = g.ArgMax(scores, -1, true);
  const classes = g.ints(Array.from({ length: k }, (_, i) => i));
  const oneHot = g.Cast(g.Equal(idx, classes), l.dtype);
  return g.stopGradient(g.Reshape(oneHot, [0, 0, cfg.latent * k]));
}

/** log q(z|x) for a sampled z [M, batch, W] (bits or one-hot groups), summed over the latent: [M, batch]. */
export function discreteLogProb(g: Graph, cfg: VaeConfig, logits: Value, z: Value): Value {
  if (latentTypeOf(cfg) === 'bernoulli') return bernoulliLogProb(g, z, logits);
  return g.ReduceSum(g.Mul(z, groupLogSoftmax(g, cfg, logits)), [-1]);
}

/** log p(z) of the uniform priors: −L·log 2 (Bernoulli(0.5) bits) or −G·log K (uniform categoricals). */
export function discretePriorLogProb(cfg: VaeConfig): number {
  return latentTypeOf(cfg) === 'bernoulli' ? -cfg.latent * Math.log(2) : -cfg.latent * Math.log(categoriesOf(cfg));
}

/** The discrete latent for x [batch, D] and noise u [M, batch, W]: encoder, sample, log q, log p and analytic KL. */
export function discreteLatent(g: Graph, p: ParamBinder, cfg: VaeConfig, x: Value, u: Value): StochasticLatent & { logits: Value } {
  const logits = discreteEncode(g, p, cfg, x);
  return g.scope('latent', () => {
    const z = sampleDiscrete(g, cfg, logits, u);
    const logq = discreteLogProb(g, cfg, logits, z);
    const logp0 = discretePriorLogProb(cfg);
    const logpz = g.ConstantOfShape(g.Shape(logq), tensorData(logq.dtype, [1], [logp0]));
    const klPerDim = discreteKlPerDim(g, cfg, logits);
    // The priors are uniform, so H(q) = −E_q[log p(z)] − KL = −log p(z) − KL.
    const entropy = g.Sub(g.scalar(-logp0, logits.dtype), g.ReduceSum(klPerDim, [-1]));
    return { logits, z, logq, logpz, klPerDim, entropy };
  });
}

/** The bound's terms for a discrete VAE (the eval graph's outputs): all per example, nats. */
export interface DiscreteElboTerms {
  logits: Value;
  z: Value;
  /** log p(x|z), [M, batch] */
  logpx: Value;
  logpz: Value;
  logqz: Value;
  /** E_q[log p(x|z)] over the M samples, [batch] */
  rec: Value;
  /** Analytic KL(q ‖ p), [batch] */
  kl: Value;
  klPerDim: Value;
  elbo: Value;
  /** Importance log-weights log p(x, z) − log q(z|x), [M, batch] */
  logw: Value;
}

/** rec, analytic KL, ELBO and importance log-weights of a discrete VAE for x [batch, D] and noise u [M, batch, W]. */
export function discreteElboTerms(g: Graph, p: ParamBinder, cfg: VaeConfig, x: Value, u: Value): DiscreteElboTerms {
  const lat = discreteLatent(g, p, cfg, x, u);
  const loc = decode(g, p, { ...cfg, latent: latentWidth(cfg) }, lat.z);
  const logpx = logLikelihood(g, p, cfg, x, loc);
  return g.scope('elbo', () => {
    const rec = g.ReduceMean(logpx, [0]);
    const kl = g.ReduceSum(lat.klPerDim, [-1]);
    return {
      logits: lat.logits,
      z: lat.z,
      logpx,
      logpz: lat.logpz,
      logqz: lat.logq,
      rec,
      kl,
      klPerDim: lat.klPerDim,
      elbo: g.Sub(rec, kl),
      logw: g.Sub(g.Add(logpx, lat.logpz), lat.logq),
    };
  });
}

/**
 * Mean and log-variance of q's per-element distribution, [batch, W] (what encoder.onnx reports as mu and logvar):
 * E[z] = q and Var[z] = q(1 − q) for a bit or a one-hot component with probability q.
 */
export function discreteMoments(g: Graph, cfg: VaeConfig, logits: Value): { mean: Value; logvar: Value } {
  if (latentTypeOf(cfg) === 'bernoulli') {
    // log q(1 − q) = −softplus(−l) − softplus(l)
    return { mean: g.Sigmoid(logits), logvar: g.Neg(g.Add(g.Softplus(g.Neg(logits)), g.Softplus(logits))) };
  }
  const logq = groupLogSoftmax(g, cfg, logits);
  const q = g.Exp(logq);
  return { mean: q, logvar: g.Add(logq, g.Log(g.Max(g.Sub(1, q), g.scalar(1e-30, q.dtype)))) };
}

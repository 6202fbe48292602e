/**
 * Categorical latents: G = `latent` groups of K = `categories` classes, q(z|x) = Π_g Cat(z_g; softmax(l_g)), prior
 * uniform, analytic KL and entropy. z is fed to the decoder one-hot, [M, batch, G·K]. No reparameterization: z is
 * drawn by Gumbel-max from uniform noise u (the graphs' `eps`, U(0, 1), [M, batch, G·K]), a constant for autodiff,
 * and trained with the score-function estimator (../score-function.ts).
 *
 * @example
 * const cfg = resolveConfig({ latentType: 'categorical', latent: 4, categories: 10, samples: 4, baseline: 'leave-one-out' });
 * const bundle = await createBundle(cfg, initialState(cfg, 0)); // eps [4, batch, 40] of uniforms
 */
import type { Graph, Value } from '../../ir/graph.js';
import type { VaeConfig } from '../config.js';
import { constantLogProb } from '../distributions.js';
import { decode, encodeLogits, type Logits } from '../vae.js';
import type { LatentFamily, LatentSample } from './family.js';

/** Classes per categorical group (default 10). */
export function categoriesOf(cfg: VaeConfig): number {
  return cfg.categories ?? 10;
}

/** A one-hot sample and its log q, computed together. */
export interface CategoricalSample extends LatentSample {
  logq: Value;
}

/** Logits [..., G·K] → log-probabilities, normalized within each group of K, same shape. */
export function groupLogSoftmax(g: Graph, groups: number, k: number, logits: Value): Value {
  return g.Reshape(g.LogSoftmax(g.Reshape(logits, [0, groups, k]), -1), [0, groups * k]);
}

/** KL(Cat(q) ‖ Uniform(K)) per group, [batch, G]: log K + Σ_k q_k log q_k. */
export function categoricalKlPerDim(g: Graph, groups: number, k: number, logits: Value): Value {
  const logq = g.LogSoftmax(g.Reshape(logits, [0, groups, k]), -1);
  return g.Add(g.ReduceSum(g.Mul(g.Exp(logq), logq), [-1]), Math.log(k));
}

/**
 * One-hot z [M, batch, G·K] from u [M, batch, G·K] and logits [batch, G·K], constant for autodiff: the Gumbel-max
 * trick, argmax_k (l_k + g_k) with g_k = −log(−log u_k) ~ Gumbel(0, 1), is a draw from softmax(l); u is clamped away
 * from 0 so g stays finite.
 */
export function categoricalSample(g: Graph, groups: number, k: number, logits: Value, u: Value): Value {
  const l = g.stopGradient(logits);
  const gumbel = g.Neg(g.Log(g.Neg(g.Log(g.Max(u, g.scalar(1e-30, u.dtype))))));
  // [M, batch, G·K] → [M, batch, G, K] (0 copies a dim, so symbolic sample and batch dims keep their names).
  const scores = g.Reshape(g.Add(l, gumbel), [0, 0, groups, k]);
  const idx = g.ArgMax(scores, -1, true);
  const classes = g.ints(Array.from({ length: k }, (_, i) => i));
  const oneHot = g.Cast(g.Equal(idx, classes), l.dtype);
  return g.stopGradient(g.Reshape(oneHot, [0, 0, groups * k]));
}

export function categoricalFamily(cfg: VaeConfig): LatentFamily<Logits, CategoricalSample, undefined> {
  const groups = cfg.latent;
  const k = categoriesOf(cfg);
  const width = groups * k;
  // log p(z) = −G·log K for every z.
  const logp0 = -groups * Math.log(k);
  const klPerDim = (g: Graph, q: Logits) => categoricalKlPerDim(g, groups, k, q.logits);
  return {
    name: 'categorical',
    noise: { width, distribution: 'uniform' },
    reparameterizable: false,
    inputs: [],
    decoderInput: { width, discrete: { type: 'categorical', categories: k } },
    encode: (g, p, x) => encodeLogits(g, p, cfg, x, width),
    sample: (g, _p, q, u) =>
      g.scope('latent', () => {
        const z = categoricalSample(g, groups, k, q.logits, u);
        const logq = g.ReduceSum(g.Mul(z, groupLogSoftmax(g, groups, k, q.logits)), [-1]);
        return { z, eps: u, reparameterized: false, logq };
      }),
    logQ: (_g, _q, s) => s.logq,
    // The prior is uniform, so H(q) = −log p(z) − KL(q ‖ p).
    entropy: (g, q) => g.Sub(g.scalar(-logp0, q.logits.dtype), g.ReduceSum(klPerDim(g, q), [-1])),
    // Mean and log-variance of each one-hot component with probability q: E[z] = q, Var[z] = q(1 − q).
    encoderOutputs: (g, { logits }) => {
      const logq = groupLogSoftmax(g, groups, k, logits);
      const q = g.Exp(logq);
      return { mu: q, logvar: g.Add(logq, g.Log(g.Max(g.Sub(1, q), g.scalar(1e-30, q.dtype)))), logits };
    },
    prior: () => undefined,
    logPrior: (g, s) => constantLogProb(g, s.logq, logp0),
    klPerDim,
    decode: (g, p, z) => decode(g, p, { ...cfg, latent: width }, z),
  };
}

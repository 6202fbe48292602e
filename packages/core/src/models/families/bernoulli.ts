/**
 * Bernoulli latents: L independent bits, q(z|x) = Π Bern(z_i; σ(l_i)), prior Bern(½) per bit, analytic KL and
 * entropy. No reparameterization: z is sampled from uniform noise u (the graphs' `eps`, U(0, 1)) as z_i = [u_i < σ(l_i)],
 * a constant for autodiff, and trained with the score-function estimator (../score-function.ts).
 *
 * @example
 * const cfg = resolveConfig({ latentType: 'bernoulli', latent: 16, samples: 4, baseline: 'leave-one-out' });
 * const bundle = await createBundle(cfg, initialState(cfg, 0)); // eps [4, batch, 16] of uniforms
 */
import type { Graph, Value } from '../../ir/graph.js';
import type { VaeConfig } from '../config.js';
import { bernoulliLogProb, constantLogProb } from '../distributions.js';
import { decode, encodeLogits, type Logits } from '../vae.js';
import type { LatentFamily, LatentSample } from './family.js';

/** A sample of bits and its log q, computed together. */
export interface BernoulliSample extends LatentSample {
  logq: Value;
}

/**
 * KL(Bern(q) ‖ Bern(½)) per bit, [batch, L]: log 2 + q·log q + (1 − q)·log(1 − q) with log q = −softplus(−l),
 * log(1 − q) = −softplus(l) (stable for any logit).
 */
export function bernoulliKlPerDim(g: Graph, logits: Value): Value {
  const q = g.Sigmoid(logits);
  const negEntropy = g.Neg(g.Add(g.Mul(q, g.Softplus(g.Neg(logits))), g.Mul(g.Sub(1, q), g.Softplus(logits))));
  return g.Add(negEntropy, Math.log(2));
}

/** z = [u < σ(l)] from u [M, batch, L] and logits [batch, L]: a draw from q, constant for autodiff. */
export function bernoulliSample(g: Graph, logits: Value, u: Value): Value {
  const l = g.stopGradient(logits);
  return g.stopGradient(g.Cast(g.Less(u, g.Sigmoid(l)), l.dtype));
}

export function bernoulliFamily(cfg: VaeConfig): LatentFamily<Logits, BernoulliSample, undefined> {
  const bits = cfg.latent;
  // log p(z) = −L·log 2 for every z.
  const logp0 = -bits * Math.log(2);
  const klPerDim = (g: Graph, q: Logits) => bernoulliKlPerDim(g, q.logits);
  return {
    name: 'bernoulli',
    noise: { width: bits, distribution: 'uniform' },
    reparameterizable: false,
    inputs: [],
    decoderInput: { width: bits, discrete: { type: 'bernoulli' } },
    encode: (g, p, x) => encodeLogits(g, p, cfg, x, bits),
    sample: (g, _p, q, u) =>
      g.scope('latent', () => {
        const z = bernoulliSample(g, q.logits, u);
        return { z, eps: u, reparameterized: false, logq: bernoulliLogProb(g, z, q.logits) };
      }),
    logQ: (_g, _q, s) => s.logq,
    // The prior is uniform, so H(q) = −log p(z) − KL(q ‖ p).
    entropy: (g, q) => g.Sub(g.scalar(-logp0, q.logits.dtype), g.ReduceSum(klPerDim(g, q), [-1])),
    // Mean and log-variance of each bit, E[z] = q and Var[z] = q(1 − q), with log q(1 − q) = −softplus(−l) − softplus(l).
    encoderOutputs: (g, { logits }) => ({
      mu: g.Sigmoid(logits),
      logvar: g.Neg(g.Add(g.Softplus(g.Neg(logits)), g.Softplus(logits))),
      logits,
    }),
    prior: () => undefined,
    logPrior: (g, s) => constantLogProb(g, s.logq, logp0),
    klPerDim,
    decode: (g, p, z) => decode(g, p, cfg, z),
  };
}

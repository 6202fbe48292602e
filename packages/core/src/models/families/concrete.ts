/**
 * The Concrete / Gumbel-softmax relaxation of categorical latents (Maddison, Mnih & Teh 2017; Jang, Gu & Poole 2017):
 * the reparameterized comparison point for `latentType: 'categorical'`, chosen with `relaxation: { temperature: τ }`.
 *
 * The model is the categorical one (./categorical.ts: G groups of K classes, uniform prior, one-hot z at deployment);
 * only training differs. From the same uniform noise u the categorical family gets, g = −log(−log u) ~ Gumbel(0, 1) and
 *   relaxed (training):   z_g = softmax((l_g + g_g)/τ),   a point of the simplex, differentiable in the logits l;
 *   discrete (τ → 0):     argmax_k (l_gk + g_gk), one-hot, a draw from Cat(softmax(l_g)) (Gumbel-max).
 * The decoder takes the relaxed z while training (reparameterized: true), so the pathwise gradient of the bound exists;
 * `sample(…, reparameterized: false)` gives the discrete draw, which the eval graph scores (its bound is the
 * categorical model's, the one deployment samples).
 *
 * The KL term is the analytic categorical KL(Cat(q) ‖ Uniform(K)) between q's class probabilities and the prior, the
 * common "relaxed reconstruction, discrete KL" choice (it is not the KL between the relaxed densities, which has no
 * closed form): the training loss is KL_cat(q ‖ p) − E_g[log p(x | softmax((l + g)/τ))], a biased surrogate of the
 * categorical ELBO whose bias vanishes as τ → 0 (where its gradient's variance grows). log q and log p of a sample are
 * the discrete draw's (what the importance weights of eval use).
 *
 * @example
 * const cfg = resolveConfig({ latentType: 'categorical', latent: 4, categories: 10, relaxation: { temperature: 0.5 } });
 * latentFamily(cfg).reparameterizable; // true: trained with the 'reparam' estimator
 */
import type { Graph, Value } from '../../ir/graph.js';
import type { VaeConfig } from '../config.js';
import { constantLogProb } from '../distributions.js';
import { decode, encodeLogits, type Logits } from '../vae.js';
import { type CategoricalSample, categoricalKlPerDim, categoricalSample, categoriesOf, groupLogSoftmax } from './categorical.js';
import type { LatentFamily } from './family.js';

/** The relaxation's temperature τ (config `relaxation.temperature`). */
export function temperatureOf(cfg: VaeConfig): number {
  const t = cfg.relaxation?.temperature;
  if (t === undefined) throw new Error('the Concrete relaxation needs relaxation: { temperature } in the model config');
  return t;
}

/** Gumbel(0, 1) noise −log(−log u) from u [M, batch, W] (u clamped away from 0, as for Gumbel-max). */
export function gumbelNoise(g: Graph, u: Value): Value {
  return g.Neg(g.Log(g.Neg(g.Log(g.Max(u, g.scalar(1e-30, u.dtype))))));
}

/**
 * The relaxed sample z [M, batch, G·K] = softmax((l + g)/τ) within each group of K, from logits [batch, G·K] and
 * uniforms u [M, batch, G·K]: differentiable in l, each group on the simplex.
 */
export function concreteSample(g: Graph, groups: number, k: number, logits: Value, u: Value, temperature: number): Value {
  const scores = g.Div(g.Add(logits, gumbelNoise(g, u)), temperature);
  return g.Reshape(g.Softmax(g.Reshape(scores, [0, 0, groups, k]), -1), [0, 0, groups * k]);
}

export function concreteFamily(cfg: VaeConfig): LatentFamily<Logits, CategoricalSample, undefined> {
  const groups = cfg.latent;
  const k = categoriesOf(cfg);
  const width = groups * k;
  const tau = temperatureOf(cfg);
  const logp0 = -groups * Math.log(k);
  const klPerDim = (g: Graph, q: Logits) => categoricalKlPerDim(g, groups, k, q.logits);
  return {
    name: 'concrete',
    noise: { width, distribution: 'uniform' },
    reparameterizable: true,
    inputs: [],
    // Deployment is the categorical model's: the decoder takes one-hot draws from the uniform prior.
    decoderInput: { width, discrete: { type: 'categorical', categories: k } },
    encode: (g, p, x) => encodeLogits(g, p, cfg, x, width),
    sample: (g, _p, q, u, reparameterized) =>
      g.scope('latent', () => {
        const hard = categoricalSample(g, groups, k, q.logits, u);
        const logq = g.ReduceSum(g.Mul(hard, groupLogSoftmax(g, groups, k, q.logits)), [-1]);
        const z = reparameterized ? concreteSample(g, groups, k, q.logits, u, tau) : hard;
        return { z, eps: u, reparameterized, logq };
      }),
    logQ: (_g, _q, s) => s.logq,
    entropy: (g, q) => g.Sub(g.scalar(-logp0, q.logits.dtype), g.ReduceSum(klPerDim(g, q), [-1])),
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

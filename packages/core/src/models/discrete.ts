/**
 * What a host needs to know of a model's latent to feed and sample it (the graphs are built by the latent families,
 * families/bernoulli.ts and families/categorical.ts for discrete latents): the noise width and distribution of the
 * graphs' `eps` input, and the prior the Sampler draws decoder inputs from.
 *
 * @example
 * const cfg = resolveConfig({ latentType: 'categorical', latent: 4, categories: 10 });
 * latentWidth(cfg); // 40: eps is [M, batch, 40] of uniforms, the decoder takes one-hot z [batch, 40]
 */
import type { Prng } from '../random/prng.js';
import type { VaeConfig } from './config.js';
import { type DecoderInput, type DiscretePrior, latentFamily } from './families/index.js';

export { categoriesOf } from './families/categorical.js';
export type { DiscretePrior } from './families/family.js';

export type LatentType = 'gaussian' | 'bernoulli' | 'categorical';

export function latentTypeOf(cfg: VaeConfig): LatentType {
  return cfg.latentType ?? 'gaussian';
}

export function isDiscrete(cfg: VaeConfig): boolean {
  return latentTypeOf(cfg) !== 'gaussian';
}

/** Values per example of the noise eps and of the decoder's input z: L, or G·K for categorical latents (one-hot). */
export function latentWidth(cfg: VaeConfig): number {
  return latentFamily(cfg).noise.width;
}

/** Fills the noise a graph's `eps` input takes: N(0, 1) for Gaussian latents, U(0, 1) for discrete ones. */
export function fillLatentNoise<T extends Float32Array | Float64Array>(cfg: VaeConfig, prng: Prng, out: T): T {
  return latentFamily(cfg).noise.distribution === 'uniform' ? prng.fillUniform(out) : prng.fillNormal(out);
}

/**
 * What a Sampler needs to know of the latent: the decoder's input width, and the discrete prior if there is one.
 * @example new Sampler(ort, decoder, encoder, { ...samplerLatent(cfg), outputSize: 784 })
 */
export function samplerLatent(cfg: VaeConfig): { latent: number; discrete?: DiscretePrior } {
  const d: DecoderInput = latentFamily(cfg).decoderInput;
  return d.discrete ? { latent: d.width, discrete: d.discrete } : { latent: d.width };
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

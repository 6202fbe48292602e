/**
 * The latent families, chosen once from the config. Adding a family is one new file here (implementing
 * `LatentFamily` from ./family.ts) plus its case below; the bound, the estimators and every graph builder take it as
 * it is.
 *
 * @example
 * const fam = latentFamily(resolveConfig({ latentType: 'categorical', latent: 4, categories: 10 }));
 * fam.noise;             // { width: 40, distribution: 'uniform' }
 * fam.reparameterizable; // false: trained with the score-function estimator
 */
import type { VaeConfig } from '../config.js';
import { bernoulliFamily } from './bernoulli.js';
import { categoricalFamily } from './categorical.js';
import { concreteFamily } from './concrete.js';
import { conditionalFamily } from './conditional.js';
import type { LatentFamily } from './family.js';
import { gaussianFamily } from './gaussian.js';
import { hierarchicalFamily } from './hierarchical.js';
import { structuredFamily } from './structured.js';

export * from './bernoulli.js';
export * from './categorical.js';
export * from './concrete.js';
export * from './conditional.js';
export * from './family.js';
export * from './gaussian.js';
export * from './hierarchical.js';
export * from './structured.js';

/** The model's latent family: conditional (a label), two stochastic layers, Bernoulli or categorical latents, or Gaussian. */
export function latentFamily(cfg: VaeConfig): LatentFamily {
  if (cfg.structured) return structuredFamily(cfg);
  if (cfg.conditional) return conditionalFamily(cfg);
  if (cfg.hierarchical) return hierarchicalFamily(cfg);
  const type = cfg.latentType ?? 'gaussian';
  switch (type) {
    case 'gaussian':
      return gaussianFamily(cfg);
    case 'bernoulli':
      return bernoulliFamily(cfg);
    case 'categorical':
      // The Concrete relaxation trains the categorical model by reparameterization (./concrete.ts).
      return cfg.relaxation ? concreteFamily(cfg) : categoricalFamily(cfg);
    default:
      throw new Error(`model config: latentType must be 'gaussian', 'bernoulli' or 'categorical', got ${JSON.stringify(type)}`);
  }
}

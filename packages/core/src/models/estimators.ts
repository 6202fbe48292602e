/**
 * The train step's gradient estimator, chosen once from the config and the latent family: pathwise
 * (reparameterization, below) where the family can reparameterize, the score function (./score-function.ts)
 * otherwise or when the config asks for it.
 *
 * @example
 * const fam = latentFamily(cfg);
 * const est = gradientEstimator(cfg, fam); // est.objective(g, p, inputs).loss is what the train step differentiates
 */
import type { Graph, Value } from '../ir/graph.js';
import { type Estimator, elboTerms, type GradientEstimator, klPenalty } from './bound.js';
import type { VaeConfig } from './config.js';
import { type LatentFamily, latentFamily } from './families/index.js';
import { nvilEstimator } from './nvil.js';
import { scoreFunctionEstimator } from './score-function.js';
import { iwaeScoreEstimator } from './vimco.js';

/** The config's estimator; by default the family's: reparameterization where it exists, else the score function. */
export function estimatorOf(cfg: VaeConfig, family: LatentFamily = latentFamily(cfg)): Estimator {
  return cfg.estimator ?? (family.reparameterizable ? 'reparam' : 'score');
}

/** True when the train step uses the score-function estimator (always for discrete latents). */
export function usesScoreFunction(cfg: VaeConfig): boolean {
  return estimatorOf(cfg) === 'score';
}

/**
 * The pathwise estimator: z = f(q, ε) is differentiable, so autodiff of the bound is its gradient. The loss is
 * β·KL − E[rec] (KL or entropy form, free bits), or for the 'iwae' objective −E_b[log (1/M) Σ_m w_m], a tighter bound
 * than the ELBO for M > 1.
 */
export function reparameterizationEstimator(cfg: VaeConfig, family: LatentFamily): GradientEstimator {
  const form = cfg.objective === 'entropy' ? 'entropy' : 'kl';
  return {
    name: 'reparam',
    stateSpecs: [],
    objective(g, p, { x, eps, cond, beta }) {
      const terms = elboTerms(g, p, cfg, family, x, eps, cond, { form, reparameterized: true });
      // A mixed-in objective, built outside the 'loss' scope so that its parameters keep their module names.
      const mix = family.mixedLoss?.(g, p, x, eps, family.derive ? { ...cond, ...family.derive(g, x) } : cond);
      const loss = g.scope('loss', (): Value => {
        if (cfg.objective === 'iwae') {
          const m = eps.shape[0] as number;
          return g.Neg(g.ReduceMean(g.Sub(g.ReduceLogSumExp(terms.logw, [0], false), Math.log(m))));
        }
        const rec = g.ReduceMean(terms.rec);
        const bound = g.Sub(g.Mul(klPenalty(g, cfg, terms, form, cfg.freeBits), beta), rec);
        return mix ? g.Add(g.Mul(bound, mix.weight), mix.extra) : bound;
      });
      return { loss, terms, nextStates: (_g: Graph) => [] };
    },
  };
}

/** The estimator the config and the family call for; asking for reparameterization where there is none is an error. */
export function gradientEstimator(cfg: VaeConfig, family: LatentFamily): GradientEstimator {
  const est = estimatorOf(cfg, family);
  // The score function of the importance-weighted bound (VIMCO) is its own estimator: ./vimco.ts.
  // NVIL's learned baseline is its own estimator too: ./nvil.ts.
  if (est === 'score') {
    if (cfg.objective === 'iwae') return iwaeScoreEstimator(cfg, family);
    return cfg.baseline === 'nvil' ? nvilEstimator(cfg, family) : scoreFunctionEstimator(cfg, family);
  }
  if (!family.reparameterizable)
    throw new Error(`estimator: 'reparam' needs Gaussian latents; ${family.name} latents have no reparameterization (use 'score')`);
  return reparameterizationEstimator(cfg, family);
}

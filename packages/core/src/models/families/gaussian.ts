/**
 * Gaussian latents: q(z|x) = N(μ(x), diag σ(x)²), prior N(0, I), analytic KL and entropy. Sampled by
 * reparameterization z = μ + σ·ε, ε ~ N(0, I), or — for the score-function estimator — as a constant draw whose
 * log-density carries the gradient. The sampling and log q are shared with the conditional family (./conditional.ts).
 */
import type { Graph, Value } from '../../ir/graph.js';
import type { VaeConfig } from '../config.js';
import { gaussianEntropy, gaussianLogProb, klStandardNormalPerDim, reparamLogProb, standardNormalLogProb } from '../distributions.js';
import { decode, encode, type Posterior } from '../vae.js';
import type { FreePosterior, LatentFamily, LatentSample } from './family.js';

/**
 * z from ε [M, batch, L]. Reparameterized: z = μ + σ·ε keeps the sample differentiable in μ and σ (scope 'elbo',
 * where the reparameterized bound has always built it). Otherwise z = sg(μ) + sg(σ)·ε is a constant (scope 'latent').
 */
export function gaussianSample(g: Graph, q: Posterior, eps: Value, reparameterized: boolean): LatentSample {
  if (reparameterized) {
    const std = g.scope('elbo', () => g.Exp(g.Mul(q.logvar, 0.5)));
    return { z: g.scope('elbo', () => g.Add(q.mu, g.Mul(std, eps))), eps, reparameterized };
  }
  return g.scope('latent', () => {
    const std = g.Exp(g.Mul(g.stopGradient(q.logvar), 0.5));
    return { z: g.stopGradient(g.Add(g.stopGradient(q.mu), g.Mul(std, eps))), eps, reparameterized };
  });
}

/**
 * log q(z|x), [M, batch]. For z = μ + σ·ε it is Σ −½ε² − ½ log 2π − ½ log σ² (no division by σ); for a constant z,
 * Σ −½ log 2π − ½ log σ² − (z − μ)²/(2σ²), differentiated in μ and σ (the score function's ∇ log q).
 */
export function gaussianLogQ(g: Graph, q: Posterior, s: LatentSample): Value {
  return s.reparameterized ? reparamLogProb(g, s.eps, q.logvar) : gaussianLogProb(g, s.z, q.mu, q.logvar);
}

/** μ and log σ² as free [batch, L] tensors: `q.mu`, `q.logvar` in per-datapoint graphs. */
export function gaussianFreePosterior(latent: number): FreePosterior<Posterior> {
  return { names: ['mu', 'logvar'], width: latent, posterior: ([mu, logvar]) => ({ mu, logvar }) };
}

export function gaussianFamily(cfg: VaeConfig): LatentFamily<Posterior, LatentSample, undefined> {
  return {
    name: 'gaussian',
    noise: { width: cfg.latent, distribution: 'normal' },
    reparameterizable: true,
    inputs: [],
    decoderInput: { width: cfg.latent },
    freePosterior: gaussianFreePosterior(cfg.latent),
    encode: (g, p, x) => encode(g, p, cfg, x),
    sample: (g, _p, q, eps, reparameterized) => gaussianSample(g, q, eps, reparameterized),
    logQ: gaussianLogQ,
    entropy: (g, q) => gaussianEntropy(g, q.logvar),
    encoderOutputs: (_g, q) => ({ mu: q.mu, logvar: q.logvar }),
    prior: () => undefined,
    logPrior: (g, s) => standardNormalLogProb(g, s.z),
    klPerDim: (g, q) => klStandardNormalPerDim(g, q.mu, q.logvar),
    decode: (g, p, z) => decode(g, p, cfg, z),
  };
}

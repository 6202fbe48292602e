/**
 * Structured-output conditional models (Sohn, Lee & Yan 2015, "Learning structured output representation using deep
 * conditional generative models"): an image is split by a fixed pixel mask into the observed part x (the input) and
 * the rest y (the output), and the model is
 *
 *   p(y | x) = ∫ p(y | x, z) p(z | x) dz,   prior network p(z|x) = N(μ_p(x), diag σ_p(x)²),
 *   generation network p(y | x, z) (Bernoulli or Gaussian over y's pixels only),
 *   recognition network q(z | x, y) (the whole image: observed and unobserved pixels).
 *
 * The graphs take the whole image as their `x` input and derive the observed part c = x ⊙ m inside (`derive`), so
 * the train step, eval and encoder graphs take what a plain VAE's take; log p(x|z) counts only the unobserved pixels
 * (`likelihoodMask`). The conditional ELBO is E_q[log p(y|x, z)] − KL(q(z|x, y) ‖ p(z|x)), the KL analytic between
 * two diagonal Gaussians; eval.onnx's importance log-weights log p(y|x, z) + log p(z|x) − log q(z|x, y) give the
 * conditional log-likelihood log p(y|x) by importance sampling. decoder.onnx takes a standard-normal draw u and the
 * observed part c: z = μ_p(c) + σ_p(c)·u, and returns the completed image (c's pixels kept, y's drawn as means).
 *
 * `model` picks what is trained: 'cvae' as above; 'gsnn' (the paper's Gaussian stochastic neural network) with the
 * prior network as q, so the KL is 0 and the loss is −E_{p(z|x)}[log p(y|x, z)] — training and testing then sample z
 * the same way, and the importance weights become plain Monte Carlo; 'hybrid' the paper's weighted sum of the two,
 * α·L_CVAE + (1 − α)·L_GSNN (eq. 9; `alpha`, default 0.5), a CVAE in every graph but the train step's loss;
 * 'baseline' a deterministic network y = f(x) (the generation network with z multiplied by 0), the paper's
 * comparison point, whose log p(y|x) is exact.
 */
import type { Graph, Value } from '../../ir/graph.js';
import { tensorData } from '../../ir/tensor.js';
import { activation, linear, mlp } from '../../nn/layers.js';
import type { ParamBinder } from '../../nn/params.js';
import { inputSize, STRUCTURED_HYBRID_ALPHA, type StructuredConfig, type VaeConfig } from '../config.js';
import { gaussianEntropy, gaussianLogProb, klGaussiansPerDim } from '../distributions.js';
import { decode, encode, logLikelihood, type Posterior } from '../vae.js';
import { broadcastLabel } from './conditional.js';
import type { Conditions, FamilyInput, LatentFamily, LatentSample } from './family.js';
import { gaussianFreePosterior, gaussianLogQ, gaussianSample } from './gaussian.js';

/** The observed-pixel masks by name: 1 where the pixel is the input x, 0 where it is the output y. */
export const OBSERVED_PARTS = ['top-half', 'left-half', 'quadrant', 'three-quadrants'] as const;

/**
 * The mask [D] of an observed part on an h × w image: 'top-half' (rows < h/2), 'left-half' (columns < w/2: the
 * two-quadrant task of Sohn et al. 2015), 'quadrant' (the bottom-left quadrant: their one-quadrant task),
 * 'three-quadrants' (all but the bottom right: their three-quadrant task). The quadrant tasks follow Pyro's
 * reproduction of the paper (examples/cvae), so the numbers compare.
 */
export function observedMask(cfg: VaeConfig): Float32Array {
  const s = structuredOf(cfg);
  // Square one-channel images, as resolveConfig checks: inputShape [h·w].
  const h = Math.round(Math.sqrt(inputSize(cfg)));
  const w = h;
  if (cfg.inputShape.length !== 1 || h * w !== inputSize(cfg))
    throw new Error(`structured-output models need square one-channel images; inputShape [${cfg.inputShape}] is not one`);
  const m = new Float32Array(h * w);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const top = r < h / 2;
      const left = c < w / 2;
      const on =
        s.observed === 'top-half' ? top : s.observed === 'left-half' ? left : s.observed === 'quadrant' ? !top && left : top || left;
      m[r * w + c] = on ? 1 : 0;
    }
  }
  return m;
}

export function structuredOf(cfg: VaeConfig): StructuredConfig {
  if (!cfg.structured) throw new Error('this model is not a structured-output model (its config has no `structured: {observed}`)');
  return cfg.structured;
}

export function structuredFamily(cfg: VaeConfig): LatentFamily<Posterior, LatentSample, Posterior> {
  const s = structuredOf(cfg);
  const D = inputSize(cfg);
  const L = cfg.latent;
  const maskData = observedMask(cfg);
  const observed = (g: Graph) => g.Constant(tensorData(cfg.dtype, [D], maskData));
  const unobserved = (g: Graph) =>
    g.Constant(
      tensorData(
        cfg.dtype,
        [D],
        Array.from(maskData, (v) => 1 - v),
      ),
    );
  const input: FamilyInput = { name: 'c', width: D, kind: 'tensor' };
  /** The observed part: the derived condition, or (encoder.onnx, which has no derived conditions) x ⊙ m. */
  const obs = (g: Graph, x: Value | undefined, cond: Conditions): Value => {
    const c = cond.c ?? (x ? g.Mul(x, observed(g)) : undefined);
    if (!c) throw new Error('a structured-output model needs its observed part c [batch, D]');
    return c;
  };
  /** The prior network p(z|x): an MLP of the observed part with the config's hidden sizes (scope 'prior'). */
  const priorNet = (g: Graph, p: ParamBinder, c: Value): Posterior =>
    g.scope('prior', () => {
      const sizes = [D, ...cfg.hidden];
      const h = cfg.hidden.length ? activation(g, mlp(g, p, 'mlp', c, sizes, cfg.activation), cfg.activation) : c;
      const width = cfg.hidden.length ? cfg.hidden[cfg.hidden.length - 1] : D;
      return { mu: linear(g, p, 'mu', h, width, L), logvar: linear(g, p, 'logvar', h, width, L) };
    });
  /** The recognition network q(z|x, y): the plain encoder of the whole image (scope 'encoder'). */
  const recognition = (g: Graph, p: ParamBinder, x: Value): Posterior => encode(g, p, cfg, x);
  /** The generation network p(y|x, z): the decoder of [z | c] (z ⊙ 0 for the deterministic baseline). */
  const generation = (g: Graph, p: ParamBinder, z: Value, c: Value): Value => {
    const zz = s.model === 'baseline' ? g.Mul(z, 0) : z;
    const zc = g.scope('decoder', () => g.Concat([zz, broadcastLabel(g, c, zz)], -1));
    return decode(g, p, { ...cfg, latent: L + D }, zc);
  };
  return {
    name: 'structured',
    noise: { width: L, distribution: 'normal' },
    reparameterizable: true,
    inputs: [],
    decoderInput: { width: L },
    decoderInputs: [input],
    freePosterior: gaussianFreePosterior(L),
    // CVAE: the recognition network; GSNN and the baseline train with the prior network as q (KL = 0).
    encode: (g, p, x, cond) => (s.model === 'cvae' || s.model === 'hybrid' ? recognition(g, p, x) : priorNet(g, p, obs(g, x, cond))),
    sample: (g, _p, q, eps, reparameterized) => gaussianSample(g, q, eps, reparameterized),
    logQ: gaussianLogQ,
    entropy: (g, q) => gaussianEntropy(g, q.logvar),
    encoderOutputs: (_g, q) => ({ mu: q.mu, logvar: q.logvar }),
    prior: (g, p, _s, cond) => priorNet(g, p, obs(g, undefined, cond)),
    logPrior: (g, smp, pr) => gaussianLogProb(g, smp.z, pr.mu, pr.logvar),
    klPerDim: (g, q, pr) => klGaussiansPerDim(g, q.mu, q.logvar, pr.mu, pr.logvar),
    decode: (g, p, z, cond) => generation(g, p, z, obs(g, undefined, cond)),
    derive: (g, x) => ({ c: g.Mul(x, observed(g)) }),
    likelihoodMask: (g) => unobserved(g),
    generate: (g, p, u, cond) => {
      const c = g.Mul(obs(g, undefined, cond), observed(g));
      const pr = priorNet(g, p, c);
      const z = g.Add(pr.mu, g.Mul(g.Exp(g.Mul(pr.logvar, 0.5)), u));
      return generation(g, p, z, c);
    },
    // The completed image: the given pixels as they are, the generated ones as the decoder's means.
    compose: (g, mean, cond) => g.Add(g.Mul(obs(g, undefined, cond), observed(g)), g.Mul(mean, unobserved(g))),
    // The hybrid: loss = α·(−L_CVAE) + (1 − α)·(−L_GSNN), the GSNN term −E_{p(z|x)}[log p(y|x, z)] with z drawn from
    // the prior network by the step's own ε (each term is unbiased for its expectation; sharing ε only correlates them).
    mixedLoss:
      s.model === 'hybrid'
        ? (g, p, x, eps, cond) => {
            const alpha = s.alpha ?? STRUCTURED_HYBRID_ALPHA;
            const c = obs(g, x, cond);
            const pr = priorNet(g, p, c);
            const z = g.Add(pr.mu, g.Mul(g.Exp(g.Mul(pr.logvar, 0.5)), eps));
            const logpy = logLikelihood(g, p, cfg, x, generation(g, p, z, c), unobserved(g));
            const extra = g.scope('gsnn', () => g.Mul(g.Neg(g.ReduceMean(logpy)), 1 - alpha));
            return { weight: alpha, extra };
          }
        : undefined,
  };
}

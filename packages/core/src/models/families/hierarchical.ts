/**
 * Two stochastic layers (Burda, Grosse & Salakhutdinov 2016, §5): the generative model z₂ → z₁ → x,
 *
 *   p(z₂) = N(0, I),  p(z₁|z₂) = N(μ_p(z₂), diag σ_p(z₂)²),  p(x|z₁) the config's likelihood (the plain decoder),
 *
 * and the inference model x → z₁ → z₂, q(z₁|x) = N(μ₁(x), diag σ₁(x)²) (the plain encoder) and
 * q(z₂|z₁) = N(μ₂(z₁), diag σ₂(z₁)²). z₁ has the config's `latent` units and the encoder/decoder its `hidden`
 * layers; z₂ has `hierarchical.latent` units, and q(z₂|z₁) and p(z₁|z₂) each have `hierarchical.hidden` layers
 * (p's in reverse order) of the config's activation. Parameters: encoder.* (q(z₁|x)), encoder.z2.* (q(z₂|z₁)),
 * prior.* (p(z₁|z₂)), decoder.* (p(x|z₁)).
 *
 * Noise ε [M, batch, L₁ + L₂] = [ε₁ | ε₂]: z₁ = μ₁ + σ₁·ε₁, then z₂ = μ₂(z₁) + σ₂(z₁)·ε₂, so both layers are
 * reparameterized and the log importance weight is
 *
 *   log w = log p(x|z₁) + log p(z₁|z₂) + log p(z₂) − log q(z₁|x) − log q(z₂|z₁).
 *
 * KL(q(z₁, z₂|x) ‖ p(z₁, z₂)) has no closed form (q(z₂|z₁) and p(z₁|z₂) depend on a sample), so the bound's KL
 * and entropy are the Monte Carlo estimates of ../bound.ts (no `klPerDim`, no `entropy`).
 *
 * decoder.onnx takes u = [z₂ | e₁] [batch, L₂ + L₁], a draw from N(0, I): z₁ = μ_p(z₂) + σ_p(z₂)·e₁ is then an
 * exact draw from p(z₁|z₂) and the output is E[x|z₁] — an ancestral sample of the model (Burda et al. draw z₁ the
 * same way), with the host's temperature applied to both layers. encoder.onnx's `mu` and `logvar` live in the same
 * coordinates, so that decoding `mu` reconstructs x from q(z₁|x)'s mean: with z₂* = μ₂(μ₁(x)),
 * mu = [z₂* | (μ₁ − μ_p(z₂*))/σ_p(z₂*)] (decoded, z₁ = μ₁ exactly) and logvar = [log σ₂² | log σ₁² − log σ_p²] (q's
 * spread in those coordinates at z₂ = z₂*); `mu1`, `logvar1` are q(z₁|x)'s own and `mu2`, `logvar2` q(z₂|z₁ = μ₁)'s.
 *
 * @example
 * // Burda et al.'s two-layer MNIST model (models/presets/burda-2layer.json):
 * const cfg = resolveConfig({ hidden: [200, 200], latent: 100, activation: 'tanh', hierarchical: { latent: 50, hidden: [100, 100] } });
 * latentFamily(cfg).noise;        // { width: 150, distribution: 'normal' }
 * latentFamily(cfg).decoderInput; // { width: 150 }: [z₂ | e₁]
 */
import type { Graph, Value } from '../../ir/graph.js';
import { activation, linear, mlp } from '../../nn/layers.js';
import type { ParamBinder } from '../../nn/params.js';
import type { HierarchicalConfig, VaeConfig } from '../config.js';
import { gaussianLogProb, standardNormalLogProb } from '../distributions.js';
import { decode, encode, type Posterior } from '../vae.js';
import type { LatentFamily, LatentSample } from './family.js';
import { gaussianLogQ, gaussianSample } from './gaussian.js';

/** q(z₁|x)'s parameters [batch, L₁], and the means path encoder.onnx reports (built only when asked). */
export interface HierarchicalPosterior extends Posterior {
  /** q(z₂|z₁ = μ₁) and p(z₁|z₂ = its mean): what encoder.onnx's outputs are made of. */
  meanPath(g: Graph): { q2: Posterior; prior: Posterior };
}

/** A draw of both layers: z (= z₁, what the decoder takes), z₂, their noise and q(z₂|z₁) at the drawn z₁. */
export interface HierarchicalSample extends LatentSample {
  /** [M, batch, L₂] */
  z2: Value;
  eps1: Value;
  eps2: Value;
  /** q(z₂|z₁)'s parameters at the drawn z₁, [M, batch, L₂]. */
  q2: Posterior;
}

/** The config's second layer; an error for a config without one. */
export function hierarchicalOf(cfg: VaeConfig): HierarchicalConfig {
  if (!cfg.hierarchical) throw new Error('model config: this is not a hierarchical model (no `hierarchical` field)');
  return cfg.hierarchical;
}

/**
 * A Gaussian layer N(μ(h), diag exp(logvar(h))) of an input h [..., in]: `hidden` layers with the activation after
 * each (as the encoder's trunk), then linear heads mu and logvar → [..., out]. Leading dims are flattened so the
 * MatMuls are 2-D (much faster, as in decode()), and restored from h's shape.
 */
function gaussianLayer(
  g: Graph,
  p: ParamBinder,
  cfg: VaeConfig,
  name: string,
  h: Value,
  inF: number,
  hidden: readonly number[],
  outF: number,
): Posterior {
  return g.scope(name, () => {
    const flat = h.rank > 2 ? g.Reshape(h, [-1, inF]) : h;
    const t = hidden.length ? activation(g, mlp(g, p, 'mlp', flat, [inF, ...hidden], cfg.activation), cfg.activation) : flat;
    const width = hidden.length ? hidden[hidden.length - 1] : inF;
    const back = (v: Value) =>
      h.rank > 2 ? g.Reshape(v, g.Concat([g.op1('Shape', [h], { start: 0, end: h.rank - 1 }), g.ints([outF])], 0)) : v;
    return { mu: back(linear(g, p, 'mu', t, width, outF)), logvar: back(linear(g, p, 'logvar', t, width, outF)) };
  });
}

/** q(z₂|z₁): z₁ [..., L₁] → μ₂, log σ₂² [..., L₂] (scope encoder.z2). */
function upperPosterior(g: Graph, p: ParamBinder, cfg: VaeConfig, z1: Value): Posterior {
  const h = hierarchicalOf(cfg);
  return g.scope('encoder', () => gaussianLayer(g, p, cfg, 'z2', z1, cfg.latent, h.hidden, h.latent));
}

/** p(z₁|z₂): z₂ [..., L₂] → μ_p, log σ_p² [..., L₁] (scope prior), its hidden layers q(z₂|z₁)'s in reverse. */
function lowerPrior(g: Graph, p: ParamBinder, cfg: VaeConfig, z2: Value): Posterior {
  const h = hierarchicalOf(cfg);
  return gaussianLayer(g, p, cfg, 'prior', z2, h.latent, [...h.hidden].reverse(), cfg.latent);
}

/** x[..., from:to] along the last axis. */
function lastAxis(g: Graph, x: Value, from: number, to: number): Value {
  return g.Slice(x, [from], [to], [-1]);
}

export function hierarchicalFamily(cfg: VaeConfig): LatentFamily<HierarchicalPosterior, HierarchicalSample, Posterior> {
  const { latent: l2 } = hierarchicalOf(cfg);
  const l1 = cfg.latent;
  return {
    name: 'hierarchical',
    noise: { width: l1 + l2, distribution: 'normal' },
    reparameterizable: true,
    inputs: [],
    decoderInput: { width: l2 + l1 },
    encode(g, p, x) {
      const q1 = encode(g, p, cfg, x);
      return {
        ...q1,
        meanPath: (h: Graph) => {
          const q2 = upperPosterior(h, p, cfg, q1.mu);
          return { q2, prior: lowerPrior(h, p, cfg, q2.mu) };
        },
      };
    },
    sample(g, p, q, eps, reparameterized) {
      const [eps1, eps2] = g.scope('latent', () => [lastAxis(g, eps, 0, l1), lastAxis(g, eps, l1, l1 + l2)]);
      const z1 = gaussianSample(g, q, eps1, reparameterized).z;
      const q2 = upperPosterior(g, p, cfg, z1);
      const z2 = gaussianSample(g, q2, eps2, reparameterized).z;
      return { z: z1, z2, eps, eps1, eps2, q2, reparameterized };
    },
    // log q(z₁|x) + log q(z₂|z₁), each as the Gaussian family computes it (ε form when reparameterized).
    logQ: (g, q, s) =>
      g.Add(
        gaussianLogQ(g, q, { z: s.z, eps: s.eps1, reparameterized: s.reparameterized }),
        gaussianLogQ(g, s.q2, { z: s.z2, eps: s.eps2, reparameterized: s.reparameterized }),
      ),
    encoderOutputs(g, q) {
      const { q2, prior } = q.meanPath(g);
      return g.scope('encoder', () => {
        // e₁ = (μ₁ − μ_p)/σ_p: decoding [z₂* | e₁] gives z₁ = μ_p + σ_p·e₁ = μ₁.
        const e1 = g.Mul(g.Sub(q.mu, prior.mu), g.Exp(g.Mul(prior.logvar, -0.5)));
        return {
          mu: g.Concat([q2.mu, e1], -1),
          logvar: g.Concat([q2.logvar, g.Sub(q.logvar, prior.logvar)], -1),
          mu1: q.mu,
          logvar1: q.logvar,
          mu2: q2.mu,
          logvar2: q2.logvar,
        };
      });
    },
    prior: (g, p, s) => lowerPrior(g, p, cfg, s.z2),
    // log p(z₁|z₂) + log p(z₂)
    logPrior: (g, s, pr) => g.Add(gaussianLogProb(g, s.z, pr.mu, pr.logvar), standardNormalLogProb(g, s.z2)),
    decode: (g, p, z) => decode(g, p, cfg, z),
    generate(g, p, u) {
      const z2 = lastAxis(g, u, 0, l2);
      const pr = lowerPrior(g, p, cfg, z2);
      const z1 = g.scope('prior', () => g.Add(pr.mu, g.Mul(g.Exp(g.Mul(pr.logvar, 0.5)), lastAxis(g, u, l2, l2 + l1))));
      return decode(g, p, cfg, z1);
    },
  };
}

/**
 * The conditional VAE's latents: encoder q(z|x, y), decoder p(x|z, y) and prior p(z|y) for a one-hot label y
 * [batch, C], the graphs' extra input `y`. The label is concatenated to the encoder's input (as C constant image
 * channels for a conv model) and to the decoder's latent input, so the layers and parameter names are those of the
 * plain VAE with wider first layers. q is Gaussian and sampled as in ./gaussian.ts; with a learned prior,
 * KL(q(z|x, y) ‖ p(z|y)) is the analytic KL between two diagonal Gaussians.
 */
import type { Graph, Value } from '../../ir/graph.js';
import type { ParamBinder } from '../../nn/params.js';
import { conditionalOf } from '../conditional.js';
import { inputSize, type VaeConfig } from '../config.js';
import { gaussianEntropy, gaussianLogProb, klGaussiansPerDim, klStandardNormalPerDim, standardNormalLogProb } from '../distributions.js';
import { decode, encode, type Posterior } from '../vae.js';
import { type Conditions, conditionValue, type FamilyInput, type LatentFamily, type LatentSample } from './family.js';
import { gaussianFreePosterior, gaussianLogQ, gaussianSample } from './gaussian.js';

/** y [batch, C] broadcast over the leading dims of `like` [..., batch, *]: [..., batch, C]. */
export function broadcastLabel(g: Graph, y: Value, like: Value): Value {
  const lead = like.rank - 2;
  if (lead === 0) return y;
  const c = y.shape[y.rank - 1] as number;
  const shape = g.Concat([g.op1('Shape', [like], { start: 0, end: like.rank - 1 }), g.ints([c])], 0);
  return g.Expand(
    g.Unsqueeze(
      y,
      Array.from({ length: lead }, (_, i) => i),
    ),
    shape,
  );
}

/** Encoder q(z|x, y): x [batch, D] with y [batch, C] → μ, log σ² [batch, L]. */
export function conditionalEncode(g: Graph, p: ParamBinder, cfg: VaeConfig, x: Value, y: Value): Posterior {
  const { classes } = conditionalOf(cfg);
  if (cfg.arch === 'conv') {
    // y as C constant channels of the image: [batch, c + C, H, W], flattened for encode().
    const [c, h, w] = cfg.inputShape;
    const planes = g.scope('encoder', () => {
      const img = g.Reshape(x, [-1, c, h, w]);
      const y4 = g.Unsqueeze(y, [2, 3]);
      const shape = g.Concat([g.Shape(y), g.ints([h, w])], 0);
      return g.Flatten(g.Concat([img, g.Expand(y4, shape)], 1), 1);
    });
    return encode(g, p, { ...cfg, inputShape: [c + classes, h, w] }, planes);
  }
  const xy = g.scope('encoder', () => g.Concat([x, y], -1));
  return encode(g, p, { ...cfg, inputShape: [inputSize(cfg) + classes] }, xy);
}

/** Decoder p(x|z, y): z [..., batch, L] with y [batch, C] → the likelihood's location [..., batch, D]. */
export function conditionalDecode(g: Graph, p: ParamBinder, cfg: VaeConfig, z: Value, y: Value): Value {
  const { classes } = conditionalOf(cfg);
  const zy = g.scope('decoder', () => g.Concat([z, broadcastLabel(g, y, z)], -1));
  return decode(g, p, { ...cfg, latent: cfg.latent + classes }, zy);
}

/**
 * The prior p(z|y) = N(μ_p(y), diag σ_p(y)²): for a one-hot y a linear layer is already the most general function
 * of the label (row c of W plus b is class c's value), so no hidden layer is needed. Both layers start at zero, i.e.
 * at N(0, I). Undefined for the standard prior.
 */
export function conditionalPrior(g: Graph, p: ParamBinder, cfg: VaeConfig, y: Value): Posterior | undefined {
  const { classes, prior } = conditionalOf(cfg);
  if (prior === 'standard') return undefined;
  return g.scope('prior', () => {
    const head = (name: string) =>
      g.scope(name, () => {
        const w = p.param(g, g.prefixed('weight'), [classes, cfg.latent], { kind: 'const', value: 0 });
        const b = p.param(g, g.prefixed('bias'), [cfg.latent], { kind: 'const', value: 0 });
        return g.Add(g.MatMul(y, w), b);
      });
    return { mu: head('mu'), logvar: head('logvar') };
  });
}

export function conditionalFamily(cfg: VaeConfig): LatentFamily<Posterior, LatentSample, Posterior | undefined> {
  const label: FamilyInput = { name: 'y', width: conditionalOf(cfg).classes, kind: 'one-hot' };
  const y = (cond: Conditions) => conditionValue(cond, label, 'conditional');
  return {
    name: 'conditional',
    noise: { width: cfg.latent, distribution: 'normal' },
    reparameterizable: true,
    inputs: [label],
    decoderInput: { width: cfg.latent },
    freePosterior: gaussianFreePosterior(cfg.latent),
    encode: (g, p, x, cond) => conditionalEncode(g, p, cfg, x, y(cond)),
    sample: (g, _p, q, eps, reparameterized) => gaussianSample(g, q, eps, reparameterized),
    logQ: gaussianLogQ,
    entropy: (g, q) => gaussianEntropy(g, q.logvar),
    encoderOutputs: (_g, q) => ({ mu: q.mu, logvar: q.logvar }),
    prior: (g, p, _s, cond) => conditionalPrior(g, p, cfg, y(cond)),
    logPrior: (g, s, pr) => (pr ? gaussianLogProb(g, s.z, pr.mu, pr.logvar) : standardNormalLogProb(g, s.z)),
    klPerDim: (g, q, pr) => (pr ? klGaussiansPerDim(g, q.mu, q.logvar, pr.mu, pr.logvar) : klStandardNormalPerDim(g, q.mu, q.logvar)),
    decode: (g, p, z, cond) => conditionalDecode(g, p, cfg, z, y(cond)),
  };
}

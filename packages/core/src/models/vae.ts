/**
 * The VAE's networks: the encoder (MLP or strided convolutions) with Gaussian heads μ, log σ² or a logits head, the
 * decoder, and the likelihood p(x|z). The latent families (families/) compose them; the bound is in bound.ts.
 */
import type { Graph, Value } from '../ir/graph.js';
import { activation, conv2d, convTranspose2d, linear, mlp } from '../nn/layers.js';
import type { ParamBinder } from '../nn/params.js';
import { inputSize, type VaeConfig } from './config.js';
import { bernoulliLogProb, gaussianLogProb } from './distributions.js';

export interface Posterior {
  /** [batch, L] */
  mu: Value;
  /** log σ², [batch, L] */
  logvar: Value;
}

/** Encoder: x [batch, D] (flat) → μ, log σ². */
export function encode(g: Graph, p: ParamBinder, cfg: VaeConfig, x: Value): Posterior {
  return g.scope('encoder', () => {
    const { h, width } = encoderFeatures(g, p, cfg, x);
    return { mu: linear(g, p, 'mu', h, width, cfg.latent), logvar: linear(g, p, 'logvar', h, width, cfg.latent) };
  });
}

/** q's logits for discrete latents: logits [batch, width] (per bit, or per group and class). */
export interface Logits {
  logits: Value;
}

/** Encoder with one linear head: x [batch, D] → logits [batch, width]. */
export function encodeLogits(g: Graph, p: ParamBinder, cfg: VaeConfig, x: Value, width: number): Logits {
  return g.scope('encoder', () => {
    const { h, width: w } = encoderFeatures(g, p, cfg, x);
    return { logits: linear(g, p, 'logits', h, w, width) };
  });
}

/** The encoder's trunk (MLP or convolutions) before its output heads: h [batch, width]. Call inside scope 'encoder'. */
export function encoderFeatures(g: Graph, p: ParamBinder, cfg: VaeConfig, x: Value): { h: Value; width: number } {
  let h: Value;
  let width: number;
  if (cfg.arch === 'conv') {
    const [c, hh, ww] = cfg.inputShape;
    h = g.Reshape(x, [-1, c, hh, ww]);
    let cin = c;
    cfg.convChannels.forEach((cout, i) => {
      h = activation(g, conv2d(g, p, `conv${i + 1}`, h, cin, cout, 4, 2, 1), cfg.activation);
      cin = cout;
    });
    const f = 2 ** cfg.convChannels.length;
    width = cin * (hh / f) * (ww / f);
    h = g.Flatten(h, 1);
    if (cfg.hidden.length) {
      h = activation(g, mlp(g, p, 'dense', h, [width, ...cfg.hidden], cfg.activation), cfg.activation);
      width = cfg.hidden[cfg.hidden.length - 1];
    }
  } else {
    const sizes = [inputSize(cfg), ...cfg.hidden];
    h = cfg.hidden.length ? activation(g, mlp(g, p, 'mlp', x, sizes, cfg.activation), cfg.activation) : x;
    width = sizes[sizes.length - 1];
  }
  return { h, width };
}

/** Decoder: z [..., L] → the likelihood's location parameter per pixel, flat [..., D] (logits or means). */
export function decode(g: Graph, p: ParamBinder, cfg: VaeConfig, z: Value): Value {
  return g.scope('decoder', () => {
    const d = inputSize(cfg);
    const lead = z.shape.slice(0, -1);
    if (cfg.arch === 'mlp') {
      const sizes = [cfg.latent, ...[...cfg.hidden].reverse(), d];
      // [M, batch, L] → [M·batch, L]: 2-D MatMuls (and their gradients) are much faster than batched ones.
      if (lead.length === 2 && lead.filter((v) => typeof v !== 'number').length <= 1) {
        const h = mlp(g, p, 'mlp', g.Reshape(z, [-1, cfg.latent]), sizes, cfg.activation);
        return g.Reshape(h, [...lead.map((v) => (typeof v === 'number' ? v : -1)), d]);
      }
      return mlp(g, p, 'mlp', z, sizes, cfg.activation);
    }
    const flat = lead.length === 1 ? z : g.Reshape(z, [-1, cfg.latent]);
    const [c, hh, ww] = cfg.inputShape;
    const f = 2 ** cfg.convChannels.length;
    const chans = [...cfg.convChannels].reverse();
    const width = chans[0] * (hh / f) * (ww / f);
    const sizes = [cfg.latent, ...[...cfg.hidden].reverse(), width];
    let h = activation(g, mlp(g, p, 'dense', flat, sizes, cfg.activation), cfg.activation);
    h = g.Reshape(h, [-1, chans[0], hh / f, ww / f]);
    chans.forEach((cin, i) => {
      const cout = i + 1 < chans.length ? chans[i + 1] : c;
      h = convTranspose2d(g, p, `deconv${i + 1}`, h, cin, cout, 4, 2, 1);
      if (i + 1 < chans.length) h = activation(g, h, cfg.activation);
    });
    const out = g.Reshape(h, [-1, d]);
    if (lead.length === 1) return out;
    if (lead.filter((v) => typeof v !== 'number').length > 1) {
      throw new Error(`conv decoder: z ${z} may have at most one symbolic leading dim (make the sample count static)`);
    }
    return g.Reshape(out, [...lead.map((v) => (typeof v === 'number' ? v : -1)), d]);
  });
}

/** Learned or fixed log-variance of a Gaussian likelihood, broadcastable to [..., D]. */
function likelihoodLogvar(g: Graph, p: ParamBinder, cfg: VaeConfig): Value {
  const lk = cfg.likelihood;
  if (lk.type !== 'gaussian') throw new Error('likelihoodLogvar: not a Gaussian likelihood');
  if (lk.variance === 'fixed') return g.scalar(Math.log(lk.sigma * lk.sigma), cfg.dtype);
  const shape = lk.variance === 'scalar' ? [1] : [inputSize(cfg)];
  return p.param(g, 'likelihood.logvar', shape, { kind: 'const', value: 0 });
}

/** log p(x|z) summed over pixels: [..., batch]. */
export function logLikelihood(g: Graph, p: ParamBinder, cfg: VaeConfig, x: Value, loc: Value, mask?: Value): Value {
  return g.scope('likelihood', () =>
    cfg.likelihood.type === 'bernoulli' ? bernoulliLogProb(g, x, loc, mask) : gaussianLogProb(g, x, loc, likelihoodLogvar(g, p, cfg), mask),
  );
}

/** The decoder's mean E[x|z]: σ(logits) for Bernoulli, the location for a Gaussian. */
export function decoderMean(g: Graph, cfg: VaeConfig, loc: Value): Value {
  return cfg.likelihood.type === 'bernoulli' ? g.Sigmoid(loc) : loc;
}

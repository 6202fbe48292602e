/**
 * The conditional VAE: encoder q(z|x, y), decoder p(x|z, y) and prior p(z|y) for a one-hot label y [batch, C].
 * The label is concatenated to the encoder's input (as C constant image channels for a conv model) and to the
 * decoder's latent input, so the layers and parameter names are those of the plain VAE with wider first layers.
 * With a learned prior, KL(q(z|x, y) ‖ p(z|y)) is the analytic KL between two diagonal Gaussians.
 */
import type { Graph, Value } from '../ir/graph.js';
import type { TensorData } from '../ir/tensor.js';
import type { ParamBinder } from '../nn/params.js';
import { type ConditionalConfig, inputSize, type VaeConfig } from './config.js';
import {
  gaussianEntropy,
  gaussianLogProb,
  klGaussiansPerDim,
  klStandardNormalPerDim,
  reparamLogProb,
  standardNormalLogProb,
} from './distributions.js';
import { decode, type ElboTerms, encode, logLikelihood, type Posterior } from './vae.js';

/** The model's conditional options; a clear error for a plain VAE. */
export function conditionalOf(cfg: VaeConfig): ConditionalConfig {
  if (!cfg.conditional) throw new Error('this model is not conditional (its config has no `conditional: {classes, prior}`)');
  return cfg.conditional;
}

/** y [batch, C] broadcast over the leading dims of `like` [..., batch, *]: [..., batch, C]. */
function broadcastLabel(g: Graph, y: Value, like: Value): Value {
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

/**
 * The bound's terms for a given posterior q = N(μ, σ²) [batch, L] and noise ε [M, batch, L]: decoder, likelihood and
 * prior (conditional on y when given). Shared by the conditional VAE and per-datapoint inference; for a plain model it
 * computes what elboTerms computes after its encoder.
 * KL form: E_q[log p(x|z)] − KL(q ‖ p(z[|y])) in closed form; entropy form: E_q[log p(x|z) + log p(z)] + H(q).
 */
export function posteriorBound(
  g: Graph,
  p: ParamBinder,
  cfg: VaeConfig,
  x: Value,
  posterior: Posterior,
  eps: Value,
  form: 'kl' | 'entropy' = 'kl',
  y?: Value,
): ElboTerms {
  const { mu, logvar } = posterior;
  if (cfg.conditional && !y) throw new Error('posteriorBound: a conditional model needs the label y [batch, classes]');
  const std = g.scope('elbo', () => g.Exp(g.Mul(logvar, 0.5)));
  // Reparameterization: z = μ + σ·ε keeps the sample differentiable in μ and σ.
  const z = g.scope('elbo', () => g.Add(mu, g.Mul(std, eps)));
  const loc = y ? conditionalDecode(g, p, cfg, z, y) : decode(g, p, cfg, z);
  const logpx = logLikelihood(g, p, cfg, x, loc);
  const prior = y ? conditionalPrior(g, p, cfg, y) : undefined;
  return g.scope('elbo', () => {
    const logpz = prior ? gaussianLogProb(g, z, prior.mu, prior.logvar) : standardNormalLogProb(g, z);
    const logqz = reparamLogProb(g, eps, logvar);
    const rec = g.ReduceMean(logpx, [0]);
    const klPerDim = prior ? klGaussiansPerDim(g, mu, logvar, prior.mu, prior.logvar) : klStandardNormalPerDim(g, mu, logvar);
    const kl = form === 'kl' ? g.ReduceSum(klPerDim, [-1]) : g.Sub(g.Neg(g.ReduceMean(logpz, [0])), gaussianEntropy(g, logvar));
    const elbo = g.Sub(rec, kl);
    const logw = g.Sub(g.Add(logpx, logpz), logqz);
    return { posterior, z, logpx, logpz, logqz, rec, kl, klPerDim, elbo, logw };
  });
}

/** The conditional bound's terms for x [batch, D], y [batch, C] and ε [M, batch, L] (see elboTerms). */
export function conditionalElboTerms(
  g: Graph,
  p: ParamBinder,
  cfg: VaeConfig,
  x: Value,
  y: Value,
  eps: Value,
  form: 'kl' | 'entropy' = 'kl',
): ElboTerms {
  return posteriorBound(g, p, cfg, x, conditionalEncode(g, p, cfg, x, y), eps, form, y);
}

/**
 * The prior's per-class parameters from a checkpoint: μ_p(c), log σ_p²(c) as C × L tables (zeros for the standard
 * prior). Exact, because the prior is linear in the one-hot label: μ_p(c) = W[c] + b.
 */
export function conditionalPriorTable(
  cfg: VaeConfig,
  params: Record<string, TensorData>,
): { mu: Float32Array; logvar: Float32Array; classes: number } {
  const { classes, prior } = conditionalOf(cfg);
  const L = cfg.latent;
  const mu = new Float32Array(classes * L);
  const logvar = new Float32Array(classes * L);
  if (prior === 'learned') {
    for (const [name, out] of [
      ['mu', mu],
      ['logvar', logvar],
    ] as const) {
      const w = params[`prior.${name}.weight`];
      const b = params[`prior.${name}.bias`];
      if (!w || !b)
        throw new Error(`conditionalPriorTable: the checkpoint has no prior.${name}.weight/bias (a learned-prior model needs them)`);
      for (let c = 0; c < classes; c++) for (let j = 0; j < L; j++) out[c * L + j] = Number(w.data[c * L + j]) + Number(b.data[j]);
    }
  }
  return { mu, logvar, classes };
}

/** One-hot rows for integer labels (host side): n × C values; a label outside [0, C) is an error naming it. */
export function oneHot(labels: ArrayLike<number>, classes: number, dtype: 'float32' | 'float64' = 'float32'): Float32Array | Float64Array {
  const out = dtype === 'float32' ? new Float32Array(labels.length * classes) : new Float64Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= classes) {
      throw new Error(`label ${c} of example ${i} is not a class of this model (0 to ${classes - 1})`);
    }
    out[i * classes + c] = 1;
  }
  return out;
}

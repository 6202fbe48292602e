import { ACTIVATIONS, type Activation } from '../nn/layers.js';
import type { OptimizerConfig } from '../optim/optimizer.js';

export type Likelihood =
  | { type: 'bernoulli' }
  /** Gaussian with a fixed standard deviation. */
  | { type: 'gaussian'; variance: 'fixed'; sigma: number }
  /** Gaussian with a learned log-variance: one scalar, or one per feature. */
  | { type: 'gaussian'; variance: 'scalar' | 'feature' };

export type Objective = 'kl' | 'entropy' | 'iwae';

/**
 * A conditional model's labels: `classes` one-hot classes; the prior p(z|y) is N(0, I) ('standard') or a Gaussian
 * whose mean and log-variance a linear layer computes from y ('learned').
 */
export interface ConditionalConfig {
  classes: number;
  prior: 'standard' | 'learned';
}

export interface VaeConfig {
  /** 'mlp': dense encoder/decoder; 'conv': strided convolutions (images). */
  arch: 'mlp' | 'conv';
  /** Shape of one example: [784] for an MLP, [channels, height, width] for a conv model. */
  inputShape: number[];
  /** Hidden layer sizes (MLP); for conv, the dense layer between the feature map and the latent. */
  hidden: number[];
  latent: number;
  activation: Activation;
  /** Conv models: channels after each stride-2 convolution (kernel 4, padding 1). */
  convChannels: number[];
  likelihood: Likelihood;
  /** ELBO form used for training: analytic KL, entropy form, or the importance-weighted bound. */
  objective: Objective;
  /** Reparameterized samples per example (M), or importance samples (K) for the 'iwae' objective. */
  samples: number;
  /** Free bits λ (nats per latent dim); 0 turns it off. */
  freeBits: number;
  /** Conditional VAE: q(z|x, y), p(x|z, y) and p(z|y) for a one-hot label y (see models/conditional.ts). */
  conditional?: ConditionalConfig;
  optimizer: OptimizerConfig;
  dtype: 'float32' | 'float64';
}

/** The reference model: 784-400-20-400-784, Bernoulli, Adam. */
export const REFERENCE_VAE: VaeConfig = {
  arch: 'mlp',
  inputShape: [784],
  hidden: [400],
  latent: 20,
  activation: 'relu',
  convChannels: [32, 64],
  likelihood: { type: 'bernoulli' },
  objective: 'kl',
  samples: 1,
  freeBits: 0,
  optimizer: { type: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, momentum: 0 },
  dtype: 'float32',
};

/** Fills defaults and validates; errors name the field and the value. */
export function resolveConfig(partial: Partial<VaeConfig> & { optimizer?: Partial<OptimizerConfig> } = {}): VaeConfig {
  const cfg: VaeConfig = {
    ...REFERENCE_VAE,
    ...partial,
    optimizer: { ...REFERENCE_VAE.optimizer, ...(partial.optimizer ?? {}) } as OptimizerConfig,
  };
  const bad = (field: string, why: string) => {
    throw new Error(`model config: ${field} ${why}`);
  };
  if (cfg.arch !== 'mlp' && cfg.arch !== 'conv') bad('arch', `must be 'mlp' or 'conv', got ${JSON.stringify(cfg.arch)}`);
  if (!Array.isArray(cfg.inputShape) || cfg.inputShape.length === 0 || !cfg.inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    bad('inputShape', `must be positive integers, got ${JSON.stringify(cfg.inputShape)}`);
  }
  if (cfg.arch === 'conv') {
    if (cfg.inputShape.length !== 3)
      bad('inputShape', `must be [channels, height, width] for a conv model, got ${JSON.stringify(cfg.inputShape)}`);
    const f = 2 ** cfg.convChannels.length;
    if (cfg.inputShape[1] % f !== 0 || cfg.inputShape[2] % f !== 0) {
      bad('inputShape', `height and width must be divisible by ${f} (one halving per conv layer), got ${JSON.stringify(cfg.inputShape)}`);
    }
  }
  if (!cfg.hidden.every((d) => Number.isInteger(d) && d > 0)) bad('hidden', `must be positive integers, got ${JSON.stringify(cfg.hidden)}`);
  if (!Number.isInteger(cfg.latent) || cfg.latent < 1) bad('latent', `must be a positive integer, got ${cfg.latent}`);
  if (!ACTIVATIONS.includes(cfg.activation))
    bad('activation', `must be one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(cfg.activation)}`);
  if (!Number.isInteger(cfg.samples) || cfg.samples < 1) bad('samples', `must be a positive integer, got ${cfg.samples}`);
  if (!(cfg.freeBits >= 0)) bad('freeBits', `must be ≥ 0, got ${cfg.freeBits}`);
  if (!['kl', 'entropy', 'iwae'].includes(cfg.objective))
    bad('objective', `must be 'kl', 'entropy' or 'iwae', got ${JSON.stringify(cfg.objective)}`);
  const lk = cfg.likelihood;
  if (lk.type !== 'bernoulli' && lk.type !== 'gaussian')
    bad('likelihood.type', `must be 'bernoulli' or 'gaussian', got ${JSON.stringify((lk as { type: unknown }).type)}`);
  if (lk.type === 'gaussian') {
    if (!['fixed', 'scalar', 'feature'].includes(lk.variance)) bad('likelihood.variance', `must be 'fixed', 'scalar' or 'feature'`);
    if (lk.variance === 'fixed' && !(lk.sigma > 0)) bad('likelihood.sigma', `must be > 0, got ${lk.sigma}`);
  }
  if (!['adam', 'adamw', 'sgd'].includes(cfg.optimizer.type))
    bad('optimizer.type', `must be 'adam', 'adamw' or 'sgd', got ${JSON.stringify(cfg.optimizer.type)}`);
  if (cfg.conditional !== undefined) {
    const c = cfg.conditional;
    if (typeof c !== 'object' || c === null) bad('conditional', `must be {classes, prior}, got ${JSON.stringify(c)}`);
    // The prior defaults to N(0, I): {"conditional": {"classes": 10}} is a complete option.
    cfg.conditional = { ...c, prior: c.prior ?? 'standard' };
    if (!Number.isInteger(c.classes) || c.classes < 2) bad('conditional.classes', `must be an integer ≥ 2, got ${JSON.stringify(c.classes)}`);
    if (!['standard', 'learned'].includes(cfg.conditional.prior))
      bad('conditional.prior', `must be 'standard' or 'learned', got ${JSON.stringify(cfg.conditional.prior)}`);
  }
  return cfg;
}

export function inputSize(cfg: VaeConfig): number {
  return cfg.inputShape.reduce((a, b) => a * b, 1);
}

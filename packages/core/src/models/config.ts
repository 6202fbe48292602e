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

/**
 * A second stochastic layer (families/hierarchical.ts): z₂ with `latent` units above z₁ (the config's `latent`);
 * q(z₂|z₁) has `hidden` layers and p(z₁|z₂) the same in reverse order, with the config's activation.
 */
export interface HierarchicalConfig {
  latent: number;
  hidden: number[];
}

/** The Concrete / Gumbel-softmax relaxation of categorical latents (families/concrete.ts): its temperature τ > 0. */
export interface RelaxationConfig {
  temperature: number;
}

/**
 * A structured-output model (families/structured.ts, Sohn et al. 2015): each image is split by a fixed mask into the
 * observed part x and the rest y; the model is p(y|x) = ∫ p(y|x, z) p(z|x) dz.
 */
export interface StructuredConfig {
  /** Which part of each image is given: 'top-half', 'left-half', 'quadrant' (bottom left) or 'three-quadrants' (all but the bottom right). */
  observed: 'top-half' | 'left-half' | 'quadrant' | 'three-quadrants';
  /**
   * 'cvae' (recognition q(z|x, y) and prior p(z|x)), 'gsnn' (trained with the prior network only), 'hybrid'
   * (α·L_CVAE + (1 − α)·L_GSNN), 'baseline' (deterministic, no z).
   */
  model: 'cvae' | 'gsnn' | 'hybrid' | 'baseline';
  /** The hybrid's weight α of the CVAE bound, 0 ≤ α ≤ 1 (default 0.5); only with model 'hybrid'. */
  alpha?: number;
}

/** The hybrid objective's default α (Sohn et al. 2015, eq. 9). */
export const STRUCTURED_HYBRID_ALPHA = 0.5;

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
  /** Structured output: complete images from a part of them (families/structured.ts). */
  structured?: StructuredConfig;
  /** Two stochastic layers z₂ → z₁ → x (Burda et al. 2016, §5): z₂'s width and the layers between z₁ and z₂. */
  hierarchical?: HierarchicalConfig;
  /** Latent distribution: Gaussian (default), Bernoulli bits, or `latent` groups of `categories` classes (models/discrete.ts). */
  latentType?: 'gaussian' | 'bernoulli' | 'categorical';
  /** Classes K per categorical latent group (latentType 'categorical'); default 10. */
  categories?: number;
  /**
   * Categorical latents trained through the Concrete / Gumbel-softmax relaxation z = softmax((l + g)/τ) with the
   * 'reparam' estimator (families/concrete.ts); absent: the score function.
   */
  relaxation?: RelaxationConfig;
  /** Encoder gradient: reparameterization (Gaussian latents) or score function / REINFORCE (models/score-function.ts). */
  estimator?: 'reparam' | 'score';
  /**
   * Score-function baseline b subtracted from the reward: none, a moving average, or leave-one-out (samples > 1);
   * 'vimco' (objective 'iwae', samples ≥ 2): VIMCO's per-sample leave-one-out bounds (models/vimco.ts); 'nvil': NVIL's
   * learned baseline b_ψ(x), centering and variance normalization (models/nvil.ts; its network is part of the model).
   */
  baseline?: 'none' | 'moving-average' | 'leave-one-out' | 'vimco' | 'nvil';
  /** Decay α of the moving-average baseline, b ← α·b + (1 − α)·mean r (and of NVIL's running mean and variance); default 0.9. */
  baselineDecay?: number;
  /**
   * How q is found (models/per-datapoint-training.ts): 'amortized' (default), an encoder network q(z|x); or
   * 'per-datapoint', a free q_i = N(μ_i, σ_i²) for each of the `examples` training examples, a table trained jointly
   * with θ (no encoder); a new x is fitted by `refineSteps` Adam steps of its ELBO with θ fixed; or 'semi-amortized'
   * (models/semi-amortized.ts), the encoder's q refined by `refineSteps` Adam steps, in training and at test time.
   */
  inference?: 'amortized' | 'per-datapoint' | 'semi-amortized';
  /** Per-datapoint inference: rows of the q table, the training examples N (the train command sets it from the data). */
  examples?: number;
  /** Adam steps that fit q for a new x (encoder.onnx and eval.onnx run them), and per training step for semi-amortized; default 100 (per-datapoint), 10 (semi-amortized). */
  refineSteps?: number;
  /** Adam's learning rate for the q table and for the refinement steps; default 1 (per-datapoint), 0.05 (semi-amortized). */
  refineLr?: number;
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
/** What users write: any part of the config, the optimizer's fields included. */
export type VaeConfigInput = Omit<Partial<VaeConfig>, 'optimizer'> & { optimizer?: Partial<OptimizerConfig> };

export function resolveConfig(partial: VaeConfigInput = {}): VaeConfig {
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
  validateOptimizerOptions(cfg.optimizer, bad);
  if (cfg.conditional !== undefined) {
    const c = cfg.conditional;
    if (typeof c !== 'object' || c === null) bad('conditional', `must be {classes, prior}, got ${JSON.stringify(c)}`);
    // The prior defaults to N(0, I): {"conditional": {"classes": 10}} is a complete option.
    cfg.conditional = { ...c, prior: c.prior ?? 'standard' };
    if (!Number.isInteger(c.classes) || c.classes < 2)
      bad('conditional.classes', `must be an integer ≥ 2, got ${JSON.stringify(c.classes)}`);
    if (!['standard', 'learned'].includes(cfg.conditional.prior))
      bad('conditional.prior', `must be 'standard' or 'learned', got ${JSON.stringify(cfg.conditional.prior)}`);
    // The conditional model is built for Gaussian latents trained by reparameterization (models/conditional.ts).
    if ((cfg.latentType ?? 'gaussian') !== 'gaussian' || cfg.estimator === 'score')
      bad(
        'conditional',
        "needs Gaussian latents and the reparameterization estimator (leave out latentType and estimator, or set 'gaussian' and 'reparam')",
      );
  }
  if (cfg.hierarchical !== undefined) validateHierarchical(cfg, bad);
  validateEstimatorOptions(cfg, bad);
  validateInference(cfg, bad);
  if (cfg.structured !== undefined) validateStructured(cfg, bad);
  return cfg;
}

/** structured: {observed, model} (model defaults to 'cvae'); an MLP on one-channel images, Gaussian latents, the ELBO. */
function validateStructured(cfg: VaeConfig, bad: (field: string, why: string) => void): void {
  const s = cfg.structured as unknown;
  if (typeof s !== 'object' || s === null || Array.isArray(s)) bad('structured', `must be {observed, model}, got ${JSON.stringify(s)}`);
  const { observed, model = 'cvae', alpha, ...rest } = s as Partial<StructuredConfig>;
  const extra = Object.keys(rest);
  if (extra.length) bad('structured', `has unknown field(s) ${extra.join(', ')} (it takes observed, model, alpha)`);
  const parts = ['top-half', 'left-half', 'quadrant', 'three-quadrants'];
  if (!parts.includes(observed as string))
    bad('structured.observed', `must be one of ${parts.join(', ')}, got ${JSON.stringify(observed)}`);
  if (!['cvae', 'gsnn', 'hybrid', 'baseline'].includes(model))
    bad('structured.model', `must be 'cvae', 'gsnn', 'hybrid' or 'baseline', got ${JSON.stringify(model)}`);
  if (alpha !== undefined && model !== 'hybrid') bad('structured.alpha', `goes with model 'hybrid' only (model is '${model}')`);
  if (model === 'hybrid' && alpha !== undefined && !(typeof alpha === 'number' && alpha >= 0 && alpha <= 1))
    bad('structured.alpha', `must be a number in [0, 1] (the CVAE bound's weight), got ${JSON.stringify(alpha)}`);
  cfg.structured =
    model === 'hybrid'
      ? { observed: observed as StructuredConfig['observed'], model, alpha: alpha ?? STRUCTURED_HYBRID_ALPHA }
      : { observed: observed as StructuredConfig['observed'], model };
  const side = Math.round(Math.sqrt(cfg.inputShape.reduce((a, b) => a * b, 1)));
  if (cfg.arch !== 'mlp' || cfg.inputShape.length !== 1 || side * side !== cfg.inputShape[0])
    bad(
      'structured',
      `needs an MLP on square one-channel images (inputShape [h·w]), got arch '${cfg.arch}', inputShape [${cfg.inputShape}]`,
    );
  const clash = (['conditional', 'hierarchical', 'latentType', 'estimator', 'inference', 'relaxation'] as const).filter(
    (k) =>
      (cfg as unknown as Record<string, unknown>)[k] !== undefined &&
      !(k === 'latentType' && cfg.latentType === 'gaussian') &&
      !(k === 'estimator' && cfg.estimator === 'reparam') &&
      !(k === 'inference' && cfg.inference === 'amortized'),
  );
  if (clash.length)
    bad('structured', `cannot be combined with ${clash.join(', ')} (it has Gaussian latents, trained by reparameterization)`);
  if (cfg.objective === 'iwae') bad('structured', "trains the conditional ELBO (objective 'kl' or 'entropy'), not 'iwae'");
}

/** Defaults of per-datapoint inference (resolveConfig writes them into the config, so a bundle records them). */
export const PER_DATAPOINT_DEFAULTS = { refineSteps: 100, refineLr: 1 } as const;
/** Defaults of semi-amortized inference: K refinement steps per training step cost K decoder passes more. */
export const SEMI_AMORTIZED_DEFAULTS = { refineSteps: 10, refineLr: 0.05 } as const;

/** inference, examples, refineSteps, refineLr. */
function validateInference(cfg: VaeConfig, bad: (field: string, why: string) => void): void {
  const inference = cfg.inference ?? 'amortized';
  if (!['amortized', 'per-datapoint', 'semi-amortized'].includes(inference))
    bad('inference', `must be 'amortized', 'per-datapoint' or 'semi-amortized', got ${JSON.stringify(inference)}`);
  if (inference === 'amortized') {
    for (const k of ['examples', 'refineSteps', 'refineLr'] as const)
      if (cfg[k] !== undefined) bad(k, `is an option of per-datapoint and semi-amortized inference; set inference to use it`);
    return;
  }
  const defaults = inference === 'per-datapoint' ? PER_DATAPOINT_DEFAULTS : SEMI_AMORTIZED_DEFAULTS;
  cfg.refineSteps ??= defaults.refineSteps;
  cfg.refineLr ??= defaults.refineLr;
  if (inference === 'per-datapoint') {
    if (!(Number.isInteger(cfg.examples) && (cfg.examples as number) >= 1))
      bad(
        'examples',
        `must be the number of training examples (a positive integer) for per-datapoint inference, got ${JSON.stringify(cfg.examples)}`,
      );
  } else if (cfg.examples !== undefined) bad('examples', `is a per-datapoint option (the semi-amortized encoder needs no table)`);
  if (!(Number.isInteger(cfg.refineSteps) && cfg.refineSteps >= 1 && cfg.refineSteps <= 100_000))
    bad('refineSteps', `must be an integer in [1, 100000], got ${JSON.stringify(cfg.refineSteps)}`);
  if (!(typeof cfg.refineLr === 'number' && cfg.refineLr > 0 && Number.isFinite(cfg.refineLr)))
    bad('refineLr', `must be > 0, got ${JSON.stringify(cfg.refineLr)}`);
  if ((cfg.latentType ?? 'gaussian') !== 'gaussian' || cfg.estimator === 'score' || cfg.hierarchical)
    bad('inference', `'${inference}' optimizes Gaussian q_i by reparameterization: leave out latentType, estimator and hierarchical`);
  if (cfg.objective === 'iwae') bad('inference', `'${inference}' trains the ELBO (objective 'kl' or 'entropy'), not 'iwae'`);
}

/** The second stochastic layer: {latent, hidden} (hidden defaults to [], linear maps between z₁ and z₂). */
function validateHierarchical(cfg: VaeConfig, bad: (field: string, why: string) => void): void {
  const h = cfg.hierarchical as unknown;
  if (typeof h !== 'object' || h === null || Array.isArray(h)) bad('hierarchical', `must be {latent, hidden}, got ${JSON.stringify(h)}`);
  const { latent, hidden = [] } = h as Partial<HierarchicalConfig>;
  cfg.hierarchical = { latent: latent as number, hidden };
  if (!Number.isInteger(latent) || (latent as number) < 1)
    bad('hierarchical.latent', `must be a positive integer, got ${JSON.stringify(latent)}`);
  if (!Array.isArray(hidden) || !hidden.every((d) => Number.isInteger(d) && d > 0))
    bad('hierarchical.hidden', `must be positive integers, got ${JSON.stringify(hidden)}`);
  if (cfg.conditional) bad('hierarchical', 'cannot be combined with conditional (leave one of them out)');
  // Both layers are reparameterized Gaussians; the score function would need an analytic KL the family lacks.
  if ((cfg.latentType ?? 'gaussian') !== 'gaussian' || cfg.estimator === 'score')
    bad(
      'hierarchical',
      "needs Gaussian latents and the reparameterization estimator (leave out latentType and estimator, or set 'gaussian' and 'reparam')",
    );
}

/** The optimizer's numbers, with PyTorch's ranges (torch.optim.Adam/AdamW/SGD reject the same values). */
function validateOptimizerOptions(o: OptimizerConfig, bad: (field: string, why: string) => void): void {
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const show = (v: unknown) => (typeof v === 'number' ? String(v) : JSON.stringify(v));
  for (const k of ['beta1', 'beta2'] as const)
    if (!(finite(o[k]) && o[k] >= 0 && o[k] < 1)) bad(`optimizer.${k}`, `must be in [0, 1), got ${show(o[k])}`);
  if (!(finite(o.eps) && o.eps >= 0)) bad('optimizer.eps', `must be ≥ 0, got ${show(o.eps)}`);
  // Adam's weight decay is L2 (added to the gradient), AdamW's decoupled, SGD's L2: optim/optimizer.ts.
  if (!(finite(o.weightDecay) && o.weightDecay >= 0)) bad('optimizer.weightDecay', `must be ≥ 0, got ${show(o.weightDecay)}`);
  if (!(finite(o.momentum) && o.momentum >= 0)) bad('optimizer.momentum', `must be ≥ 0, got ${show(o.momentum)}`);
  if (o.clipNorm !== undefined && !(finite(o.clipNorm) && o.clipNorm >= 0))
    bad('optimizer.clipNorm', `must be ≥ 0 (0 turns clipping off), got ${show(o.clipNorm)}`);
}

/** The latent type, estimator and baseline options (absent fields keep the plain Gaussian, reparameterized VAE). */
function validateEstimatorOptions(cfg: VaeConfig, bad: (field: string, why: string) => void): void {
  const latentType = cfg.latentType ?? 'gaussian';
  if (!['gaussian', 'bernoulli', 'categorical'].includes(latentType))
    bad('latentType', `must be 'gaussian', 'bernoulli' or 'categorical', got ${JSON.stringify(latentType)}`);
  if (cfg.categories !== undefined && !(Number.isInteger(cfg.categories) && cfg.categories >= 2))
    bad('categories', `must be an integer ≥ 2, got ${JSON.stringify(cfg.categories)}`);
  if (cfg.relaxation !== undefined) {
    const r = cfg.relaxation as unknown;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) bad('relaxation', `must be {temperature}, got ${JSON.stringify(r)}`);
    const t = (r as Partial<RelaxationConfig>).temperature;
    if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0)
      bad('relaxation.temperature', `must be a number > 0, got ${JSON.stringify(t)}`);
    if (latentType !== 'categorical')
      bad('relaxation', `is the Concrete relaxation of categorical latents: set latentType 'categorical' (got '${latentType}')`);
    if (cfg.estimator === 'score')
      bad('relaxation', "trains by reparameterization: leave out estimator (or set 'reparam'), or drop relaxation for 'score'");
    if (cfg.objective === 'iwae')
      bad('relaxation', "supports the 'kl' and 'entropy' objectives (its KL is the categorical one), not 'iwae'");
  }
  const estimator = cfg.estimator ?? (latentType === 'gaussian' || cfg.relaxation ? 'reparam' : 'score');
  if (!['reparam', 'score'].includes(estimator)) bad('estimator', `must be 'reparam' or 'score', got ${JSON.stringify(estimator)}`);
  if (estimator === 'reparam' && latentType === 'categorical' && !cfg.relaxation)
    bad(
      'estimator',
      `'reparam' needs Gaussian latents or a relaxation; categorical latents have none unless relaxation: { temperature } is set`,
    );
  if (estimator === 'reparam' && latentType === 'bernoulli')
    bad('estimator', `'reparam' needs Gaussian latents; ${latentType} latents have no reparameterization (use 'score')`);
  const baseline = cfg.baseline ?? 'none';
  if (!['none', 'moving-average', 'leave-one-out', 'vimco', 'nvil'].includes(baseline))
    bad('baseline', `must be 'none', 'moving-average', 'leave-one-out', 'vimco' or 'nvil', got ${JSON.stringify(baseline)}`);
  if (baseline !== 'none' && estimator !== 'score') bad('baseline', `is a score-function option; set estimator 'score' to use it`);
  if (baseline === 'leave-one-out' && cfg.samples < 2) bad('baseline', `'leave-one-out' needs samples ≥ 2, got ${cfg.samples}`);
  if (cfg.baselineDecay !== undefined && !(cfg.baselineDecay >= 0 && cfg.baselineDecay < 1))
    bad('baselineDecay', `must be in [0, 1), got ${JSON.stringify(cfg.baselineDecay)}`);
  // The score function of the IWAE bound: VIMCO's per-sample baselines (or none / the moving average, to compare).
  if (baseline === 'vimco') {
    if (cfg.objective !== 'iwae')
      bad('baseline', `'vimco' is the IWAE bound's estimator: set objective 'iwae' (got ${JSON.stringify(cfg.objective)})`);
    if (cfg.samples < 2) bad('baseline', `'vimco' needs samples ≥ 2 (K importance samples), got ${cfg.samples}`);
  }
  if (estimator === 'score' && cfg.objective === 'iwae' && !['none', 'moving-average', 'vimco'].includes(baseline))
    bad('baseline', `'${baseline}' is an ELBO baseline; with objective 'iwae' use 'vimco' (or 'none', 'moving-average')`);
  if (estimator === 'score' && cfg.conditional) bad('estimator', `'score' does not support conditional models yet`);
}

export function inputSize(cfg: VaeConfig): number {
  return cfg.inputShape.reduce((a, b) => a * b, 1);
}

/**
 * The conditional VAE on the host side: its options, one-hot labels, and the learned prior's per-class table (the
 * graphs — q(z|x, y), p(x|z, y), p(z|y) — are built by the conditional latent family, families/conditional.ts).
 */
import type { TensorData } from '../ir/tensor.js';
import type { ConditionalConfig, VaeConfig } from './config.js';

/** The model's conditional options; a clear error for a plain VAE. */
export function conditionalOf(cfg: VaeConfig): ConditionalConfig {
  if (!cfg.conditional) throw new Error('this model is not conditional (its config has no `conditional: {classes, prior}`)');
  return cfg.conditional;
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

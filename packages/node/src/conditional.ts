/** Conditional models in the Node tools: label checks and grid labels (samplers: core's openSampler). */
import type { VaeConfig } from '@onnxvae/core';
import type { Dataset } from './data/dataset.js';

/** Fails, naming the data, when a conditional model gets data without labels or with labels outside its classes. */
export function checkLabels(cfg: VaeConfig, ds: Dataset, what: string): void {
  const c = cfg.conditional?.classes;
  if (c === undefined) return;
  if (!ds.labels) {
    throw new Error(
      `${what} (${ds.name}) has no labels, but the model is conditional (${c} classes): pass --labels FILE (MNIST has them built in)`,
    );
  }
  for (let i = 0; i < ds.labels.length; i++) {
    const y = ds.labels[i];
    if (!(y >= 0 && y < c)) throw new Error(`${what} (${ds.name}): example ${i} has label ${y}, the model has classes 0 to ${c - 1}`);
  }
}

// Moved to core (runtime/fit.ts, runtime/open-sampler.ts); re-exported so @onnxvae/node's API stays the same.
export { checkpointParams } from '@onnxvae/core';
export { concatLabels } from '@onnxvae/core/internal';

/**
 * Labels for a grid of n samples: `label` for all, or — for a conditional model given none — one class per column
 * (returns the column count to use), undefined for a plain model.
 */
export function gridLabels(cfg: VaeConfig, n: number, label?: number): { labels?: Int32Array; cols?: number } {
  const c = cfg.conditional?.classes;
  if (label !== undefined) {
    if (c === undefined) throw new Error('--label needs a conditional model (config `conditional: {classes, prior}`); this one is not');
    if (!Number.isInteger(label) || label < 0 || label >= c)
      throw new Error(`--label must be a class of the model, 0 to ${c - 1}, got ${label}`);
    return { labels: new Int32Array(n).fill(label) };
  }
  if (c === undefined) return {};
  return { labels: Int32Array.from({ length: n }, (_, i) => i % c), cols: c };
}

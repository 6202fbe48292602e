/**
 * Mini-batches over a Dataset with a deterministic per-(seed, epoch) order: the same seed and epoch always give
 * the same batches, so a run resumed at epoch e sees exactly the batches it would have seen.
 *
 * @example
 * for (const b of batches(train, 128, { shuffle: true, seed: 0, epoch })) step(b.x, b.size);
 */
import { bernoulliDraw } from './binarize.js';
import type { Dataset } from './dataset.js';
import { exampleSize } from './dataset.js';
import { mixSeed, seededPermutation } from './shuffle.js';

export interface Batch {
  /** size × D values, row-major. */
  x: Float32Array;
  /** Labels of the batch's examples, when the dataset has labels. */
  y?: Int32Array;
  /** The dataset indices of the batch's examples (for per-datapoint parameters, e.g. non-amortized VI). */
  indices: Uint32Array;
  /** Number of examples; equals batchSize except possibly for the last batch. */
  size: number;
}

export interface BatchOptions {
  shuffle: boolean;
  seed: number;
  epoch: number;
  /** Skip a final batch smaller than batchSize (default false). */
  dropLast?: boolean;
  /**
   * Dynamic binarization: each example's pixels x ∈ [0, 1] become a fresh Bernoulli draw (1 with probability x), a
   * pure function of (seed, epoch, example index), so a resumed epoch draws exactly what an uninterrupted one did.
   */
  dynamicBinarize?: boolean;
}

/** The example order for one epoch: a permutation fixed by (seed, epoch), or 0..n-1 without shuffling. */
export function epochOrder(n: number, options: Pick<BatchOptions, 'shuffle' | 'seed' | 'epoch'>): Uint32Array {
  if (!options.shuffle) return Uint32Array.from({ length: n }, (_, i) => i);
  return seededPermutation(n, mixSeed(options.seed, options.epoch));
}

/** Yield the epoch's batches; each batch owns fresh arrays. */
export function* batches(ds: Dataset, batchSize: number, options: BatchOptions): Generator<Batch, void, undefined> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  if (!Number.isSafeInteger(options.seed)) throw new Error(`batch seed must be a safe integer, got ${options.seed}`);
  if (!Number.isInteger(options.epoch) || options.epoch < 0) {
    throw new Error(`epoch must be a non-negative integer, got ${options.epoch}`);
  }
  const D = exampleSize(ds);
  if (ds.x.length !== ds.n * D) {
    throw new Error(`dataset ${ds.name} has ${ds.x.length} values but n × D = ${ds.n} × ${D} = ${ds.n * D}`);
  }
  const order = epochOrder(ds.n, options);
  const labels = ds.labels;
  for (let start = 0; start < ds.n; start += batchSize) {
    const size = Math.min(batchSize, ds.n - start);
    if (size < batchSize && options.dropLast === true) return;
    const indices = order.slice(start, start + size);
    const x = new Float32Array(size * D);
    for (let k = 0; k < size; k++) {
      const src = indices[k];
      const row = ds.x.subarray(src * D, (src + 1) * D);
      if (options.dynamicBinarize === true) bernoulliDraw(x.subarray(k * D, (k + 1) * D), row, options.seed, options.epoch, src);
      else x.set(row, k * D);
    }
    const batch: Batch = { x, indices, size };
    if (labels !== undefined) batch.y = Int32Array.from(indices, (i) => labels[i]);
    yield batch;
  }
}

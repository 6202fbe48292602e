/**
 * Binarization of pixel intensities x ∈ [0, 1] for a Bernoulli likelihood, as a stated choice (`--binarize`):
 *
 * - 'threshold': x ← 1 if x ≥ 0.5, else 0, once (the same data every epoch);
 * - 'dynamic': x ← 1 with probability x, a fresh draw of every pixel every epoch (Burda et al. 2015, and most papers
 *   since). The draw of example i in epoch e is a pure function of (seed, e, i), so a resumed run, which restarts
 *   at an epoch boundary, sees exactly the pixels an uninterrupted run would, whatever the batch size or order.
 *   The test set is binarized once by the same kind of draw with the fixed seed TEST_BINARIZATION_SEED, the same
 *   for every model and training seed, so test numbers compare across runs (as papers fix one binarized test set);
 * - 'none': the values as they are (grayscale).
 *
 * @example
 * const x = dataset.x.slice(0, 784);
 * bernoulliDraw(x, dataset.x.subarray(0, 784), seed, epoch, 0); // example 0's pixels of this epoch, in {0, 1}
 */
import type { Binarization } from '@onnxvae/core/internal';
import { mixSeed, mulberry32 } from './shuffle.js';

export { BINARIZATIONS } from '@onnxvae/core/internal';
export type { Binarization };

/** The fixed threshold of 'threshold' binarization: x ≥ 0.5 is ink. */
export const BINARIZE_THRESHOLD = 0.5;

/** The seed of the one Bernoulli draw that binarizes a test set under 'dynamic' binarization. */
export const TEST_BINARIZATION_SEED = 0;

/** Tags the binarization's stream, so it never coincides with the epoch shuffle's mixSeed(seed, epoch). */
const DRAW_STREAM = 0x62696e61; // 'bina'

/** x ← 1 if x ≥ 0.5, else 0, in place. */
export function thresholdBinarize(x: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] = x[i] >= BINARIZE_THRESHOLD ? 1 : 0;
}

/**
 * One Bernoulli draw of an example's pixels: out[j] = 1 if u_j < src[j], else 0, with u_j the j-th uniform of a
 * generator seeded by (seed, epoch, example). `out` may be `src` itself.
 */
export function bernoulliDraw(out: Float32Array, src: Float32Array, seed: number, epoch: number, example: number): void {
  const next = mulberry32(mixSeed(mixSeed(mixSeed(seed, DRAW_STREAM), epoch), example));
  for (let j = 0; j < src.length; j++) out[j] = next() / 4294967296 < src[j] ? 1 : 0;
}

/** Binarizes n examples of D values in place by one Bernoulli draw each, fixed by `seed` (the test set's draw). */
export function fixedBernoulliBinarize(x: Float32Array, D: number, seed: number = TEST_BINARIZATION_SEED): void {
  for (let i = 0; i * D < x.length; i++) {
    const row = x.subarray(i * D, (i + 1) * D);
    bernoulliDraw(row, row, seed, 0, i);
  }
}

/**
 * Parses a binarization option: 'dynamic', 'threshold' or 'none' (true / false, the older boolean, mean 'threshold'
 * / 'none'); undefined stays undefined (the data's default applies).
 */
export function toBinarization(v: Binarization | boolean | undefined): Binarization | undefined {
  if (v === true) return 'threshold';
  if (v === false) return 'none';
  return v;
}

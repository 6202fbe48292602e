/**
 * Image completion with a structured-output model (core's families/structured.ts): a grid of n rows, each the
 * observed part (missing pixels shown mid-gray), `samples` completions drawn from p(y|x), and the original when known.
 */
import { observedMask, Prng, type Sampler, type VaeConfig } from '@onnxvae/core';

/** The gray level that marks pixels the model was not given. */
export const MISSING_GRAY = 0.35;

export interface CompletionGrid {
  /** rows × cols images, row-major, each D values in [0, 1]. */
  images: Float32Array;
  rows: number;
  cols: number;
}

/**
 * n images (x: n × D; only their observed pixels reach the model) → [observed | samples completions | original].
 * `withOriginal` false leaves the last column out (a user's drawing has no ground truth).
 */
export async function completionGrid(
  sampler: Sampler,
  cfg: VaeConfig,
  x: Float32Array,
  n: number,
  opts: { samples: number; seed: number; temperature?: number; withOriginal?: boolean },
): Promise<CompletionGrid> {
  const D = cfg.inputShape.reduce((a, c) => a * c, 1);
  const m = observedMask(cfg);
  const { x: done } = await sampler.complete(x, n, { samples: opts.samples, prng: new Prng(opts.seed), temperature: opts.temperature });
  const withOriginal = opts.withOriginal ?? true;
  const cols = 1 + opts.samples + (withOriginal ? 1 : 0);
  const images = new Float32Array(n * cols * D);
  for (let i = 0; i < n; i++) {
    const row = i * cols;
    for (let p = 0; p < D; p++) images[row * D + p] = m[p] ? x[i * D + p] : MISSING_GRAY;
    images.set(done.subarray(i * opts.samples * D, (i + 1) * opts.samples * D), (row + 1) * D);
    if (withOriginal) images.set(x.subarray(i * D, (i + 1) * D), (row + cols - 1) * D);
  }
  return { images, rows: n, cols };
}

import type { VaeConfig } from '../models/config.js';

/**
 * The [height, width] of a model's examples as images: the last two dims of a [C, H, W] input, or the side of a
 * square flat input (784 → 28×28); undefined when the data are not images.
 */
export function imageDims(cfg: Pick<VaeConfig, 'inputShape'>): [number, number] | undefined {
  if (cfg.inputShape.length === 3) return [cfg.inputShape[1], cfg.inputShape[2]];
  const side = Math.round(Math.sqrt(cfg.inputShape[0]));
  return side * side === cfg.inputShape[0] ? [side, side] : undefined;
}

/**
 * How a bundle's examples are drawn as pictures: channels, height and width. An MLP takes flat examples ([3072] for
 * 3×32×32 colour images), so the model config alone cannot tell a colour image from a gray one; the manifest's
 * record of the training data (training.data.shape, the examples' own shape) can.
 *
 * @example
 * const s = imageShape(bundle.manifest); // { channels: 3, height: 32, width: 32 } for an RGB image folder
 * if (s) writeImageGrid('grid.png', x, n, s.height, s.width, 8, 2, s.channels);
 */
import { imageDims, type Manifest } from '@onnxvae/core';

export interface ImageShape {
  channels: 1 | 3;
  height: number;
  width: number;
}

/** The image shape of examples of shape `dims` ([H, W], [1, H, W] or [3, H, W]); undefined when they are no images. */
export function imageShapeOfDims(dims: readonly number[]): ImageShape | undefined {
  if (dims.length === 2) return { channels: 1, height: dims[0], width: dims[1] };
  if (dims.length === 3 && (dims[0] === 1 || dims[0] === 3)) return { channels: dims[0], height: dims[1], width: dims[2] };
  return undefined;
}

/**
 * The image shape of a bundle's examples: from the recorded shape of its training data when that matches the model's
 * input size, else from the model's input shape ([C, H, W], or a square flat input as one gray channel).
 */
export function imageShape(m: Pick<Manifest, 'config' | 'training'>): ImageShape | undefined {
  const size = m.config.inputShape.reduce((a, b) => a * b, 1);
  const recorded = m.training.data?.shape;
  if (recorded !== undefined && recorded.reduce((a, b) => a * b, 1) === size) {
    const s = imageShapeOfDims(recorded);
    if (s) return s;
  }
  if (m.config.inputShape.length === 3) {
    const s = imageShapeOfDims(m.config.inputShape);
    if (s) return s;
  }
  const hw = imageDims(m.config);
  return hw && m.config.inputShape.length === 1 ? { channels: 1, height: hw[0], width: hw[1] } : undefined;
}

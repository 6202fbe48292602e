import { describe, expect, it } from 'vitest';
import { imageShape, imageShapeOfDims } from './image-shape.js';

type M = Parameters<typeof imageShape>[0];
const manifest = (inputShape: number[], shape?: number[]): M =>
  ({
    config: { inputShape },
    training: {
      step: 0,
      epoch: 0,
      seed: 0,
      prngState: {},
      ...(shape ? { data: { source: 'x', binarize: 'none', examples: 1, shape } } : {}),
    },
  }) as unknown as M;

describe('imageShape', () => {
  it('an MLP on colour images: the recorded data shape says 3 channels, which the flat input cannot', () => {
    expect(imageShape(manifest([3072], [3, 32, 32]))).toEqual({ channels: 3, height: 32, width: 32 });
    expect(imageShape(manifest([3072]))).toBeUndefined(); // 3072 is no square: not drawable without the record
  });

  it('gray data: flat square inputs, [1, H, W] conv inputs and [H, W] records', () => {
    expect(imageShape(manifest([784]))).toEqual({ channels: 1, height: 28, width: 28 });
    expect(imageShape(manifest([784], [28, 28]))).toEqual({ channels: 1, height: 28, width: 28 });
    expect(imageShape(manifest([1, 8, 6]))).toEqual({ channels: 1, height: 8, width: 6 });
    expect(imageShape(manifest([3, 8, 8]))).toEqual({ channels: 3, height: 8, width: 8 });
  });

  it('ignores a record that does not fit the model, and shapes that are no images', () => {
    expect(imageShape(manifest([784], [3, 32, 32]))).toEqual({ channels: 1, height: 28, width: 28 });
    expect(imageShape(manifest([10]))).toBeUndefined();
    expect(imageShapeOfDims([2, 4, 4])).toBeUndefined();
    expect(imageShapeOfDims([784])).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { gridRgba } from './draw.js';

describe('gridRgba', () => {
  it('tiles like core tileImages: gray 96 padding, values as gray levels, non-finite values red', () => {
    // Two 1×2 images in 2 columns, pad 1, scale 1: width = 1 + 2·(2 + 1) = 7, height = 1 + 1·(1 + 1) = 3.
    const img = gridRgba(new Float32Array([0, 1, 0.5, Number.NaN]), 2, 1, 2, 2, { pad: 1 });
    expect([img.width, img.height]).toEqual([7, 3]);
    const P = [96, 96, 96, 255];
    const R = [255, 0, 0, 255];
    const g = (b: number) => [b, b, b, 255];
    // biome-ignore format: the grid, row by row
    expect(Array.from(img.data)).toEqual([
      P, P,    P,      P, P,      P, P,
      P, g(0), g(255), P, g(128), R, P,
      P, P,    P,      P, P,      P, P,
    ].flat());
  });

  it('clamps cols to 1 … n, as before the shared tiler', () => {
    const one = gridRgba(new Float32Array(8), 2, 2, 2, 0, { pad: 0 });
    expect([one.width, one.height]).toEqual([2, 4]); // cols 0 → one column
    const wide = gridRgba(new Float32Array(8), 2, 2, 2, 10, { pad: 0, scale: 3 });
    expect([wide.width, wide.height]).toEqual([12, 6]); // cols 10 → the 2 images side by side, 3× scaled
  });

  it('says how many values it needs', () => {
    expect(() => gridRgba(new Float32Array(3), 1, 2, 2, 1)).toThrow(/gridRgba: 1 images of 2×2 need 4 values, got 3/);
  });
});

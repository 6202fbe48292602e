import { describe, expect, it } from 'vitest';
import { tileImages, unitToByte } from './tile.js';

describe('tileImages', () => {
  it('lays out 5 images of 2×3 in 3 columns, pad 1: every pixel of the grid', () => {
    const n = 5;
    const images = new Float32Array(n * 6);
    // Image k's value at (row y, column x) is k + (3y + x)/10: each pixel says where it came from.
    for (let k = 0; k < n; k++) for (let i = 0; i < 6; i++) images[k * 6 + i] = k + i / 10;
    const g = tileImages(images, n, 2, 3, 3, { pad: 1, padValue: -1 });
    // 3 columns, 2 rows: width = 1 + 3·(3 + 1) = 13, height = 1 + 2·(2 + 1) = 7.
    expect([g.width, g.height, g.cols, g.rows]).toEqual([13, 7, 3, 2]);
    const P = -1;
    const v = (k: number, i: number) => Math.fround(k + i / 10); // the grid holds float32, as the input does
    // biome-ignore format: the grid, row by row
    const expected = [
      P, P,       P,       P,       P, P,       P,       P,       P, P,       P,       P,       P,
      P, v(0, 0), v(0, 1), v(0, 2), P, v(1, 0), v(1, 1), v(1, 2), P, v(2, 0), v(2, 1), v(2, 2), P,
      P, v(0, 3), v(0, 4), v(0, 5), P, v(1, 3), v(1, 4), v(1, 5), P, v(2, 3), v(2, 4), v(2, 5), P,
      P, P,       P,       P,       P, P,       P,       P,       P, P,       P,       P,       P,
      P, v(3, 0), v(3, 1), v(3, 2), P, v(4, 0), v(4, 1), v(4, 2), P, P,       P,       P,       P,
      P, v(3, 3), v(3, 4), v(3, 5), P, v(4, 3), v(4, 4), v(4, 5), P, P,       P,       P,       P,
      P, P,       P,       P,       P, P,       P,       P,       P, P,       P,       P,       P,
    ];
    expect(Array.from(g.values)).toEqual(expected);
  });

  it('scales by nearest neighbour, keeps values as they are (NaN, out of range), pads with 0.5 by default', () => {
    const g = tileImages(new Float32Array([-1, 2, Number.NaN, 0.25]), 1, 2, 2, 4, { scale: 2, pad: 1 });
    // One column (n < cols): width = height = 1 + 1·(2·2 + 1) = 6.
    expect([g.width, g.height, g.cols, g.rows]).toEqual([6, 6, 1, 1]);
    const N = Number.NaN;
    // biome-ignore format: the grid, row by row
    expect(Array.from(g.values)).toEqual([
      0.5, 0.5, 0.5, 0.5,  0.5,  0.5,
      0.5, -1,  -1,  2,    2,    0.5,
      0.5, -1,  -1,  2,    2,    0.5,
      0.5, N,   N,   0.25, 0.25, 0.5,
      0.5, N,   N,   0.25, 0.25, 0.5,
      0.5, 0.5, 0.5, 0.5,  0.5,  0.5,
    ]);
  });

  it('defaults to pad 2, scale 1, and ignores values past n images', () => {
    const g = tileImages(new Float32Array([1, 1, 1, 1, 9]), 1, 2, 2, 1);
    expect([g.width, g.height]).toEqual([6, 6]); // 2 + 2 + 2
    expect(Array.from(g.values).filter((x) => x === 1)).toHaveLength(4);
    expect(Array.from(g.values).filter((x) => x === 0.5)).toHaveLength(32);
  });

  it('tiles [n, C, h, w] planes into interleaved pixels with channels: every value of a 2-image RGB grid', () => {
    // Image k, channel c, pixel i holds 100k + 10c + i: each value says where it came from.
    const n = 2;
    const images = new Float32Array(n * 3 * 2);
    for (let k = 0; k < n; k++) for (let c = 0; c < 3; c++) for (let i = 0; i < 2; i++) images[(k * 3 + c) * 2 + i] = 100 * k + 10 * c + i;
    // Images of 1×2 pixels, 2 columns, pad 1: width = 1 + 2·(2 + 1) = 7, height = 1 + 1·(1 + 1) = 3.
    const g = tileImages(images, n, 1, 2, 2, { pad: 1, padValue: -1, channels: 3 });
    expect([g.width, g.height, g.cols, g.rows, g.channels]).toEqual([7, 3, 2, 1, 3]);
    expect(g.values.length).toBe(7 * 3 * 3);
    const P = [-1, -1, -1];
    const px = (k: number, i: number) => [100 * k + i, 100 * k + 10 + i, 100 * k + 20 + i]; // (R, G, B) of pixel i
    const row = (...pixels: number[][]) => pixels.flat();
    expect(Array.from(g.values)).toEqual([
      ...row(P, P, P, P, P, P, P),
      ...row(P, px(0, 0), px(0, 1), P, px(1, 0), px(1, 1), P),
      ...row(P, P, P, P, P, P, P),
    ]);
    // channels: 1 is the plain grid.
    const one = tileImages(images, 6, 1, 2, 2, { pad: 1 });
    expect(one.channels).toBe(1);
    expect(one.values.length).toBe(one.width * one.height);
  });

  it('rejects bad arguments, naming them', () => {
    expect(() => tileImages(new Float32Array(3), 1, 2, 2, 1)).toThrow(/1 images of 2×2 need 4 values, got 3/);
    expect(() => tileImages(new Float32Array(4), 1, 2, 2, 0)).toThrow(/cols must be an integer ≥ 1, got 0/);
    expect(() => tileImages(new Float32Array(4), 0, 2, 2, 1)).toThrow(/n must be an integer ≥ 1, got 0/);
    expect(() => tileImages(new Float32Array(4), 1, 2, 2, 1, { scale: 1.5 })).toThrow(/scale must be an integer ≥ 1/);
    expect(() => tileImages(new Float32Array(4), 1, 2, 2, 1, { pad: -1 })).toThrow(/pad must be an integer ≥ 0/);
    expect(() => tileImages(new Float32Array(4), 1, 2, 2, 1, { channels: 0 })).toThrow(/channels must be an integer ≥ 1, got 0/);
    expect(() => tileImages(new Float32Array(11), 1, 2, 2, 1, { channels: 3 })).toThrow(/1 images of 3×2×2 need 12 values, got 11/);
  });
});

describe('unitToByte', () => {
  it('maps [0, 1] to round(255·v), clamps outside, NaN to 0', () => {
    expect([0, 1, 0.5, 0.2, 1e-9, -3, 7, Number.NaN, -Infinity, Infinity].map(unitToByte)).toEqual([0, 255, 128, 51, 0, 0, 255, 0, 0, 255]);
  });

  it('turns every gray level p/255, stored as float32, back into p', () => {
    // Hosts give tileImages their padding's gray level p as padValue p/255; float32 rounding must not move it.
    for (let p = 0; p <= 255; p++) expect(unitToByte(Math.fround(p / 255))).toBe(p);
  });
});

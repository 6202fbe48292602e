import { describe, expect, it } from 'vitest';
import { decodePng } from '../testing/png-decode.js';
import { encodePng } from './png-codec.js';
import { imageGrid } from './report.js';

describe('imageGrid', () => {
  it('places each tile at pad + k·(tile + pad) and maps [0, 1] to 0..255', () => {
    const n = 5;
    const h = 2;
    const w = 3;
    const images = new Float32Array(n * h * w);
    for (let k = 0; k < n; k++) for (let i = 0; i < h * w; i++) images[k * h * w + i] = (k * 10 + i) / 100;
    const g = imageGrid(images, n, h, w, 3, { pad: 1 });
    // 3 columns, 2 rows: width = 1 + 3·(3 + 1) = 13, height = 1 + 2·(2 + 1) = 7.
    expect([g.width, g.height]).toEqual([13, 7]);
    for (let k = 0; k < n; k++) {
      const x0 = 1 + (k % 3) * 4;
      const y0 = 1 + Math.floor(k / 3) * 3;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          expect(g.pixels[(y0 + y) * g.width + x0 + x], `tile ${k} (${x}, ${y})`).toBe(Math.round(((k * 10 + y * w + x) / 100) * 255));
        }
      }
    }
    // Padding is gray 128: the top-left corner, the gap between tiles, and the empty sixth slot.
    expect(g.pixels[0]).toBe(128);
    expect(g.pixels[1 * g.width + 4]).toBe(128);
    expect(g.pixels[4 * g.width + 9]).toBe(128);
    const d = decodePng(encodePng(g.width, g.height, 1, g.pixels));
    expect(Array.from(d.pixels)).toEqual(Array.from(g.pixels));
  });

  it('clamps out-of-range values, maps NaN to black, and scales by nearest neighbour', () => {
    const g = imageGrid(new Float32Array([-1, 2, Number.NaN, 0.5]), 1, 2, 2, 4, { pad: 0, scale: 2 });
    expect([g.width, g.height]).toEqual([4, 4]);
    expect(Array.from(g.pixels)).toEqual([0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 128, 128, 0, 0, 128, 128]);
  });

  it('channels 3: [n, 3, h, w] planes become RGB pixels, padding gray, and an RGB PNG', () => {
    // One 1×2 image: red plane [1, 0], green [0, 1], blue [0, 0.5] → pixel 0 red, pixel 1 green + half blue.
    const g = imageGrid(new Float32Array([1, 0, 0, 1, 0, 0.5]), 1, 1, 2, 1, { pad: 1, channels: 3 });
    expect([g.width, g.height, g.channels]).toEqual([4, 3, 3]);
    const P = [128, 128, 128];
    expect(Array.from(g.pixels)).toEqual([...P, ...P, ...P, ...P, ...P, 255, 0, 0, 0, 255, 128, ...P, ...P, ...P, ...P, ...P]);
    const d = decodePng(encodePng(g.width, g.height, g.channels, g.pixels));
    expect(d.colorType).toBe(2); // RGB
    expect(Array.from(d.pixels)).toEqual(Array.from(g.pixels));
    expect(() => imageGrid(new Float32Array(8), 1, 2, 2, 1, { channels: 2 as 3 })).toThrow(
      /channels must be 1 \(gray\) or 3 \(RGB\), got 2/,
    );
  });

  it('rejects bad arguments', () => {
    expect(() => imageGrid(new Float32Array(3), 1, 2, 2, 1)).toThrow(/need 4 values, got 3/);
    expect(() => imageGrid(new Float32Array(4), 1, 2, 2, 0)).toThrow(/cols must be an integer ≥ 1/);
  });
});

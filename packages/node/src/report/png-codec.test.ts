import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from '../testing/png-decode.js';
import { encodePng } from './png-codec.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'onnxvae-png-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

describe('encodePng', () => {
  const cases = [
    { channels: 1 as const, colorType: 0, w: 7, h: 5 },
    { channels: 3 as const, colorType: 2, w: 4, h: 6 },
    { channels: 4 as const, colorType: 6, w: 3, h: 3 },
  ];
  for (const { channels, colorType, w, h } of cases) {
    it(`writes a valid ${channels}-channel PNG whose IDAT unfilters to the pixels`, () => {
      const pixels = noise(w * h * channels, channels);
      const png = encodePng(w, h, channels, pixels);
      const path = join(dir, `c${channels}.png`);
      writeFileSync(path, png);
      const d = decodePng(readFileSync(path));
      expect(d.chunks).toEqual(['IHDR', 'IDAT', 'IEND']);
      expect([d.width, d.height, d.bitDepth, d.colorType, d.interlace]).toEqual([w, h, 8, colorType, 0]);
      expect(Array.from(d.pixels)).toEqual(Array.from(pixels));
    });
  }

  it('round-trips smooth and noisy content exactly', () => {
    const w = 64;
    const h = 64;
    const px = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) px.set([x * 4, y * 4, (x + y) * 2], (y * w + x) * 3);
    }
    px.set(noise(w * 3 * 8, 9), w * 3 * 20); // rows 20–27 are noise
    const d = decodePng(encodePng(w, h, 3, px));
    expect(Array.from(d.pixels)).toEqual(Array.from(px));
  });

  it('rejects inconsistent arguments', () => {
    expect(() => encodePng(2, 2, 1, new Uint8Array(3))).toThrow(/expected 2×2×1 = 4 bytes, got 3/);
    expect(() => encodePng(0, 2, 1, new Uint8Array(0))).toThrow(/width must be a positive integer/);
    expect(() => encodePng(1, 1, 2 as 1, new Uint8Array(2))).toThrow(/channels must be 1/);
  });
});

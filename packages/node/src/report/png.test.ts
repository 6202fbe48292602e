import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync, crc32 as zlibCrc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './font-5x7.js';
import { crc32, encodePng, formatTick, imageGrid, lineChartPng, textWidth } from './png.js';
import { writeLossCurve } from './report.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'onnxvae-png-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Decoded {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlace: number;
  chunks: string[];
  filters: number[];
  pixels: Uint8Array;
}

/** An independent PNG reader for the subset we write: checks structure and CRCs, inflates and unfilters. */
function decodePng(png: Uint8Array): Decoded {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  expect(Array.from(buf.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  let pos = 8;
  const chunks: string[] = [];
  const idat: Buffer[] = [];
  let ihdr: Buffer | undefined;
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    const crc = buf.readUInt32BE(pos + 8 + len);
    // zlib's crc32 is an implementation independent of the encoder's table.
    expect(crc, `CRC of ${type}`).toBe(zlibCrc32(buf.subarray(pos + 4, pos + 8 + len)));
    chunks.push(type);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  expect(pos).toBe(buf.length);
  if (ihdr === undefined) throw new Error('no IHDR');
  expect(ihdr.length).toBe(13);
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const colorType = ihdr[9];
  expect(ihdr[10]).toBe(0); // compression method
  expect(ihdr[11]).toBe(0); // filter method
  const bpp = { 0: 1, 2: 3, 6: 4 }[colorType] ?? 0;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  expect(raw.length).toBe(height * (stride + 1));
  const pixels = new Uint8Array(height * stride);
  const filters: number[] = [];
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    filters.push(f);
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i];
      const a = i >= bpp ? pixels[y * stride + i - bpp] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + i] : 0;
      const c = i >= bpp && y > 0 ? pixels[(y - 1) * stride + i - bpp] : 0;
      let pred = 0;
      if (f === 1) pred = a;
      else if (f === 2) pred = b;
      else if (f === 3) pred = Math.floor((a + b) / 2);
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (f !== 0) throw new Error(`bad filter ${f}`);
      pixels[y * stride + i] = (x + pred) & 0xff;
    }
  }
  return { width, height, bitDepth: ihdr[8], colorType, interlace: ihdr[12], chunks, filters, pixels };
}

function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

describe('crc32', () => {
  it('matches the standard check value and zlib', () => {
    // The CRC-32 check value: crc32("123456789") = 0xCBF43926.
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    const data = noise(1000, 3);
    expect(crc32(data)).toBe(zlibCrc32(data));
    expect(crc32(data.subarray(500), crc32(data.subarray(0, 500)))).toBe(zlibCrc32(data));
  });
});

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

  it('uses all filter types on suitable content and still reconstructs exactly', () => {
    // A smooth gradient favours Sub/Up/Average/Paeth; noise favours None.
    const w = 64;
    const h = 64;
    const px = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) px.set([x * 4, y * 4, (x + y) * 2], (y * w + x) * 3);
    }
    px.set(noise(w * 3 * 8, 9), w * 3 * 20); // rows 20–27 are noise
    const d = decodePng(encodePng(w, h, 3, px));
    expect(Array.from(d.pixels)).toEqual(Array.from(px));
    expect(new Set(d.filters).size).toBeGreaterThan(1);
  });

  it('rejects inconsistent arguments', () => {
    expect(() => encodePng(2, 2, 1, new Uint8Array(3))).toThrow(/expected 2×2×1 = 4 bytes, got 3/);
    expect(() => encodePng(0, 2, 1, new Uint8Array(0))).toThrow(/width must be a positive integer/);
    expect(() => encodePng(1, 1, 2 as 1, new Uint8Array(2))).toThrow(/channels must be 1/);
  });
});

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

  it('rejects bad arguments', () => {
    expect(() => imageGrid(new Float32Array(3), 1, 2, 2, 1)).toThrow(/need 4 values, got 3/);
    expect(() => imageGrid(new Float32Array(4), 1, 2, 2, 0)).toThrow(/cols must be an integer ≥ 1/);
  });
});

describe('lineChartPng', () => {
  const red = [220, 40, 40] as const;
  const blue = [30, 90, 200] as const;

  function rgbAt(d: Decoded, x: number, y: number): number[] {
    const i = (y * d.width + x) * 3;
    return Array.from(d.pixels.subarray(i, i + 3));
  }

  function count(d: Decoded, c: readonly number[]): number {
    let k = 0;
    for (let i = 0; i < d.pixels.length; i += 3) if (d.pixels[i] === c[0] && d.pixels[i + 1] === c[1] && d.pixels[i + 2] === c[2]) k++;
    return k;
  }

  it('draws a valid RGB chart with axes, both series and a white background', () => {
    const train = Array.from({ length: 50 }, (_, i) => 200 * Math.exp(-i / 10) + 90);
    const test = train.map((v) => v + 5);
    const png = lineChartPng(
      [
        { name: 'train', values: train, color: red },
        { name: 'test', values: test, color: blue },
      ],
      { width: 320, height: 200, title: 'ELBO loss' },
    );
    const path = join(dir, 'chart.png');
    writeFileSync(path, png);
    const d = decodePng(readFileSync(path));
    expect([d.width, d.height, d.colorType]).toEqual([320, 200, 2]);
    expect(rgbAt(d, 0, 0)).toEqual([255, 255, 255]);
    expect(rgbAt(d, 319, 199)).toEqual([255, 255, 255]);
    // Each curve spans ~250 px horizontally, so it leaves at least that many pixels of its colour.
    expect(count(d, red)).toBeGreaterThan(200);
    expect(count(d, blue)).toBeGreaterThan(200);
    // The y axis is a vertical black line: some column has ≥ 100 black pixels in a run.
    let longest = 0;
    for (let x = 0; x < d.width; x++) {
      let run = 0;
      for (let y = 0; y < d.height; y++) {
        run = rgbAt(d, x, y).every((v) => v === 0) ? run + 1 : 0;
        longest = Math.max(longest, run);
      }
    }
    expect(longest).toBeGreaterThan(100);
  });

  it('renders text with the 5×7 font (the title glyph appears pixel for pixel, in capitals)', () => {
    for (const [title, ch] of [
      ['7', '7'],
      ['e', 'E'],
    ]) {
      const d = decodePng(lineChartPng([{ name: 'a', values: [1, 2], color: red }], { width: 200, height: 120, title }));
      // The title is centred at y = 4 (font scale 1 below 600 px).
      const x0 = Math.round((200 - textWidth(ch)) / 2);
      const rows = glyph(ch);
      for (let r = 0; r < GLYPH_HEIGHT; r++) {
        let line = '';
        for (let c = 0; c < GLYPH_WIDTH; c++) line += rgbAt(d, x0 + c, 4 + r)[0] === 0 ? '#' : '.';
        expect(line, `${title} row ${r}`).toBe(rows[r]);
      }
    }
  });

  it('handles constant, single-point, non-finite and empty series', () => {
    for (const values of [[3, 3, 3], [5], [1, Number.NaN, 2, Number.POSITIVE_INFINITY, 3], []]) {
      const d = decodePng(lineChartPng([{ name: 'x', values, color: red }], { width: 100, height: 80 }));
      expect([d.width, d.height]).toEqual([100, 80]);
      if (values.length > 0) expect(count(d, red)).toBeGreaterThan(0);
    }
    expect(() => lineChartPng([], { width: 10, height: 10 })).toThrow(/at least 64×48/);
  });
});

describe('the epoch chart (loss-curve.png)', () => {
  /** The digits drawn below the x axis (the row with the longest black run), left to right, read with the 5×7 font. */
  function xAxisDigits(d: Decoded): string {
    const black = (x: number, y: number) => {
      const i = (y * d.width + x) * 3;
      return d.pixels[i] === 0 && d.pixels[i + 1] === 0 && d.pixels[i + 2] === 0;
    };
    let axis = 0;
    let best = 0;
    for (let y = 0; y < d.height; y++) {
      let run = 0;
      for (let x = 0; x < d.width; x++) {
        run = black(x, y) ? run + 1 : 0;
        if (run > best) [best, axis] = [run, y];
      }
    }
    const found: string[] = [];
    for (let y = axis + 1; y + GLYPH_HEIGHT <= d.height; y++) {
      for (let x = 0; x + GLYPH_WIDTH <= d.width; x++) {
        for (const ch of '0123456789') {
          const rows = glyph(ch);
          let same = true;
          for (let r = 0; r < GLYPH_HEIGHT && same; r++)
            for (let c = 0; c < GLYPH_WIDTH && same; c++) same = (rows[r][c] === '#') === black(x + c, y + r);
          if (same) found.push(ch);
        }
      }
    }
    return found.join('');
  }

  it('counts epochs 1…N on its x axis, as metrics.jsonl and the report table do', () => {
    const metrics = [1, 2, 3].map((epoch) => ({ epoch, train_elbo: -200 + 10 * epoch, test_elbo: -205 + 10 * epoch }));
    const path = join(dir, 'loss-curve.png');
    writeLossCurve(path, metrics, []);
    expect(xAxisDigits(decodePng(readFileSync(path)))).toBe('13'); // the first and last tick: epoch 1 and epoch 3
    const one = join(dir, 'one-epoch.png');
    writeLossCurve(one, metrics.slice(0, 1), []);
    expect(xAxisDigits(decodePng(readFileSync(one)))).toBe('1');
  });

  it('lineChartPng labels the x axis from xFirst (default 0: indices)', () => {
    const values = [3, 1, 2, 0.5, 0.2];
    const chart = (xFirst?: number) =>
      decodePng(lineChartPng([{ name: 'a', values, color: [220, 40, 40] }], { width: 200, height: 120, xFirst }));
    expect(xAxisDigits(chart())).toBe('04');
    expect(xAxisDigits(chart(1))).toBe('15');
    expect(() => chart(0.5)).toThrow(/xFirst must be an integer, got 0.5/);
  });
});

describe('font and tick labels', () => {
  it('has a 5×7 glyph for every character tick labels use, with fallbacks', () => {
    for (const ch of '0123456789.-+eABCXYZ ') {
      const g = glyph(ch);
      expect(g.length).toBe(7);
      for (const row of g) expect(row).toMatch(/^[.#]{5}$/);
    }
    expect(glyph('x')).toBe(glyph('X'));
    expect(glyph('€')).toBe(glyph('?'));
    expect(glyph('1')).not.toEqual(glyph('7'));
  });

  it('formats ticks compactly', () => {
    expect(formatTick(0)).toBe('0');
    expect(formatTick(123.456)).toBe('123.5');
    expect(formatTick(-0.25)).toBe('-0.25');
    expect(formatTick(1234567)).toBe('1.23e+6');
    expect(formatTick(0.00012)).toBe('1.2e-4');
    expect(formatTick(2e-5)).toBe('2e-5');
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DecodedPng as Decoded, decodePng } from '../testing/png-decode.js';
import { lineChartPng } from './charts.js';
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './font-5x7.js';
import { textWidth } from './raster-text.js';
import { writeLossCurve } from './report.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'onnxvae-png-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
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

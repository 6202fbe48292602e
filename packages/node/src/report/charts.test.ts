import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DecodedPng as Decoded, decodePng } from '../testing/png-decode.js';
import { lineChartSvg, niceTicks, svgToPng, tickLabel, xmlText } from './line-chart-svg.js';
import { writeLossCurve } from './report.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'onnxvae-chart-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Pixels of one colour (±tol per channel), of an RGB or RGBA PNG. */
function count(d: Decoded, c: readonly number[], tol = 40): number {
  const bpp = d.colorType === 6 ? 4 : d.colorType === 2 ? 3 : 1;
  let k = 0;
  for (let i = 0; i < d.pixels.length; i += bpp) {
    if (Math.abs(d.pixels[i] - c[0]) <= tol && Math.abs(d.pixels[i + 1] - c[1]) <= tol && Math.abs(d.pixels[i + 2] - c[2]) <= tol) k++;
  }
  return k;
}

/** The text of every <text> element of an SVG, in order. */
const texts = (svg: string): string[] => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

describe('niceTicks and tickLabel', () => {
  it('steps of 1, 2 or 5 × 10^k inside the range', () => {
    expect(niceTicks(0, 10, 5).ticks).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(-103.7, -96.2, 5).ticks).toEqual([-102, -100, -98]);
    expect(niceTicks(1, 3, 6, true).ticks).toEqual([1, 2, 3]); // whole epochs only
    expect(niceTicks(5, 5, 5).ticks.length).toBeGreaterThan(0); // a constant still gets ticks around it
    expect(niceTicks(Number.NaN, 1).ticks).toEqual([]);
  });

  it('labels with the decimals the step needs, and a minus sign', () => {
    expect(tickLabel(-100, 2)).toBe('−100');
    expect(tickLabel(0.25, 0.05)).toBe('0.25');
    expect(tickLabel(2e6, 1e6)).toBe('2.0e6');
  });
});

describe('lineChartSvg', () => {
  const train = { name: 'train ELBO', x: [1, 2, 3, 4], y: [-180, -140, -125, -118], color: '#1f77b4' };
  const test = { name: 'test ELBO', x: [1, 2, 3, 4], y: [-185, -150, -131, -124], color: '#d62728' };

  it('has a title, axis titles, tick labels on the axes and a legend', () => {
    const svg = lineChartSvg([train, test], {
      width: 720,
      height: 420,
      title: 'ELBO per epoch',
      xLabel: 'epoch',
      yLabel: 'nats',
      integerX: true,
    });
    const t = texts(svg);
    for (const s of ['ELBO per epoch', 'epoch', 'nats', 'train ELBO', 'test ELBO', '1', '2', '3', '4', '−120', '−180'])
      expect(t).toContain(s);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
  });

  it('escapes text, breaks lines at non-finite values and dots isolated points', () => {
    const svg = lineChartSvg([{ name: '<b>&"x"', x: [0, 1, 2, 3, 4], y: [1, Number.NaN, 2, 3, Number.POSITIVE_INFINITY], color: '#000' }], {
      width: 300,
      height: 200,
    });
    expect(svg).toContain('&lt;b&gt;&amp;&quot;x&quot;');
    expect(svg).not.toContain('<b>');
    expect(svg.match(/<polyline/g)).toHaveLength(1); // points 2–3; 0 stands alone
    expect(svg.match(/<circle/g)).toHaveLength(1);
    expect(xmlText("'")).toBe('&#39;');
    expect(texts(lineChartSvg([], { width: 300, height: 200 }))).toContain('no data');
    expect(() => lineChartSvg([], { width: 10, height: 10 })).toThrow(/at least 160×120/);
  });

  it('renders to a PNG of its size with both curves in their colours (librsvg via sharp)', async () => {
    const d = decodePng(await svgToPng(lineChartSvg([train, test], { width: 400, height: 260, title: 'ELBO per epoch' })));
    expect([d.width, d.height]).toEqual([400, 260]);
    expect(count(d, [31, 119, 180])).toBeGreaterThan(150);
    expect(count(d, [214, 39, 40])).toBeGreaterThan(150);
    // The title is drawn in a real font: dark pixels above the plot's frame (which starts at y = 38).
    const band = { ...d, height: 34, pixels: d.pixels.subarray(0, 34 * d.width * (d.colorType === 6 ? 4 : 3)) };
    expect(count(band, [17, 17, 17], 80)).toBeGreaterThan(100);
  });
});

describe('writeLossCurve', () => {
  it('writes loss-curve.png (720×420) and, with steps, loss-curve-steps.png', async () => {
    const metrics = [1, 2, 3].map((epoch) => ({ epoch, train_elbo: -200 + 10 * epoch, test_elbo: -205 + 10 * epoch }));
    const path = join(dir, 'loss-curve.png');
    await writeLossCurve(path, metrics, { step: [1, 2, 3, 4], loss: [200, 180, 170, 165] });
    const d = decodePng(readFileSync(path));
    expect([d.width, d.height]).toEqual([720, 420]);
    const s = decodePng(readFileSync(join(dir, 'loss-curve-steps.png')));
    expect([s.width, s.height]).toEqual([720, 420]);
    expect(count(s, [44, 160, 44])).toBeGreaterThan(200);
  });
});

/**
 * `onnxvae variance` end to end: from a --config (fresh parameters) and from a bundle folder (a categorical-latent
 * model, which has no reparameterization), writing the table, the JSON summary and the PNG bar chart.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { barChartSvg, svgToPng } from './report/png.js';
import { cli } from './testing/cli-run.js';
import { formatVarianceTable, shortParamName } from './variance.js';

let root = '';
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'onnxvae-variance-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** RGB pixels of a PNG this package wrote (8-bit RGB, no interlace): inflate and undo the five scanline filters. */
function rgbPixels(png: Uint8Array): { width: number; height: number; pixels: Uint8Array } {
  const b = Buffer.from(png);
  expect([...b.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let pos = 8;
  const idat: Buffer[] = [];
  let width = 0;
  let height = 0;
  while (pos < b.length) {
    const len = b.readUInt32BE(pos);
    const type = b.toString('latin1', pos + 4, pos + 8);
    if (type === 'IHDR') {
      width = b.readUInt32BE(pos + 8);
      height = b.readUInt32BE(pos + 12);
      expect(b[pos + 17]).toBe(2); // colour type RGB
    }
    if (type === 'IDAT') idat.push(b.subarray(pos + 8, pos + 8 + len));
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 3;
  expect(raw.length).toBe(height * (stride + 1));
  const px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    for (let i = 0; i < stride; i++) {
      const a = i >= 3 ? px[y * stride + i - 3] : 0;
      const up = y > 0 ? px[(y - 1) * stride + i] : 0;
      const c = i >= 3 && y > 0 ? px[(y - 1) * stride + i - 3] : 0;
      const p = a + up - c;
      const paeth =
        Math.abs(p - a) <= Math.abs(p - up) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - up) <= Math.abs(p - c) ? up : c;
      const pred = [0, a, up, (a + up) >> 1, paeth][f];
      px[y * stride + i] = (raw[y * (stride + 1) + 1 + i] + pred) & 0xff;
    }
  }
  return { width, height, pixels: px };
}

function countColor(img: { pixels: Uint8Array }, c: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < img.pixels.length; i += 3)
    if (img.pixels[i] === c[0] && img.pixels[i + 1] === c[1] && img.pixels[i + 2] === c[2]) n++;
  return n;
}

describe('barChartSvg', () => {
  it('draws one bar per series and group, taller for larger values on a log axis (rendered to PNG)', async () => {
    const red = [200, 0, 0] as const;
    const blue = [0, 0, 200] as const;
    const img = rgbPixels(
      await svgToPng(
        barChartSvg(
          [
            { name: 'a', values: [1e-4, 1e-2], color: 'rgb(200,0,0)' },
            { name: 'b', values: [1e-3, Number.NaN], color: 'rgb(0,0,200)' },
          ],
          { width: 300, height: 200, groups: ['p', 'q'], log: true, title: 'test' },
        ),
      ),
    );
    expect([img.width, img.height]).toEqual([300, 200]);
    // Column heights of each colour: the 1e-2 bar spans the whole 1e-4..1e-2 axis, the 1e-4 bar a pixel or so.
    const heights = (c: readonly number[]) => {
      const cols = new Map<number, number>();
      for (let y = 0; y < img.height; y++)
        for (let x = 0; x < img.width; x++) {
          const i = (y * img.width + x) * 3;
          if (img.pixels[i] === c[0] && img.pixels[i + 1] === c[1] && img.pixels[i + 2] === c[2]) cols.set(x, (cols.get(x) ?? 0) + 1);
        }
      return cols;
    };
    const redCols = [...heights(red).values()];
    expect(Math.max(...redCols)).toBeGreaterThan(60);
    expect(countColor(img, blue)).toBeGreaterThan(0); // the 1e-3 bar (the NaN gets none) and the legend swatch
    expect(() => barChartSvg([{ name: 'a', values: [1], color: '#f00' }], { width: 300, height: 200, groups: ['p', 'q'] })).toThrow(
      /1 values for 2 groups/,
    );
    // Names are text, never markup.
    expect(barChartSvg([{ name: '<b>&', values: [1], color: '#f00' }], { width: 300, height: 200, groups: ['<p>'] })).not.toMatch(
      /<b>|<p>/,
    );
  });

  it('abbreviates parameter names for the axis', () => {
    expect(shortParamName('encoder.mlp.fc1.weight')).toBe('E.FC1.W');
    expect(shortParamName('decoder.mlp.fc2.bias')).toBe('D.FC2.B');
    expect(shortParamName('encoder.logits.weight')).toBe('E.LOGITS.W');
  });
});

describe('formatVarianceTable', () => {
  it('one row per parameter tensor, the overall mean, and each ratio to the reference', () => {
    const param = (name: string, v: number) => ({
      name,
      shape: [1],
      mean: Float64Array.of(0),
      variance: Float64Array.of(v),
      meanVariance: v,
    });
    const est = (name: string, estimator: 'reparam' | 'score', a: number, b: number, ratio: number) => ({
      name,
      estimator,
      baseline: 'none' as const,
      params: [param('encoder.mu.weight', a), param('decoder.mlp.fc1.bias', b)],
      meanVariance: (a + b) / 2,
      ratio,
      ratioToBest: ratio,
    });
    const table = formatVarianceTable({
      draws: 20,
      samples: 2,
      batch: 8,
      reference: 'reparam',
      best: 'reparam',
      estimators: [est('reparam', 'reparam', 1e-4, 3e-4, 1), est('score', 'score', 2e-2, 6e-2, 200)],
    });
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/over 20 draws, M = 2 samples, batch 8/);
    expect(lines[1]).toMatch(/^parameter\s+reparam\s+score$/);
    expect(lines[2]).toMatch(/^encoder\.mu\.weight\s+1\.000e-4\s+2\.000e-2$/);
    expect(lines[3]).toMatch(/^decoder\.mlp\.fc1\.bias\s+3\.000e-4\s+6\.000e-2$/);
    expect(lines[4]).toMatch(/^all\s+2\.000e-4\s+4\.000e-2$/);
    expect(lines[5]).toMatch(/^÷ reparam\s+1\.000\s+200\.0$/);
    expect(lines[6]).toMatch(/^÷ best \(reparam\)\s+1\.000\s+200\.0$/);
    expect(lines).toHaveLength(7);
  });
});

describe('onnxvae variance', () => {
  it('--config: reparam vs score function with baselines, as a table, JSON and PNG', async () => {
    const cfgFile = join(root, 'model.json');
    writeFileSync(cfgFile, JSON.stringify({ hidden: [16], latent: 2, samples: 2 }));
    const out = join(root, 'gaussian');
    const r = await cli('variance', '--config', cfgFile, '--data', 'mnist', '--limit', '64', '--batch', '8', '--draws', '20', '--out', out);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/reparam\s+score\s+score\+moving-avg\s+score\+leave-one-out/);
    expect(r.stdout).toMatch(/encoder\.mlp\.fc1\.weight/);
    expect(readFileSync(join(out, 'gradient-variance.txt'), 'utf8')).toMatch(/÷ reparam/);
    const json = JSON.parse(readFileSync(join(out, 'gradient-variance.json'), 'utf8'));
    expect(json.draws).toBe(20);
    expect(json.samples).toBe(2);
    const byName = Object.fromEntries(json.estimators.map((e: { name: string; ratio: number }) => [e.name, e]));
    expect(byName.reparam.ratio).toBe(1);
    // On MNIST the score function's variance is orders of magnitude above reparameterization's (measured ≈ 9·10³×
    // with these 20 draws; the baselines bring it to ≈ 2×), so even a 20-draw estimate is far above 10.
    expect(byName.score.ratio).toBeGreaterThan(10);
    const img = rgbPixels(readFileSync(join(out, 'gradient-variance.png')));
    expect(img.width).toBeGreaterThanOrEqual(640);
    expect(countColor(img, [31, 119, 180])).toBeGreaterThan(50); // the reparam bars
  });

  it('DIR: a categorical-latent model trained by the CLI (score function only, ratios to the baseline-free score)', async () => {
    const cfgFile = join(root, 'categorical.json');
    writeFileSync(
      cfgFile,
      JSON.stringify({ hidden: [16], latentType: 'categorical', latent: 2, categories: 3, samples: 3, baseline: 'leave-one-out' }),
    );
    const dir = join(root, 'cat');
    const t = await cli(
      'train',
      '--config',
      cfgFile,
      '--data',
      'mnist',
      '--limit',
      '128',
      '--batch',
      '64',
      '--epochs',
      '1',
      '--provider',
      'cpu',
      '--out',
      dir,
    );
    expect(t.stderr).not.toMatch(/error/);
    expect(t.code).toBe(0);
    expect(readFileSync(join(dir, 'samples.png')).length).toBeGreaterThan(0); // decoded draws from the uniform prior
    const r = await cli('variance', dir, '--data', 'mnist', '--limit', '64', '--batch', '8', '--draws', '10');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/reparam/);
    expect(r.stdout).toMatch(/÷ score/);
    const json = JSON.parse(readFileSync(join(dir, 'gradient-variance.json'), 'utf8'));
    expect(json.estimators.map((e: { name: string }) => e.name)).toEqual([
      'score',
      'score+moving-avg',
      'score+leave-one-out',
      'score+nvil',
      'iwae-score',
      'score+vimco',
      'concrete(τ=0.5)',
    ]);
    // Every row's ratio to the best is ≥ 1 and the best's is 1; the table says which rows estimate another quantity.
    expect(r.stdout).toMatch(/÷ best \(/);
    expect(r.stdout).toMatch(/iwae-score, score\+vimco: the gradient of the K = 3 importance-weighted bound/);
    expect(r.stdout).toMatch(/concrete\(τ=0\.5\): the gradient of the Concrete-relaxed objective/);
    for (const e of json.estimators) expect(e.ratioToBest).toBeGreaterThanOrEqual(1);
    expect(json.estimators.find((e: { name: string }) => e.name === json.best).ratioToBest).toBe(1);
  });

  it('needs a bundle or a config', async () => {
    const r = await cli('variance');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/variance needs a bundle folder or a model/);
  });
});

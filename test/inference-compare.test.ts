/**
 * bench/inference/run.mjs: amortized vs per-datapoint vs semi-amortized on the same decoder and data, a tiny run whose
 * table.md and results.json are checked (parameter counts, bounds in order, the three rows). Needs `npm run build`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = mkdtempSync(join(tmpdir(), 'onnxvae-infcmp-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('inference comparison (bench/inference/run.mjs)', () => {
  it('trains the three modes on one decoder and tabulates parameters, bounds, gaps and times', () => {
    if (!existsSync(join(ROOT, 'packages/node/dist/cli.js'))) throw new Error('packages/node/dist/cli.js is missing: npm run build first');
    const out = join(root, 'cmp');
    const args = ['--data', 'mnist', '--limit', '256', '--epochs', '1', '--batch', '64', '--k', '8', '--steps', '10'];
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, 'bench/inference/run.mjs'),
        ...args,
        '--hidden',
        '32',
        '--latent',
        '3',
        '--pd-steps',
        '20',
        '--sa-steps',
        '3',
        '--out',
        out,
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 240_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const { rows } = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(rows.map((x: { mode: string }) => x.mode)).toEqual(['amortized', 'per-datapoint', 'semi-amortized']);
    const [am, pd, sa] = rows;
    // The same decoder: 3·32+32 + 32·784+784 (+ the Bernoulli likelihood has no parameters).
    const decoder = 3 * 32 + 32 + 32 * 784 + 784;
    expect(pd.params).toBe(decoder + 2 * 3 * 256);
    expect(pd.encoderParams).toBe(0);
    expect(pd.tableParams).toBe(2 * 3 * 256);
    // 784·32+32 + 32·6+6 (μ and log σ²).
    expect(am.encoderParams).toBe(784 * 32 + 32 + 32 * 6 + 6);
    expect(sa.params).toBe(am.params);
    for (const x of rows) {
      for (const k of ['trainElbo', 'testElbo', 'logpx', 'elboModel', 'elboRefined', 'secondsPerEpoch', 'testInferenceSeconds'])
        expect(Number.isFinite(x[k]), `${x.mode} ${k}`).toBe(true);
      // IWAE with the refined q is above the refined ELBO; the gap is the refined minus the model's own ELBO.
      expect(x.logpx).toBeGreaterThan(x.elboRefined - 0.5);
      expect(x.amortizationGap).toBeCloseTo(x.elboRefined - x.elboModel, 6);
    }
    const table = readFileSync(join(out, 'table.md'), 'utf8');
    expect(table).toMatch(/\| per-datapoint \(K = 20\) \| /);
    expect(table).toMatch(/\| semi-amortized \(K = 3\) \| /);
    expect(r.stdout).toBe(table);
  }, 240_000);
});

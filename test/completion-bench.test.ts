/**
 * bench/completion/run.mjs (Sohn et al.'s image-completion benchmark): a tiny run whose table.md and results.json are
 * checked — the three models, finite conditional log-likelihoods, and the CVAE's bound below its estimate.
 * Needs `npm run build`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = mkdtempSync(join(tmpdir(), 'onnxvae-completion-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('image-completion benchmark (bench/completion/run.mjs)', () => {
  it('trains baseline, GSNN, CVAE and the hybrid on the given quadrant and tabulates −log p(y|x)', () => {
    if (!existsSync(join(ROOT, 'packages/node/dist/cli.js'))) throw new Error('packages/node/dist/cli.js is missing: npm run build first');
    const out = join(root, 'c');
    const args = [
      '--data',
      'mnist',
      '--limit',
      '256',
      '--epochs',
      '1',
      '--batch',
      '64',
      '--k',
      '8',
      '--hidden',
      '32',
      '--latent',
      '3',
      '--observed',
      'quadrant,top-half',
    ];
    const r = spawnSync(process.execPath, [join(ROOT, 'bench/completion/run.mjs'), ...args, '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const { rows } = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(rows.map((x: { observed: string; model: string }) => `${x.observed}/${x.model}`)).toEqual([
      'quadrant/baseline',
      'quadrant/gsnn',
      'quadrant/cvae',
      'quadrant/hybrid',
      'top-half/baseline',
      'top-half/gsnn',
      'top-half/cvae',
      'top-half/hybrid',
    ]);
    for (const x of rows) {
      expect(Number.isFinite(x.cll)).toBe(true);
      expect(x.cll).toBeGreaterThanOrEqual(x.celbo - 1e-6);
    }
    const table = readFileSync(join(out, 'table.md'), 'utf8');
    expect(table).toMatch(/\| model \| −log p\(y\|x\), quadrant given \| −log p\(y\|x\), top-half given \|/);
    expect(table).toMatch(/\| cvae \| \d+\.\d\d \| \d+\.\d\d \|/);
    expect(table).toMatch(/\| hybrid \| \d+\.\d\d \| \d+\.\d\d \|/);
    expect(table).toMatch(/hybrid α = 0\.5/);
    expect(r.stdout).toBe(table);
  }, 240_000);
});

/**
 * The variational options end to end through the CLI: an IWAE-trained model (--config objective 'iwae'), the
 * amortization-gap report (`gap --json`), and a conditional model's labelled samples (`sample --label`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundleDir } from './bundle-io.js';
import { cli } from './testing/cli-run.js';

let root = '';
let iwaeDir = '';
let condDir = '';
/** 256 MNIST digits, 64 test digits, a 784-64-4-64-784 model: each run takes about a second. */
const SMALL_RUN = ['--data', 'mnist', '--limit', '256', '--batch', '64', '--epochs', '2', '--provider', 'cpu'];

function config(name: string, cfg: object): string {
  const f = join(root, name);
  writeFileSync(f, JSON.stringify(cfg));
  return f;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'onnxvae-gap-'));
  iwaeDir = join(root, 'iwae');
  condDir = join(root, 'cond');
  const a = await cli(
    'train',
    ...SMALL_RUN,
    '--config',
    config('iwae.json', { hidden: [64], latent: 4, objective: 'iwae', samples: 3 }),
    '--out',
    iwaeDir,
  );
  if (a.code !== 0) throw new Error(`IWAE training failed (${a.code}): ${a.stderr}`);
  const cond = { hidden: [64], latent: 4, conditional: { classes: 10, prior: 'learned' } };
  const b = await cli('train', ...SMALL_RUN, '--config', config('cond.json', cond), '--out', condDir);
  if (b.code !== 0) throw new Error(`conditional training failed (${b.code}): ${b.stderr}`);
}, 120_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('onnxvae gap', () => {
  it('an IWAE-trained bundle (--config objective iwae, samples 3) reports IWAE ≥ refined ELBO ≥ encoder ELBO', async () => {
    const { manifest } = await readBundleDir(iwaeDir);
    expect(manifest.config.objective).toBe('iwae');
    expect(manifest.graphs.train_step.inputs.find((i) => i.name === 'eps')?.shape).toEqual([3, 'batch', 4]);
    const r = await cli('gap', iwaeDir, '--data', 'mnist', '--limit', '256', '--steps', '60', '--k', '64', '--json', '--provider', 'cpu');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, number> & { stdErr: Record<string, number> };
    expect(j.n).toBe(64);
    expect(j.steps).toBe(60);
    // Each q_i starts at the encoder's and climbs its own ELBO; the bounds are on common ε, K = 64 samples each.
    const noise = 3 * Math.hypot(j.stdErr.elboEncoder, j.stdErr.elboRefined);
    expect(j.elboRefined).toBeGreaterThan(j.elboEncoder + noise);
    expect(j.logpx).toBeGreaterThan(j.elboRefined);
    expect(j.worseAfterRefinement).toBe(0);
    expect(j.amortizationGap).toBeCloseTo(j.elboRefined - j.elboEncoder, 10);
  });

  it('prints a table without --json, and a conditional bundle is refined with its labels', async () => {
    const r = await cli('gap', condDir, '--data', 'mnist', '--limit', '256', '--steps', '20', '--k', '16', '--provider', 'cpu');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/amortization gap {2}L\[q\*\] − L\[q_φ\] +-?\d+\.\d{3} nats/);
    expect(r.stdout).toMatch(/64 examples; refinement 20 Adam steps/);
  });

  it('rejects bad options', async () => {
    expect((await cli('gap', iwaeDir, '--steps', '0')).code).toBe(2);
    expect((await cli('gap', iwaeDir, '--k', '1')).code).toBe(2);
    const missing = await cli('gap', join(root, 'nothing'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no manifest\.json/);
  });
});

describe('onnxvae sample --label', () => {
  it('draws one class from a conditional bundle', async () => {
    const out = join(root, 'sevens.png');
    const r = await cli('sample', condDir, '--label', '7', '--n', '16', '--out', out, '--provider', 'cpu');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(out);
    expect([...readFileSync(out).subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
  });

  it('refuses a label outside the classes, and --label on a plain model', async () => {
    const bad = await cli('sample', condDir, '--label', '10', '--provider', 'cpu');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--label must be a class of the model, 0 to 9, got 10/);
    const plain = await cli('sample', iwaeDir, '--label', '3', '--provider', 'cpu');
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/--label needs a conditional model/);
  });

  it('eval and reconstruct feed a conditional model its labels', async () => {
    const ev = await cli('eval', condDir, '--data', 'mnist', '--limit', '256', '--k', '8', '--json', '--provider', 'cpu');
    expect(ev.code).toBe(0);
    const j = JSON.parse(ev.stdout) as { elbo: number; iwae: number };
    expect(j.iwae).toBeGreaterThan(j.elbo);
    const rec = await cli('reconstruct', condDir, '--n', '4', '--out', join(root, 'rec.png'), '--provider', 'cpu');
    expect(rec.code).toBe(0);
  });
});

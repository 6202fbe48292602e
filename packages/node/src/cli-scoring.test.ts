/**
 * Which examples the scoring commands use, said and chosen by the user (issue 9, item 4): `eval`, `gap` and
 * `variance` take `--test-data FILE` and score all of it, `eval --data FILE` says it scores FILE's held-out split,
 * `gap` refuses a model without Gaussian latents in words, and `sample DIR` leaves the training run's samples.png alone.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from './data/dataset.js';
import { writeNpy } from './data/npy.js';
import { cli } from './testing/cli-run.js';

let root = '';
/** A 784-16-2-16-784 model trained for one epoch (2 steps) on 128 MNIST digits: about a second. */
let gauss = '';
/** The same with categorical latents (2 groups of 10 classes, score-function estimator). */
let categorical = '';
/** 40 binarized MNIST test digits as a .npy file of shape [40, 28, 28]. */
let digits = '';
const N_FILE = 40;
const RUN = ['--data', 'mnist', '--limit', '128', '--batch', '64', '--epochs', '1', '--provider', 'cpu'];

function config(name: string, cfg: object): string {
  const f = join(root, name);
  writeFileSync(f, JSON.stringify(cfg));
  return f;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'onnxvae-scoring-'));
  gauss = join(root, 'gauss');
  categorical = join(root, 'categorical');
  const a = await cli('train', ...RUN, '--config', config('g.json', { hidden: [16], latent: 2 }), '--out', gauss);
  if (a.code !== 0) throw new Error(`training failed (${a.code}): ${a.stderr}`);
  const cat = { hidden: [16], latent: 2, latentType: 'categorical', categories: 10 };
  const b = await cli('train', ...RUN, '--config', config('c.json', cat), '--out', categorical);
  if (b.code !== 0) throw new Error(`categorical training failed (${b.code}): ${b.stderr}`);
  const { test } = loadMnist({ binarize: true });
  digits = join(root, 'digits.npy');
  writeNpy(digits, { dtype: 'float32', shape: [N_FILE, 28, 28], data: test.x.slice(0, N_FILE * 784) });
}, 120_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('eval, gap and variance --test-data FILE', () => {
  it('eval --test-data FILE scores every example of FILE and says so', async () => {
    const r = await cli('eval', gauss, '--test-data', digits, '--k', '2', '--json', '--provider', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { n: number; data: string };
    expect(j.n).toBe(N_FILE);
    expect(j.data).toBe('digits.npy');
    expect(r.stderr).toContain(`eval: scoring all ${N_FILE} examples of ${digits} (--test-data)`);
  });

  it('eval --data FILE says it scores the 20% split training would hold out, and how to score all of FILE', async () => {
    const r = await cli('eval', gauss, '--data', digits, '--k', '2', '--json', '--provider', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).n).toBe(N_FILE * 0.2); // 8 of the 40
    expect(r.stderr).toContain(`eval: scoring the test split of ${digits} that training held out: 8 examples (20%`);
    expect(r.stderr).toContain('to score a whole file, pass it as --test-data FILE');
    const m = await cli('eval', gauss, '--k', '1', '--json', '--limit', '128', '--provider', 'cpu');
    expect(m.stderr).toMatch(/eval: scoring the MNIST test split: 2000 digits held out from training; the first 32 of them/);
    expect(JSON.parse(m.stdout).n).toBe(32); // ⌈128/4⌉, as training scored
  });

  it('gap --test-data FILE uses every example of FILE', async () => {
    const r = await cli('gap', gauss, '--test-data', digits, '--steps', '2', '--k', '4', '--json', '--provider', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).n).toBe(N_FILE);
    expect(r.stderr).toContain(`gap: scoring all ${N_FILE} examples of ${digits}`);
  });

  it('variance --test-data FILE takes its batch from FILE', async () => {
    const out = join(root, 'variance');
    // The batch asks for 64 examples; FILE has 40, so a batch of 40 shows FILE was used (MNIST would give 64).
    const r = await cli('variance', gauss, '--test-data', digits, '--batch', '64', '--draws', '3', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'gradient-variance.json'), 'utf8')).batch).toBe(N_FILE);
    expect(r.stderr).toContain(`variance: a batch of the first ${N_FILE} examples of ${digits} (--test-data)`);
  });
});

describe("variance DIR uses the model's own data and binarization", () => {
  it('a model trained on mnist-full with dynamic binarization: its training split, one fixed Bernoulli draw', async () => {
    const dir = join(root, 'full-dynamic');
    const t = await cli(
      'train',
      ...['--data', 'mnist-full', '--binarize', 'dynamic', '--limit', '128', '--batch', '64', '--epochs', '1', '--provider', 'cpu'],
      ...['--config', config('fd.json', { hidden: [16], latent: 2 }), '--out', dir],
    );
    expect(t.code, t.stderr).toBe(0);
    const out = join(root, 'variance-fd');
    const r = await cli('variance', dir, '--batch', '16', '--draws', '3', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'variance: a batch of the first 16 examples of the full MNIST training split; binarization: dynamic (one Bernoulli draw, seed 0)',
    );
    // Told otherwise, it does otherwise.
    const g = await cli('variance', dir, '--data', 'mnist', '--binarize', 'none', '--batch', '16', '--draws', '3', '--out', out);
    expect(g.code, g.stderr).toBe(0);
    expect(g.stderr).toContain('of the MNIST training split; binarization: none');
  });
});

describe('gap on a model without Gaussian latents', () => {
  it('says it needs Gaussian latents (not "offset is out of bounds"), exit 1', async () => {
    const r = await cli('gap', categorical, '--limit', '64', '--steps', '2', '--k', '4', '--provider', 'cpu');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/gap needs a model with one layer of Gaussian latents: .* has categorical latents \(family 'categorical'\)/);
    expect(r.stderr).not.toMatch(/out of bounds/);
    expect(r.stdout).toBe('');
  });
});

describe('sample DIR', () => {
  it("writes DIR/samples-seed<S>-t<T>.png and leaves the training run's samples.png as it was", async () => {
    const before = readFileSync(join(gauss, 'samples.png'));
    const r = await cli('sample', gauss, '--n', '4', '--seed', '3', '--temperature', '0.5', '--provider', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    const file = join(gauss, 'samples-seed3-t0.5.png');
    expect(r.stdout).toBe(`wrote ${file}\n`);
    expect(readFileSync(join(gauss, 'samples.png')).equals(before)).toBe(true);
    expect(readFileSync(file).length).toBeGreaterThan(0);
    const d = await cli('sample', gauss, '--n', '4', '--provider', 'cpu');
    expect(d.stdout).toBe(`wrote ${join(gauss, 'samples-seed0-t1.png')}\n`);
    expect(readFileSync(join(gauss, 'samples.png')).equals(before)).toBe(true);
  });
});

describe('reconstruct DIR', () => {
  it("writes DIR/reconstructions-n<N>.png and leaves the training run's reconstructions.png as it was", async () => {
    const before = readFileSync(join(gauss, 'reconstructions.png'));
    const r = await cli('reconstruct', gauss, '--n', '4', '--provider', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    const file = join(gauss, 'reconstructions-n4.png');
    expect(r.stdout).toBe(`wrote ${file}\n`);
    expect(readFileSync(join(gauss, 'reconstructions.png')).equals(before)).toBe(true);
    expect(readFileSync(file).length).toBeGreaterThan(0);
  });
});

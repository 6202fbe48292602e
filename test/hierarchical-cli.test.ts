/**
 * A two-stochastic-layer model through the CLI end to end, on a little of the small MNIST set: train (IWAE, k = 3)
 * → eval --k → sample → reconstruct → variance, in process through `main`; `gap` refuses it in words (its posterior
 * is not one free Gaussian).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../packages/node/src/testing/cli-run.js';

const root = mkdtempSync(join(tmpdir(), 'onnxvae-hier-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('hierarchical latents through the CLI', () => {
  it('train → eval --k → sample → reconstruct → variance; gap says why not', async () => {
    const config = join(root, 'hier.json');
    // A small two-layer model (784-64-8 and 8-8-4) so the test takes seconds.
    writeFileSync(
      config,
      JSON.stringify({
        hidden: [64],
        latent: 8,
        activation: 'tanh',
        hierarchical: { latent: 4, hidden: [8] },
        objective: 'iwae',
        samples: 3,
      }),
    );
    const dir = join(root, 'run');
    const data = ['--data', 'mnist', '--limit', '256', '--provider', 'cpu'];
    const t = await cli('train', ...data, '--config', config, '--epochs', '3', '--batch', '32', '--out', dir);
    expect(t.code, t.stderr).toBe(0);
    const metrics = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics).toHaveLength(3);
    // 784 binary pixels start near 784·log 2 ≈ 543 nats; three epochs of 8 steps must move the test ELBO well off it.
    expect(metrics[2].test_elbo).toBeGreaterThan(metrics[0].test_elbo);
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).config.hierarchical).toEqual({ latent: 4, hidden: [8] });

    const e = await cli('eval', dir, ...data, '--k', '64', '--json');
    expect(e.code, e.stderr).toBe(0);
    const r = JSON.parse(e.stdout);
    expect(r).toMatchObject({ k: 64, n: 64 });
    // L_64 ≥ L_1 = ELBO in expectation; the 64-digit means differ by far more than their noise after training.
    expect(r.iwae).toBeGreaterThan(r.elbo);
    expect(r.iwae).toBeLessThan(0);

    const s = await cli('sample', dir, '--n', '16', '--temperature', '0.8', '--provider', 'cpu');
    expect(s.code, s.stderr).toBe(0);
    expect(existsSync(join(dir, 'samples-seed0-t0.8.png'))).toBe(true);
    const rc = await cli('reconstruct', dir, ...data);
    expect(rc.code, rc.stderr).toBe(0);

    // Gradient variance: reparameterization and the score function, whose reward carries the Monte Carlo KL here
    // (its unbiasedness is tested in core's gradient-variance.test.ts).
    // An IWAE bundle is scored too (its rows estimate the ELBO's gradient and, marked, the IWAE bound's); a KL-form
    // config of the same shape as well.
    const iw = await cli('variance', dir, ...data, '--batch', '8', '--draws', '3');
    expect(iw.code, iw.stderr).toBe(0);
    expect(iw.stdout).toMatch(/÷ best \(/);
    const klConfig = join(root, 'hier-kl.json');
    writeFileSync(klConfig, JSON.stringify({ hidden: [64], latent: 8, activation: 'tanh', hierarchical: { latent: 4, hidden: [8] } }));
    const out = join(root, 'variance');
    const v = await cli('variance', '--config', klConfig, ...data, '--batch', '8', '--draws', '3', '--out', out);
    expect(v.code, v.stderr).toBe(0);
    const vj = JSON.parse(readFileSync(join(out, 'gradient-variance.json'), 'utf8'));
    expect(vj.estimators.map((x: { name: string }) => x.name)).toContain('reparam');
    expect(vj.estimators.map((x: { name: string }) => x.name)).toContain('score');

    const gap = await cli('gap', dir, ...data, '--steps', '2', '--k', '4');
    expect(gap.code).toBe(1);
    expect(gap.stderr).toMatch(/gap needs a model with one layer of Gaussian latents: .* has two stochastic layers/);
    expect(gap.stderr).toContain("family 'hierarchical'");
  });
});

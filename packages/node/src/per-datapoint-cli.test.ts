/**
 * `{"inference": "per-datapoint"}` from the CLI: train (the q table sized from the data), resume bit for bit, and the
 * commands that need q for a new x (eval, reconstruct), which fit it by refinement.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors } from '@onnxvae/core';
import { afterAll, describe, expect, it } from 'vitest';
import { readBundleDir } from './bundle-io.js';
import { cli } from './testing/cli-run.js';

const root = mkdtempSync(join(tmpdir(), 'onnxvae-pd-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const RUN = ['--data', 'mnist', '--limit', '256', '--batch', '64', '--provider', 'cpu'];
const config = join(root, 'pd.json');
writeFileSync(config, JSON.stringify({ hidden: [32], latent: 4, inference: 'per-datapoint', refineSteps: 20 }));
const metrics = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { seconds: _s, samples_per_s: _r, test_seconds: _t, ...m } = JSON.parse(l);
      return m;
    });

describe('per-datapoint inference from the CLI', () => {
  it('trains the q table with the decoder, says so, and resumes bit for bit', async () => {
    const base = join(root, 'base');
    const a = await cli('train', ...RUN, '--epochs', '3', '--config', config, '--out', base);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toMatch(/per-datapoint inference: q_i = N\(μ_i, σ_i²\) for each of the 256 training examples, a 256 × 4 table/);
    expect(a.stderr).toMatch(/test q's fitted by 20 steps each: \d+\.\d\d s for \d+ examples/);
    const b = await readBundleDir(base);
    expect(b.manifest.config.examples).toBe(256);
    expect(b.state.params['q.mu'].shape).toEqual([256, 4]);
    expect(b.manifest.params.some((p) => p.name.startsWith('encoder.'))).toBe(false);
    // 4 batches of 64 per epoch: every example's row was updated once per epoch.
    const counts = b.state.optState['q.updates'].data as Float32Array;
    expect(counts.every((c) => c === 3)).toBe(true);
    const resumed = join(root, 'resumed');
    expect((await cli('train', ...RUN, '--epochs', '2', '--config', config, '--out', resumed)).code).toBe(0);
    const r = await cli('train', '--resume', '--epochs', '3', '--limit', '256', '--config', config, '--provider', 'cpu', '--out', resumed);
    expect(r.code, r.stderr).toBe(0);
    expect(metrics(resumed)).toEqual(metrics(base));
    const ck = readFileSync(join(resumed, 'checkpoint.safetensors'));
    expect(ck.equals(readFileSync(join(base, 'checkpoint.safetensors')))).toBe(true);
    expect(Object.keys(decodeSafetensors(ck).tensors)).toEqual(expect.arrayContaining(['q.mu', 'q.logvar', 'q.mu.adam_m', 'q.updates']));

    // eval fits q for every test digit (eval.onnx refines), then scores it: IWAE ≥ ELBO.
    const e = await cli('eval', base, '--k', '20', '--json');
    expect(e.code, e.stderr).toBe(0);
    const res = JSON.parse(e.stdout);
    expect(res.iwae).toBeGreaterThanOrEqual(res.elbo);
    const rec = await cli('reconstruct', base, '--n', '8');
    expect(rec.code, rec.stderr).toBe(0);
  });

  it('refuses examples that do not match the data, and --fused', async () => {
    const bad = join(root, 'bad.json');
    writeFileSync(bad, JSON.stringify({ hidden: [32], latent: 4, inference: 'per-datapoint', examples: 99 }));
    const r = await cli('train', ...RUN, '--epochs', '1', '--config', bad, '--out', join(root, 'bad'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/examples 99 does not match the 256 training examples/);
    const f = await cli('train', ...RUN, '--epochs', '1', '--config', config, '--fused', '2', '--out', join(root, 'fused'));
    expect(f.code).toBe(1);
    expect(f.stderr).toMatch(/--fused: per-datapoint inference runs one step per train_step/);
  });
});

/**
 * The discrete-latent estimators from the CLI: VIMCO (Bernoulli, IWAE), the Concrete relaxation (categorical) and NVIL
 * (Bernoulli) each train on 512 MNIST digits for an epoch, resume for a second from the checkpoint, and `variance`
 * reports every estimator's row for the model.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors } from '@onnxvae/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './testing/cli-run.js';

let root = '';
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'onnxvae-discrete-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const RUN = ['--data', 'mnist', '--limit', '512', '--batch', '64', '--provider', 'cpu'];

const readMetrics = (dir: string): Record<string, number>[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);

/** Trains one epoch, resumes for a second; returns the folder and the checkpoint's tensor names. */
async function trainAndResume(name: string, config: object): Promise<{ dir: string; tensors: string[] }> {
  const cfgFile = join(root, `${name}.json`);
  writeFileSync(cfgFile, JSON.stringify(config));
  const dir = join(root, name);
  const a = await cli('train', ...RUN, '--epochs', '1', '--config', cfgFile, '--out', dir);
  expect(a.code, a.stderr).toBe(0);
  const b = await cli('train', '--resume', '--epochs', '2', '--limit', '512', '--config', cfgFile, '--provider', 'cpu', '--out', dir);
  expect(b.code, b.stderr).toBe(0);
  expect(b.stderr).toMatch(/resuming from .*\(epoch 1, step \d+\)/);
  const ms = readMetrics(dir);
  expect(ms.map((m) => m.epoch)).toEqual([1, 2]);
  for (const m of ms)
    for (const k of ['train_elbo', 'test_elbo']) {
      expect(Number.isFinite(m[k]), `${name} ${k}`).toBe(true);
      expect(m[k], `${name} ${k}`).toBeLessThan(0);
    }
  // 784 binary pixels start near −543 nats; a couple of epochs move the bound up.
  expect(ms[1].train_elbo, name).toBeGreaterThan(-543);
  const tensors = Object.keys(decodeSafetensors(readFileSync(join(dir, 'checkpoint.safetensors'))).tensors);
  return { dir, tensors };
}

describe('discrete-latent estimators from the CLI', () => {
  it('VIMCO (Bernoulli latents, objective iwae, K = 3) trains and resumes', async () => {
    await trainAndResume('vimco', { hidden: [32], latentType: 'bernoulli', latent: 8, objective: 'iwae', samples: 3, baseline: 'vimco' });
  });

  it('the Concrete relaxation (categorical latents, τ = 0.5) trains, resumes, and variance reports its row', async () => {
    const { dir } = await trainAndResume('concrete', {
      hidden: [32],
      latentType: 'categorical',
      latent: 4,
      categories: 5,
      relaxation: { temperature: 0.5 },
    });
    const r = await cli('variance', dir, '--data', 'mnist', '--limit', '64', '--batch', '8', '--draws', '10', '--samples', '2');
    expect(r.code, r.stderr).toBe(0);
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
    expect(json.reference).toBe('score');
    // The pathwise gradient of the relaxation is far less noisy than the plain score function's.
    const by = Object.fromEntries(json.estimators.map((e: { name: string; ratio: number }) => [e.name, e.ratio]));
    expect(by['concrete(τ=0.5)']).toBeLessThan(0.1);
  });

  it('NVIL (Bernoulli latents) trains and resumes; b_ψ and c, v are in the checkpoint', async () => {
    const { tensors } = await trainAndResume('nvil', { hidden: [32], latentType: 'bernoulli', latent: 8, baseline: 'nvil' });
    for (const n of ['nvil.fc1.weight', 'nvil.fc2.bias', 'nvil.signal_mean', 'nvil.signal_var']) expect(tensors).toContain(n);
  });
});

/**
 * bench/run.mjs (`npm run bench`), smoke-run with --quick --json: stdout holds one JSON object with every key the
 * bench promises (issue 13), each a finite positive number (PyTorch's may be null where no python3 has torch), and
 * the tables, which --json prints to stderr with the same printer as the table mode, name every row. No timing is
 * asserted: --quick runs a few steps per row, on a machine busy with other tests.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(REPO, 'bench', 'run.mjs');

/** Keys that are always measured, each a finite number > 0. */
const POSITIVE = [
  'ms_per_step',
  'fused_ms_per_step',
  'one_thread_ms_per_step',
  'named_ms_per_step',
  'matmul_gflops',
  'matmul_1t_gflops',
  'matmul_large_gflops',
  'matmul_eval_shape_gflops',
  'flops_per_step',
  'fraction_of_matmul',
  'wasm_ms_per_step',
  'tfjs_wasm_ms_per_step',
  'jax_wasm_ms_per_step',
  'conv_ms_per_step',
  'burda_ms_per_step',
  'width1600_ms_per_step',
  'width1600_floor_ms',
  'decode64_ms',
  'wasm_decode64_ms',
  'eval_samples_per_s',
  'eval_gflops',
  'eval_fraction_of_matmul',
  'eval_fraction_of_eval_shape_matmul',
  'eval_k5000_10k_digits_projected_s',
];
/** Keys that are null where the row cannot run here (no torch, one core, --quick), else finite and > 0. */
const POSITIVE_OR_NULL = [
  'torch_ms_per_step',
  'torch_conv_ms_per_step',
  'torch_burda_ms_per_step',
  'wasm_threads_ms_per_step',
  'wasm_threads_decode64_ms',
  'tfjs_cpu_ms_per_step',
];
/** Row labels the tables print. */
const LABELS = [
  'Lone MatMul',
  '[128, 784] · [784, 400]',
  'onnxvae · onnxruntime-node cpu',
  'fused 8 steps (Loop)',
  'onnxvae · onnxruntime-node cpu, 1 thread',
  'named layout',
  'onnxvae · onnxruntime-web wasm, 1 thread',
  'onnxvae · onnxruntime-web wasm,',
  'TensorFlow.js wasm',
  'TensorFlow.js cpu',
  'jax-js wasm (jit)',
  'PyTorch',
  'conv VAE',
  'Burda MLP 784-200-200-50 tanh',
  'Scaling',
  'fixed cost per step',
  '784-1600-20-1600-784',
  'Decoder latency',
  'IWAE evaluation',
  'samples/s',
  'decoder GFLOP/s',
  'projected `onnxvae eval --k 5000` over 10,000 digits',
];

let run: { status: number | null; stdout: string; stderr: string };
beforeAll(() => {
  if (!existsSync(join(REPO, 'packages', 'core', 'dist', 'index.js'))) throw new Error('build first: npm run build');
  const r = spawnSync(process.execPath, [SCRIPT, '--quick', '--json'], { cwd: REPO, encoding: 'utf8', timeout: 170_000 });
  run = { status: r.status, stdout: r.stdout, stderr: r.stderr };
}, 180_000);

describe('npm run bench -- --quick --json', () => {
  it('exits 0 and prints one JSON object on stdout, nothing else', () => {
    expect(run.status, run.stderr.slice(-4000)).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toBeTypeOf('object');
  });

  it('has every key, each a finite positive number (PyTorch and the rows that cannot run here may be null)', () => {
    const j = JSON.parse(run.stdout);
    expect(j.quick).toBe(true);
    for (const k of POSITIVE) {
      expect(j, k).toHaveProperty(k);
      expect(Number.isFinite(j[k]) && j[k] > 0, `${k} = ${j[k]}`).toBe(true);
    }
    for (const k of POSITIVE_OR_NULL) {
      expect(j, k).toHaveProperty(k);
      if (j[k] !== null) expect(Number.isFinite(j[k]) && j[k] > 0, `${k} = ${j[k]}`).toBe(true);
    }
    // A least-squares intercept of noisy quick timings may come out at or below zero; it must be a number.
    expect(Number.isFinite(j.intercept_ms)).toBe(true);
    expect(Object.keys(j.scaling_ms_per_step).length).toBeGreaterThanOrEqual(2);
    for (const v of Object.values(j.scaling_ms_per_step)) expect(Number.isFinite(v) && (v as number) > 0).toBe(true);
    // The reference model's matmul FLOPs per step (forward, dX except the first layer's, dW) at batch 128.
    expect(j.flops_per_step).toBe(419_840_000);
    expect(j.rows.length).toBeGreaterThanOrEqual(8);
    for (const r of j.rows) expect(Number.isFinite(r.ms_per_step) && r.fraction_of_matmul > 0, r.label).toBe(true);
  });

  it('prints the tables with every row label (to stderr under --json)', () => {
    for (const label of LABELS) expect(run.stderr, label).toContain(label);
  });
});

describe('bench/run.mjs options', () => {
  it('rejects an unknown option with exit status 2', () => {
    const r = spawnSync(process.execPath, [SCRIPT, '--bogus'], { cwd: REPO, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage');
  });
});

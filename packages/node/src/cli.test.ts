/**
 * The `onnxvae` CLI end to end on small data: train → eval → sample/reconstruct/interpolate → export → info, resume
 * (bit-identical to an uninterrupted run), provider choice, the loaders on real files, and every bad-input case.
 * Most commands run in-process through `main`; a few spawn the built bin to check exit codes and stdout/stderr.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import { decodeSafetensors } from '@onnxvae/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCheckpoints, readBundleDir } from './bundle-io.js';
import { writeIdx } from './data/idx.js';
import { writeNpy } from './data/npy.js';
import { cudaProviderLibrary, hardwareVulkan } from './session.js';
import { type CliRun, cli } from './testing/cli-run.js';

const CLI_JS = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');

let root = '';
/** A small model so every run takes a second or two: 784-64-4-64-784 instead of the reference 784-400-20-400-784. */
let small = '';
/** The baseline run: 3 epochs of 4 steps (256 MNIST digits, batch 64), 64 test digits. */
let base = '';
const SMALL_RUN = ['--data', 'mnist', '--limit', '256', '--batch', '64', '--provider', 'cpu'];

function spawnCli(argv: string[], env: NodeJS.ProcessEnv = process.env): CliRun {
  if (!existsSync(CLI_JS)) throw new Error(`${CLI_JS} is missing: build first (npm run build)`);
  const r = spawnSync(process.execPath, [CLI_JS, ...argv], { encoding: 'utf8', env, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Checks a PNG's structure (signature, IHDR, IDAT inflating to exactly the scanlines IHDR promises, IEND); returns its size. */
function pngSize(path: string): { width: number; height: number } {
  const b = readFileSync(path);
  expect([...b.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks: { type: string; data: Buffer }[] = [];
  for (let o = 8; o < b.length; ) {
    const len = b.readUInt32BE(o);
    chunks.push({ type: b.toString('latin1', o + 4, o + 8), data: b.subarray(o + 8, o + 8 + len) });
    o += 12 + len;
  }
  expect(chunks[0].type).toBe('IHDR');
  expect(chunks[chunks.length - 1].type).toBe('IEND');
  const ihdr = chunks[0].data;
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[ihdr[9]] ?? 0;
  expect(ihdr[8]).toBe(8); // bit depth
  const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  expect(raw.length).toBe(height * (1 + width * channels)); // a filter byte per scanline
  return { width, height };
}

/** Makes a folder refuse writes, even for root where possible; returns how to undo it, or undefined if it cannot. */
function lockFolder(dir: string): (() => void) | undefined {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555);
    return () => chmodSync(dir, 0o755);
  }
  if (spawnSync('chattr', ['+i', dir]).status !== 0) return undefined;
  return () => {
    spawnSync('chattr', ['-i', dir]);
  };
}

/** imageGrid's layout: 2 px padding around 28×28 digits drawn at scale 2. */
const grid = (cols: number, rows: number) => ({ width: 2 + cols * 58, height: 2 + rows * 58 });

const readMetrics = (dir: string): Record<string, number>[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);

/** Metrics without wall-clock fields (seconds, samples/s), which no two runs share. */
const deterministic = (ms: Record<string, number>[]) => ms.map(({ seconds: _s, samples_per_s: _r, test_seconds: _t, ...m }) => m);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'onnxvae-cli-'));
  small = join(root, 'small.json');
  writeFileSync(small, JSON.stringify({ hidden: [64], latent: 4 }));
  base = join(root, 'base');
  const r = await cli('train', ...SMALL_RUN, '--epochs', '3', '--config', small, '--out', base);
  if (r.code !== 0) throw new Error(`baseline training failed (${r.code}): ${r.stderr}`);
}, 120_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('train → eval → sample → export → info', () => {
  it('writes the bundle, metrics.jsonl, pictures and a report that shows them', () => {
    for (const f of [
      'manifest.json',
      'train_step.onnx',
      'eval.onnx',
      'encoder.onnx',
      'decoder.onnx',
      'checkpoint.safetensors',
      'metrics.jsonl',
      'samples.png',
      'reconstructions.png',
      'loss-curve.png',
      'report.html',
    ]) {
      expect(existsSync(join(base, f)), f).toBe(true);
    }
    const ms = readMetrics(base);
    expect(ms.map((m) => m.epoch)).toEqual([1, 2, 3]);
    for (const m of ms) {
      for (const k of ['train_elbo', 'test_elbo']) {
        expect(Number.isFinite(m[k]), k).toBe(true);
        expect(m[k], k).toBeLessThan(0); // log-likelihood bounds of binary 784-pixel images are negative nats
      }
    }
    expect(ms[2].test_elbo).toBeGreaterThan(ms[0].test_elbo); // 12 Adam steps do improve the bound
    const html = readFileSync(join(base, 'report.html'), 'utf8');
    for (const img of ['samples.png', 'reconstructions.png', 'loss-curve.png']) expect(html).toContain(`src="${img}"`);
    expect(pngSize(join(base, 'samples.png'))).toEqual(grid(8, 8)); // 64 samples, 8 per row
    expect(pngSize(join(base, 'reconstructions.png'))).toEqual(grid(8, 4)); // 16 test digits over their reconstructions
    expect(pngSize(join(base, 'loss-curve.png'))).toEqual({ width: 720, height: 420 });
    expect(listCheckpoints(base).map((d) => d.slice(-14))).toEqual(['step-000000004', 'step-000000008', 'step-000000012']);
  });

  it('eval --json prints {elbo, iwae, k} with log p(x) ≥ ELBO', async () => {
    const r = await cli('eval', base, '--json', '--k', '100', '--limit', '256');
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { elbo: number; iwae: number; k: number };
    expect(res.k).toBe(100);
    expect(res.elbo).toBeLessThan(0);
    expect(res.iwae).toBeLessThan(0);
    // Per example, log mean_k w_k ≥ mean_k log w_k (Jensen, exact on the same draws); the ELBO printed uses the
    // analytic KL instead of its 100-draw estimate, which differs by Monte Carlo noise of ~0.01 nats here.
    expect(res.iwae).toBeGreaterThanOrEqual(res.elbo - 0.1);
    // With one draw from the seed training used for its test ELBO, eval reproduces the last epoch's number: the same
    // split, parameters and noise (float32 sums in the same order: equal to ~1e-9 relative, 1e-6 allowed).
    const one = await cli('eval', base, '--json', '--k', '1', '--seed', '12345', '--limit', '256');
    expect(JSON.parse(one.stdout).elbo).toBeCloseTo(readMetrics(base)[2].test_elbo, 3);
  });

  it('sample, reconstruct and interpolate write PNGs of the right size', async () => {
    const s = await cli('sample', base, '--n', '16', '--out', join(root, 's.png'));
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain('s.png');
    expect(pngSize(join(root, 's.png'))).toEqual(grid(8, 2));
    const r = await cli('reconstruct', base, '--n', '4', '--out', join(root, 'r.png'));
    expect(r.code, r.stderr).toBe(0);
    expect(pngSize(join(root, 'r.png'))).toEqual(grid(4, 2)); // 4 digits over their 4 reconstructions
    const i = await cli('interpolate', base, '--steps', '5', '--slerp', '--out', join(root, 'i.png'));
    expect(i.code, i.stderr).toBe(0);
    expect(pngSize(join(root, 'i.png'))).toEqual(grid(5, 1));
  });

  it('export copies a loadable bundle; info describes it', async () => {
    const web = join(root, 'web');
    const e = await cli('export', base, '--out', web);
    expect(e.code, e.stderr).toBe(0);
    const b = await readBundleDir(web); // validates every file's size and sha256
    expect(b.manifest.config.hidden).toEqual([64]);
    const info = await cli('info', web);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/model: mlp \[784\] hidden \[64\] latent 4, bernoulli, adam/);
    // 784·64+64 + 64·8+8 (μ and log σ²) + 4·64+64 + 64·784+784
    expect(info.stdout).toContain(`parameters: ${784 * 64 + 64 + 64 * 8 + 8 + 4 * 64 + 64 + 64 * 784 + 784}`);
    expect(info.stdout).toContain('training: epoch 3, step 12, seed 0');
    const json = await cli('info', web, '--json');
    expect(JSON.parse(json.stdout).metrics).toHaveLength(3);
  });

  it('the built bin: eval --json prints one JSON line on stdout, exit 0', () => {
    const r = spawnCli(['eval', base, '--json', '--k', '10', '--limit', '256', '--provider', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(Object.keys(JSON.parse(r.stdout))).toEqual(expect.arrayContaining(['elbo', 'iwae', 'k']));
    expect(r.stderr).not.toMatch(/error/i); // stderr may carry a progress line; results go to stdout only
  });
});

describe('resume', () => {
  it('2 epochs, then --resume --epochs 3, equals 3 uninterrupted epochs bit for bit', async () => {
    const dir = join(root, 'resumed');
    const a = await cli('train', ...SMALL_RUN, '--epochs', '2', '--config', small, '--out', dir);
    expect(a.code, a.stderr).toBe(0);
    cpSync(dir, join(root, 'resumed-copy'), { recursive: true }); // for the corrupt-checkpoint test below
    // No --batch and no --seed: a resumed run takes them from the checkpoint.
    const b = await cli('train', '--resume', '--epochs', '3', '--limit', '256', '--config', small, '--provider', 'cpu', '--out', dir);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/resuming from .*step-000000008 \(epoch 2, step 8\)/);
    expect(deterministic(readMetrics(dir))).toEqual(deterministic(readMetrics(base)));
    // Same seed, same per-epoch shuffles, PRNG state restored: every parameter and Adam moment is the same float.
    const ck = readFileSync(join(dir, 'checkpoint.safetensors'));
    expect(ck.equals(readFileSync(join(base, 'checkpoint.safetensors')))).toBe(true);
    expect(Object.keys(decodeSafetensors(ck).tensors).length).toBeGreaterThan(8);
    expect(readFileSync(join(dir, 'decoder.onnx')).equals(readFileSync(join(base, 'decoder.onnx')))).toBe(true);
  });

  it('skips a corrupt newest checkpoint with a message and resumes from the one before', async () => {
    const dir = join(root, 'resumed-copy');
    const newest = join(dir, 'checkpoints', 'step-000000008', 'checkpoint.safetensors');
    const bytes = readFileSync(newest);
    bytes[bytes.length - 1] ^= 0xff; // one flipped bit pattern in the last weight: the sha256 no longer matches
    writeFileSync(newest, bytes);
    const r = await cli('train', '--resume', '--epochs', '3', '--limit', '256', '--config', small, '--provider', 'cpu', '--out', dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/skipped a corrupt checkpoint: .*step-000000008.*sha256/);
    expect(r.stderr).toMatch(/resuming from .*step-000000004 \(epoch 1, step 4\)/);
    // Epochs 2 and 3 are retrained, and still land exactly on the uninterrupted run.
    expect(deterministic(readMetrics(dir))).toEqual(deterministic(readMetrics(base)));
    expect(readFileSync(join(dir, 'checkpoint.safetensors')).equals(readFileSync(join(base, 'checkpoint.safetensors')))).toBe(true);
  });

  it('refuses a different --batch, --seed or data than the checkpoint, and a folder without checkpoints', async () => {
    const resume = ['train', '--resume', '--epochs', '4', '--limit', '256', '--config', small, '--provider', 'cpu', '--out', base];
    const r = await cli(...resume, '--batch', '32');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/checkpoint was trained with --batch 64; resume with the same value/);
    const s = await cli(...resume, '--seed', '7');
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/checkpoint was trained with --seed 0/);
    const d = await cli(...resume.slice(0, 4), '--limit', '128', ...resume.slice(6));
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/checkpoint was trained on other data \(limit: 256, now 128\); resume with the same --limit/);
    const g = await cli(...resume, '--grayscale');
    expect(g.code).toBe(1);
    expect(g.stderr).toMatch(/trained on other data \(binarize: "threshold", now "none"\); resume with the same --binarize/);
    const c = await cli(...resume.slice(0, 6), '--out', base); // the reference model, not the checkpoint's
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/trained with a different model config; use the same --config/);
    expect(listCheckpoints(base)).toHaveLength(3); // none of it touched the folder
    const empty = join(root, 'no-checkpoints');
    const e = await cli('train', '--resume', ...SMALL_RUN, '--out', empty);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/--resume: no checkpoint in .*no-checkpoints\/checkpoints exists/);
    expect(existsSync(empty)).toBe(false);
  });
});

describe('loaders on real files through train --data FILE --labels FILE', () => {
  const n = 96;
  /** Blobs on an 8×8 grid: a bright square at a position that depends on the label. */
  function images(): { x: Uint8Array; labels: Uint8Array } {
    const x = new Uint8Array(n * 64);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 4;
      const r0 = 2 * (labels[i] >> 1) + 1;
      const c0 = 2 * (labels[i] & 1) + 1;
      for (let r = r0; r < r0 + 3; r++) for (let c = c0; c < c0 + 3; c++) x[i * 64 + r * 8 + c] = 160 + ((i * 7) % 96);
    }
    return { x, labels };
  }

  it('gzipped IDX images and labels (provider auto picks cpu here)', async () => {
    const { x, labels } = images();
    const data = join(root, 'blobs-idx3-ubyte.gz');
    const lab = join(root, 'blobs-labels-idx1-ubyte.gz');
    writeIdx(data, { dtype: 'uint8', shape: [n, 8, 8], data: x });
    writeIdx(lab, { dtype: 'uint8', shape: [n], data: labels });
    expect(readFileSync(data).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const out = join(root, 'idx-run');
    const r = await cli(
      'train',
      '--data',
      data,
      '--labels',
      lab,
      '--epochs',
      '1',
      '--batch',
      '16',
      '--config',
      small,
      '--provider',
      'auto',
      '--out',
      out,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/trained 4 steps on \w+/); // 96 examples, 20% (19) held out: 77 train → 4 batches of 16
    // auto tries cuda, then a hardware WebGPU adapter, then cpu; the log says why each was skipped.
    if (!cudaProviderLibrary() && !hardwareVulkan()) {
      expect(r.stderr).toMatch(
        /provider: cpu \(cuda: skipped \(.*ONNXRUNTIME_NODE_INSTALL=cuda12.*\); webgpu: skipped \(no hardware Vulkan driver.*\); cpu: used\)/,
      );
    }
    const m = (await readBundleDir(out)).manifest;
    expect(m.config.inputShape).toEqual([64]);
    expect(readMetrics(out)[0].test_elbo).toBeLessThan(0);
    expect(pngSize(join(out, 'samples.png'))).toEqual({ width: 2 + 8 * 18, height: 2 + 8 * 18 }); // 8×8 digits at scale 2
    // The labels file is read and checked: one label too few is an error naming both files.
    writeIdx(lab, { dtype: 'uint8', shape: [n - 1], data: labels.subarray(1) });
    const bad = await cli('train', '--data', data, '--labels', lab, '--epochs', '1', '--config', small, '--out', join(root, 'idx-bad'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /label count mismatch: .*blobs-idx3-ubyte.gz has 96 examples but .*blobs-labels-idx1-ubyte.gz has 95 labels/,
    );
  });

  it('.npy float data with int64 labels and a separate --test-data file, grayscale', async () => {
    const { x, labels } = images();
    const f = Float32Array.from(x, (v) => v / 255);
    const data = join(root, 'blobs.npy');
    const test = join(root, 'blobs-test.npy');
    const lab = join(root, 'blobs-labels.npy');
    writeNpy(data, { dtype: 'float32', shape: [n, 8, 8], data: f });
    writeNpy(test, { dtype: 'float32', shape: [32, 8, 8], data: f.subarray(0, 32 * 64) });
    writeNpy(lab, { dtype: 'int64', shape: [n], data: BigInt64Array.from(labels, (v) => BigInt(v)) });
    const out = join(root, 'npy-run');
    const r = await cli(
      'train',
      ...['--data', data, '--labels', lab, '--test-data', test, '--grayscale', '--epochs', '2', '--batch', '32'],
      ...['--config', small, '--provider', 'cpu', '--out', out],
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/trained 6 steps on cpu/); // all 96 train, 3 batches × 2 epochs
    expect(readMetrics(out).map((m) => m.epoch)).toEqual([1, 2]);
  });
});

describe('bad input: a clear message, a non-zero exit, no partial bundle', () => {
  /** Runs `train` into a fresh folder and checks the exit status, the message and that no manifest.json appeared. */
  let nBad = 0;
  /** Options later in argv win (node's parseArgs keeps the last), so a case can override these defaults. */
  async function rejects(code: number, message: RegExp, ...argv: string[]): Promise<string> {
    const out = join(root, `bad-${nBad++}`);
    const r = await cli('train', '--epochs', '1', '--limit', '64', '--batch', '32', '--provider', 'cpu', ...argv, '--out', out);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    return out;
  }

  it('missing data file', async () => {
    const out = await rejects(1, /data file not found: .*nope\.npy/, '--data', join(root, 'nope.npy'));
    expect(existsSync(out)).toBe(false); // checked before the folder is made
  });

  it('corrupt and truncated IDX files, plain and gzipped', async () => {
    const good = join(root, 'ok-idx3-ubyte');
    writeIdx(good, { dtype: 'uint8', shape: [10, 4, 4], data: new Uint8Array(160) });
    const bytes = readFileSync(good);
    writeFileSync(join(root, 'cut-idx3-ubyte'), bytes.subarray(0, bytes.length - 5));
    await rejects(1, /IDX file is truncated: shape \[10, 4, 4\] of uint8 needs 176 bytes, got 171/, '--data', join(root, 'cut-idx3-ubyte'));
    writeFileSync(join(root, 'magic-idx3-ubyte'), Buffer.concat([Buffer.from([7, 7]), bytes.subarray(2)]));
    await rejects(1, /wrong magic 0x07 0x07/, '--data', join(root, 'magic-idx3-ubyte'));
    writeIdx(join(root, 'gz-idx3-ubyte.gz'), { dtype: 'uint8', shape: [10, 4, 4], data: new Uint8Array(160) });
    const gz = readFileSync(join(root, 'gz-idx3-ubyte.gz'));
    writeFileSync(join(root, 'gzcut-idx3-ubyte.gz'), gz.subarray(0, gz.length - 12));
    await rejects(1, /gzip data is corrupt or truncated/, '--data', join(root, 'gzcut-idx3-ubyte.gz'));
  });

  it('wrong shape: a 1-D array', async () => {
    writeNpy(join(root, 'flat.npy'), { dtype: 'float32', shape: [100], data: new Float32Array(100) });
    await rejects(1, /data has shape \[100\]; expected \[n, \.\.\.dims\]/, '--data', join(root, 'flat.npy'));
  });

  it('NaN in data, and values outside [0, 1]', async () => {
    const x = new Float32Array(20 * 16).fill(0.25);
    x[5 * 16 + 3] = Number.NaN;
    writeNpy(join(root, 'nan.npy'), { dtype: 'float32', shape: [20, 16], data: x });
    await rejects(1, /non-finite value NaN at flat index 83 \(example 5\)/, '--data', join(root, 'nan.npy'));
    x[5 * 16 + 3] = 255; // unscaled pixel values
    writeNpy(join(root, 'range.npy'), { dtype: 'float32', shape: [20, 16], data: x });
    await rejects(1, /value 255 \(example 5\) is outside \[0, 1\]; binarizing/, '--data', join(root, 'range.npy'));
    await rejects(
      1,
      /value 255 \(example 5\) is outside \[0, 1\], which a Bernoulli likelihood needs/,
      '--data',
      join(root, 'range.npy'),
      '--grayscale',
    );
  });

  it('unknown provider: exit 2 naming it', async () => {
    const out = await rejects(2, /unknown provider 'tpu' \(choose one of auto, cpu, cuda, webgpu\)/, '--provider', 'tpu');
    expect(existsSync(out)).toBe(false);
  });

  it('bad numbers and unknown options: exit 2', async () => {
    await rejects(2, /--epochs must be a positive integer, got '0'/, '--epochs', '0');
    await rejects(2, /--lr must be a number/, '--lr', 'fast');
    await rejects(2, /Unknown option '--epoch'/, '--epoch', '3');
  });

  it('usage errors exit 2; a missing or corrupt bundle exits 1 naming the file', async () => {
    for (const [argv, usage] of [
      [[], /usage: onnxvae <command>/],
      [['fly'], /usage: onnxvae <command>/],
      [['eval'], /usage: onnxvae eval DIR/],
      [['export', base], /usage: onnxvae export DIR --out WEBDIR/],
    ] as const) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(usage);
    }
    expect((await cli('fly')).stderr).toMatch(/unknown command 'fly'/);
    expect((await cli('--help')).code).toBe(0);
    const none = await cli('eval', root, '--json');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no manifest\.json here; is it an onnxvae bundle folder\?/);
    expect(none.stdout).toBe('');
    const dir = join(root, 'tampered');
    cpSync(base, dir, { recursive: true });
    writeFileSync(join(dir, 'decoder.onnx'), Buffer.concat([readFileSync(join(dir, 'decoder.onnx')), Buffer.from([0])]));
    const bad = await cli('sample', dir, '--out', join(root, 'never.png'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/decoder\.onnx/);
    expect(existsSync(join(root, 'never.png'))).toBe(false);
  });

  it('unwritable out dir', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a folder');
    const r = await cli('train', ...SMALL_RUN, '--epochs', '1', '--out', join(file, 'sub'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/output folder .*a-file\/sub cannot be created: .*a-file is a file, not a folder/);
    // A folder that refuses writes: chmod 555 for a regular user; root ignores modes, so as root the immutable flag.
    const ro = join(root, 'read-only');
    mkdirSync(ro);
    const undo = lockFolder(ro);
    if (!undo) return; // neither possible here (root on a filesystem without chattr): the case above still ran
    try {
      const q = await cli('train', ...SMALL_RUN, '--epochs', '1', '--out', join(ro, 'run'));
      expect(q.code).toBe(1);
      expect(q.stderr).toMatch(/output folder .*read-only\/run is not writable: .*read-only refuses writes \((EACCES|EPERM)\)/);
      expect(readdirSync(ro)).toEqual([]);
    } finally {
      undo();
    }
  });

  it('invalid --config: unreadable, not JSON, unknown fields, wrong types, invalid values', async () => {
    const cfg = (name: string, text: string) => {
      writeFileSync(join(root, name), text);
      return ['--config', join(root, name)];
    };
    await rejects(1, /config file .*absent\.json: cannot read \(ENOENT\)/, '--config', join(root, 'absent.json'));
    await rejects(1, /config file .*broken\.json: not valid JSON/, ...cfg('broken.json', '{"hidden": [64,'));
    await rejects(1, /the config must be a JSON object, got array/, ...cfg('array.json', '[64]'));
    await rejects(1, /unknown field 'hiden' \(known fields: arch, inputShape, hidden/, ...cfg('typo.json', '{"hiden": [64]}'));
    await rejects(1, /'hidden' must be an array, got "64"/, ...cfg('type.json', '{"hidden": "64"}'));
    await rejects(1, /unknown field 'optimizer.lr'/, ...cfg('nested.json', '{"optimizer": {"lr": 0.1}}'));
    await rejects(1, /model config: latent must be a positive integer, got 0/, ...cfg('zero.json', '{"latent": 0}'));
    await rejects(
      1,
      /model config: optimizer.type must be 'adam', 'adamw' or 'sgd', got "rmsprop"/,
      ...cfg('opt.json', '{"optimizer": {"type": "rmsprop"}}'),
    );
    await rejects(1, /inputShape \[100\] does not match the data's \[784\]/, ...cfg('shape.json', '{"inputShape": [100]}'));
  });

  it('bad input leaves an existing bundle untouched', async () => {
    const dir = join(root, 'kept');
    cpSync(base, dir, { recursive: true });
    const before = readFileSync(join(dir, 'manifest.json'));
    const r = await cli('train', ...SMALL_RUN, '--epochs', '1', '--data', join(root, 'nope.npy'), '--out', dir);
    expect(r.code).toBe(1);
    expect(readFileSync(join(dir, 'manifest.json')).equals(before)).toBe(true);
    expect(listCheckpoints(dir)).toHaveLength(3);
  });

  it('a NaN loss in the first epoch stops training, says so, and leaves no bundle', async () => {
    const out = await rejects(
      1,
      /training stopped in epoch 1: loss is NaN at step \d+ .*No checkpoint was saved yet/,
      ...['--lr', '1e30', '--config', small],
    );
    expect(listCheckpoints(out)).toEqual([]);
  });

  it('a NaN loss later keeps the last good checkpoint, which resumes with a sane --lr', async () => {
    const dir = join(root, 'diverge');
    cpSync(base, dir, { recursive: true });
    const manifestBefore = readFileSync(join(dir, 'manifest.json'));
    const r = await cli(
      'train',
      '--resume',
      '--epochs',
      '4',
      '--lr',
      '1e30',
      '--limit',
      '256',
      '--config',
      small,
      '--provider',
      'cpu',
      '--out',
      dir,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/training stopped in epoch 4: loss is NaN .*The last good checkpoint \(epoch 3\) is kept in .*step-000000012/);
    // The folder still holds the finished 3-epoch run and its checkpoint, and the checkpoint still loads.
    expect(readFileSync(join(dir, 'manifest.json')).equals(manifestBefore)).toBe(true);
    const ck = await readBundleDir(listCheckpoints(dir).at(-1) as string);
    expect(ck.manifest.training.epoch).toBe(3);
    expect(readMetrics(dir)).toHaveLength(3);
    // The checkpoint still has lr 1e-3 (the failed run saved nothing), so a plain --resume goes on from epoch 3.
    const again = await cli('train', '--resume', '--epochs', '4', '--limit', '256', '--config', small, '--provider', 'cpu', '--out', dir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/learning rate/);
    const ms = readMetrics(dir);
    expect(ms.map((m) => m.epoch)).toEqual([1, 2, 3, 4]);
    expect(deterministic(ms.slice(0, 3))).toEqual(deterministic(readMetrics(base)));
    expect(ms[3].test_elbo).toBeGreaterThan(ms[2].test_elbo);
  });

  it('--resume with every checkpoint corrupt names each reason and touches nothing', async () => {
    const dir = join(root, 'all-corrupt');
    cpSync(base, dir, { recursive: true });
    for (const ck of listCheckpoints(dir)) writeFileSync(join(ck, 'manifest.json'), '{"format": "onnxvae-bundle"');
    const r = await cli('train', '--resume', '--epochs', '4', '--limit', '256', '--config', small, '--provider', 'cpu', '--out', dir);
    expect(r.code).toBe(1);
    expect(r.stderr.match(/skipped a corrupt checkpoint: .*step-0000000\d\d/g)).toHaveLength(3);
    expect(r.stderr).toMatch(/none of the 3 checkpoints in .*checkpoints is valid/);
    expect(readFileSync(join(dir, 'manifest.json')).equals(readFileSync(join(base, 'manifest.json')))).toBe(true);
  });

  it('the built bin: unknown provider exits 2, missing CUDA libraries exit 1 with how to install them', () => {
    const u = spawnCli(['train', '--provider', 'tpu', '--out', join(root, 'tpu')]);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/^onnxvae: unknown provider 'tpu'/);
    expect(u.stdout).toBe('');
    const c = spawnCli(['train', ...SMALL_RUN, '--provider', 'cuda', '--out', join(root, 'cuda')]);
    expect(c.code).toBe(1);
    expect(c.stdout).toBe('');
    expect(c.stderr).toMatch(/provider cuda is not available: .*ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci/);
    expect(c.stderr).not.toMatch(/\[E:onnxruntime/); // ORT's own log line about the failed probe is kept quiet
    expect(existsSync(join(root, 'cuda'))).toBe(false);
  });
});

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

describe('WebGPU (SwiftShader software adapter)', () => {
  it.skipIf(!existsSync(SWIFTSHADER))(
    `trains an epoch on webgpu with the same loss as cpu (skipped without ${SWIFTSHADER}: apt-get install chromium)`,
    () => {
      const xdg = join(root, 'xdg');
      mkdirSync(xdg, { recursive: true, mode: 0o700 });
      const out = join(root, 'webgpu');
      const env = {
        ...process.env,
        VK_ICD_FILENAMES: SWIFTSHADER,
        XDG_RUNTIME_DIR: xdg,
        // Debian's chromium ships the Vulkan loader (libvulkan.so.1) next to SwiftShader; libvulkan1 need not be installed.
        LD_LIBRARY_PATH: ['/usr/lib/chromium', process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      };
      const r = spawnCli(['train', ...SMALL_RUN, '--provider', 'webgpu', '--epochs', '1', '--config', small, '--out', out], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/on webgpu/);
      const [gpu] = readMetrics(out);
      const [cpu] = readMetrics(base); // the baseline's first epoch: same data, seed, noise and model
      // float32 on both, sums over 784 pixels and 64-wide layers in another order, through 4 Adam steps. Measured
      // here: ELBO terms agree to 6e-7 relative, the KL (0.064 nats, a difference of near-equal terms) to 1.1e-6 nats.
      // Allowed: 1e-5 relative on the ELBO terms (~0.005 nats) and 1e-4 nats on the KL, room for other drivers' rounding.
      for (const k of ['train_elbo', 'test_elbo', 'train_rec']) expect(Math.abs(gpu[k] - cpu[k]) / Math.abs(cpu[k]), k).toBeLessThan(1e-5);
      expect(Math.abs(gpu.train_kl - cpu.train_kl)).toBeLessThan(1e-4);
    },
    120_000,
  );
});

describe('checkpoint files', () => {
  // 64 digits in batches of 64: one step per epoch.
  const tiny = ['--data', 'mnist', '--limit', '64', '--batch', '64', '--provider', 'cpu', '--config'];

  it('keeps the newest --keep checkpoints, each a complete bundle', async () => {
    const dir = join(root, 'keep');
    const r = await cli('train', ...tiny, small, '--epochs', '3', '--keep', '2', '--out', dir);
    expect(r.code, r.stderr).toBe(0);
    const cks = listCheckpoints(dir);
    expect(cks.map((d) => d.slice(-14))).toEqual(['step-000000002', 'step-000000003']);
    for (const d of cks)
      expect(readdirSync(d).sort()).toEqual([
        'checkpoint.safetensors',
        'decoder.onnx',
        'encoder.onnx',
        'eval.onnx',
        'manifest.json',
        'train_step.onnx',
      ]);
    expect(readdirSync(join(dir, 'checkpoints')).filter((f) => f.startsWith('.'))).toEqual([]); // no temporary folders left
    // A fresh run into a folder with a finished run replaces it (and says so): no stale checkpoints survive.
    const again = await cli('train', ...tiny, small, '--epochs', '1', '--out', dir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('replacing the previous run');
    expect(listCheckpoints(dir).map((d) => d.slice(-14))).toEqual(['step-000000001']);
    expect(readMetrics(dir)).toHaveLength(1);
  });
});

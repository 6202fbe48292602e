/**
 * A training run's folder across interruptions, end to end: Ctrl-C (a real SIGINT to the built bin) keeps the last
 * checkpoint and prints the --resume command; a second train on the folder is refused while one runs; the folder of
 * a running or interrupted run reads as its newest checkpoint; a fresh run keeps the previous bundle until it has a
 * checkpoint of its own; leftovers of killed runs (temporary folders, a stale lock) are cleaned at the next start.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCheckpoints, PREVIOUS_CHECKPOINTS, readBundleDir } from './bundle-io.js';
import { LOCK_FILE } from './run-lock.js';
import { cli } from './testing/cli-run.js';
import { shellLine, TrainingInterruptedError, type TrainOptions, train } from './train.js';

const CLI_JS = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');
let root = '';
let small = '';

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'onnxvae-run-folder-'));
  small = join(root, 'small.json');
  writeFileSync(small, JSON.stringify({ hidden: [32], latent: 2 }));
});
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** 256 digits, batch 64: 4 steps an epoch, about a second each epoch on a busy 2-core machine. */
const runOpts = (out: string, epochs: number, more: Partial<TrainOptions> = {}): TrainOptions => ({
  data: 'mnist',
  limit: 256,
  batch: 64,
  epochs,
  provider: 'cpu',
  out,
  config: { hidden: [32], latent: 2 },
  log: () => {},
  progressStream: { write: () => {} },
  ...more,
});

async function until(what: string, ok: () => boolean, child: ChildProcess, ms = 90_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (child.exitCode !== null) throw new Error(`the training process exited (${child.exitCode}) before ${what}`);
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Ctrl-C and one writer per folder (the built bin, real signals)', () => {
  it('SIGINT keeps the last checkpoint, prints it and the exact --resume command, exits 130 and releases the lock', async () => {
    if (!existsSync(CLI_JS)) throw new Error(`${CLI_JS} is missing: build first (npm run build)`);
    const out = join(root, 'ctrl-c');
    const args = ['train', '--data', 'mnist', '--limit', '256', '--batch', '64', '--epochs', '10000', '--provider', 'cpu'];
    args.push('--config', small, '--out', out);
    const child = spawn(process.execPath, [CLI_JS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exit = new Promise<number | null>((ok) => child.on('exit', (c) => ok(c)));
    try {
      await until('the first checkpoint', () => listCheckpoints(out).length > 0, child);

      // A second train on the folder while this one runs: refused, naming the folder and the other process.
      const second = await cli('train', '--data', 'mnist', '--limit', '256', '--epochs', '1', '--provider', 'cpu', '--out', out);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`${resolve(out)} is in use by another onnxvae train (process ${child.pid},`);
      const again = await cli('train', '--resume', '--epochs', '1', '--provider', 'cpu', '--out', out);
      expect(again.stderr).toContain(`(process ${child.pid},`);

      // While it trains (no manifest.json yet), the folder reads as its newest checkpoint, and says so.
      const info = await cli('info', out);
      expect(info.code, info.stderr).toBe(0);
      expect(info.stderr).toMatch(
        /has no manifest\.json \(its run was interrupted or is still training\): using its newest valid checkpoint/,
      );
      expect(info.stdout).toMatch(/training: epoch \d+, step \d+/);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exit).toBe(130);
    const m = /kept the checkpoint (\S+) \(epoch (\d+), step (\d+)\)/.exec(stderr);
    expect(m, stderr).not.toBeNull();
    const [, ckDir, epoch, step] = m as RegExpExecArray;
    expect(stderr).toMatch(/training interrupted \(SIGINT\) in epoch \d+ at step \d+/);
    expect(stderr).toContain(`continue with: ${shellLine(['onnxvae', ...args, '--resume'])}\n`);
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
    const kept = await readBundleDir(ckDir, { log: () => {} });
    expect([kept.manifest.training.epoch, kept.manifest.training.step]).toEqual([Number(epoch), Number(step)]);
    expect(listCheckpoints(out).at(-1)).toBe(ckDir); // the newest: what --resume continues from
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]); // nothing temporary left behind

    // The printed command resumes (run here for one more epoch instead of 10000).
    const resumeArgs = [...args, '--resume'];
    resumeArgs[resumeArgs.indexOf('--epochs') + 1] = String(Number(epoch) + 1);
    const r = await cli(...resumeArgs);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`resuming from ${ckDir} (epoch ${epoch}, step ${step})`);
    expect((await readBundleDir(out)).manifest.training.epoch).toBe(Number(epoch) + 1);
  }, 180_000);

  it('an API run stopped by its signal: TrainingInterruptedError with the checkpoint, or "nothing was saved" before one', async () => {
    const out = join(root, 'abort');
    const early = await train(runOpts(out, 3, { signal: AbortSignal.abort('SIGTERM'), commandLine: ['train', '--out', out] })).catch(
      (e: unknown) => e,
    );
    expect(early).toBeInstanceOf(TrainingInterruptedError);
    expect((early as TrainingInterruptedError).exitCode).toBe(143);
    expect((early as Error).message).toMatch(
      /interrupted \(SIGTERM\) in epoch 1 at step 0; nothing was saved \(no checkpoint yet\)\.\nstart again with: onnxvae train --out \S+abort$/,
    );
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
  }, 60_000);
});

describe('a fresh run in a folder that holds a run', () => {
  it('keeps the previous bundle until its first checkpoint, then reads as its own checkpoints; sweeps leftovers at start', async () => {
    const out = join(root, 'replace');
    await train(runOpts(out, 2));
    const oldManifest = readFileSync(join(out, 'manifest.json'));
    const oldCheckpoint = readFileSync(join(out, 'checkpoint.safetensors'));

    // Stopped before its first checkpoint: the previous run's bundle is still there, whole.
    const ctl = new AbortController();
    const stop1 = await train(runOpts(out, 2, { seed: 1, signal: AbortSignal.abort('SIGINT') })).catch((e: unknown) => e);
    expect((stop1 as Error).message).toMatch(/nothing was saved \(no checkpoint yet\); the previous run's bundle in \S+ is kept/);
    expect(readFileSync(join(out, 'manifest.json')).equals(oldManifest)).toBe(true);
    expect(Buffer.from((await readBundleDir(out)).files['checkpoint.safetensors']).equals(oldCheckpoint)).toBe(true);
    expect(listCheckpoints(out)).toEqual([]); // --resume cannot pick the old run's checkpoints
    expect(readdirSync(join(out, PREVIOUS_CHECKPOINTS)).sort()).toEqual(['metrics.jsonl', 'step-000000004', 'step-000000008']);

    // Stopped right after its first checkpoint: the old bundle is gone, the folder reads as the new checkpoint.
    const notes: string[] = [];
    const stop2 = await train(
      runOpts(out, 2, {
        seed: 1,
        signal: ctl.signal,
        log: (l) => {
          notes.push(l);
          if (l.startsWith('epoch 1:')) ctl.abort('SIGINT');
        },
      }),
    ).catch((e: unknown) => e);
    expect(stop2).toBeInstanceOf(TrainingInterruptedError);
    expect((stop2 as TrainingInterruptedError).checkpoint).toEqual({ dir: join(out, 'checkpoints', 'step-000000004'), epoch: 1, step: 4 });
    expect(notes).toContainEqual(expect.stringMatching(/removed the previous run's bundle from .*: this run has a checkpoint now/));
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    expect(existsSync(join(out, PREVIOUS_CHECKPOINTS))).toBe(false);
    const read: string[] = [];
    const b = await readBundleDir(out, { log: (l) => read.push(l) });
    expect(b.manifest.training).toMatchObject({ seed: 1, epoch: 1, step: 4 });
    expect(read[0]).toMatch(/using its newest valid checkpoint, .*step-000000004 \(epoch 1, step 4\)/);

    // Leftovers of killed runs: a dead process's lock and temporary folders. The next run takes over and sweeps them.
    const dead = spawnSync(process.execPath, ['-e', '']).pid as number;
    writeFileSync(join(out, LOCK_FILE), `${dead}\n`);
    mkdirSync(join(out, `.staging-${dead}-1`));
    mkdirSync(join(out, 'checkpoints', `.tmp-step-000000008-${dead}`));
    const log: string[] = [];
    await train(runOpts(out, 2, { seed: 1, resume: true, log: (l) => log.push(l) }));
    expect(log).toContainEqual(expect.stringMatching(new RegExp(`took over a stale lock .*PID ${dead}`)));
    expect(log).toContainEqual(
      expect.stringMatching(/removed 2 temporary file\(s\) left by killed runs: .*\.staging-.*\.tmp-step-000000008-/),
    );
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(readdirSync(join(out, 'checkpoints'))).toEqual(['step-000000004', 'step-000000008']);
    expect((await readBundleDir(out)).manifest.training).toMatchObject({ seed: 1, epoch: 2, step: 8 });
  }, 120_000);
});

/**
 * Bundles on disk. Writes are atomic: a checkpoint is a folder written under a temporary name and renamed into
 * place; the top-level bundle's files are staged and renamed one by one with manifest.json last, so a reader never
 * sees a manifest that points at unwritten files. A crash leaves the previous state loadable.
 */
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BUNDLE_FILES, type Bundle, type LoadedBundle, loadBundle } from '@onnxvae/core';

export class BundleIoError extends Error {
  override name = 'BundleIoError';
}

function writeSynced(path: string, bytes: Uint8Array | string): void {
  writeFileSync(path, bytes);
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Fails early, naming the folder, when it cannot be created or written. */
export function ensureWritableDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    const probe = join(dir, `.write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (e) {
    throw new BundleIoError(`output folder ${resolve(dir)} is not writable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * Checks, without creating anything, that `dir` is a writable folder or could be created: the nearest existing
 * ancestor must be a writable folder. Lets a job fail before any work when its output cannot be written.
 */
export function assertCreatableDir(dir: string): void {
  const full = resolve(dir);
  let p = full;
  for (;;) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(p) !== p) {
        p = dirname(p);
        continue;
      }
      throw new BundleIoError(`output folder ${full} cannot be created: ${code ?? (e as Error).message} at ${p}`);
    }
    if (!isDir) throw new BundleIoError(`output folder ${full} cannot be created: ${p} is a file, not a folder`);
    try {
      accessSync(p, constants.W_OK);
    } catch (e) {
      throw new BundleIoError(
        `output folder ${full} is not writable: ${p} refuses writes (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    return;
  }
}

/** Everything a training run writes at the top of its folder (checkpoints/ aside), manifest.json first. */
export const RUN_OUTPUTS = [
  'manifest.json',
  ...BUNDLE_FILES,
  'metrics.jsonl',
  'samples.png',
  'reconstructions.png',
  'loss-curve.png',
  'loss-curve-steps.png',
  'report.html',
] as const;

/**
 * Removes a previous run's outputs from `dir` (only the files a run writes, manifest.json first, and checkpoints/),
 * so a new run never leaves a mix of old and new files. Returns whether a bundle was there.
 */
export function clearRunOutputs(dir: string): boolean {
  const had = existsSync(join(dir, 'manifest.json'));
  for (const f of RUN_OUTPUTS) rmSync(join(dir, f), { force: true });
  rmSync(join(dir, 'checkpoints'), { recursive: true, force: true });
  return had;
}

function bundleEntries(b: Bundle): [string, Uint8Array | string][] {
  return [...Object.entries(b.files), ['manifest.json', `${JSON.stringify(b.manifest, null, 2)}\n`]];
}

/** Writes a bundle into `dir` (existing files are replaced; manifest.json goes last). */
export function writeBundle(dir: string, b: Bundle): void {
  ensureWritableDir(dir);
  const staging = join(dir, `.staging-${process.pid}-${Date.now()}`);
  mkdirSync(staging);
  try {
    const entries = bundleEntries(b);
    for (const [name, bytes] of entries) writeSynced(join(staging, name), bytes);
    for (const [name] of entries) renameSync(join(staging, name), join(dir, name));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

const CKPT_RE = /^step-(\d{9})$/;

/** Saves a checkpoint folder checkpoints/step-NNNNNNNNN atomically and keeps the newest `keep`. */
export function writeCheckpoint(outDir: string, b: Bundle, keep = 3): string {
  const root = join(outDir, 'checkpoints');
  mkdirSync(root, { recursive: true });
  const name = `step-${String(b.manifest.training.step).padStart(9, '0')}`;
  const tmp = join(root, `.tmp-${name}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  for (const [f, bytes] of bundleEntries(b)) writeSynced(join(tmp, f), bytes);
  const dest = join(root, name);
  rmSync(dest, { recursive: true, force: true });
  renameSync(tmp, dest);
  const all = listCheckpoints(outDir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(old, { recursive: true, force: true });
  return dest;
}

/** Checkpoint folders, oldest first. */
export function listCheckpoints(outDir: string): string[] {
  const root = join(outDir, 'checkpoints');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((f) => CKPT_RE.test(f))
    .sort()
    .map((f) => join(root, f));
}

export async function readBundleDir(dir: string): Promise<LoadedBundle> {
  if (!existsSync(join(dir, 'manifest.json'))) throw new BundleIoError(`${dir}: no manifest.json here; is it an onnxvae bundle folder?`);
  return loadBundle(async (f) => {
    try {
      return new Uint8Array(readFileSync(join(dir, f)));
    } catch (e) {
      throw new BundleIoError(`${join(dir, f)}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }, dir);
}

/**
 * The newest checkpoint that validates; corrupt ones are skipped, each reported to `onSkip` as it is found (and listed
 * in `skipped`), so the reasons are known even when none validates.
 */
export async function latestValidCheckpoint(
  outDir: string,
  onSkip?: (reason: string) => void,
): Promise<{ dir: string; bundle: LoadedBundle; skipped: string[] } | undefined> {
  const skipped: string[] = [];
  for (const dir of listCheckpoints(outDir).reverse()) {
    try {
      return { dir, bundle: await readBundleDir(dir), skipped };
    } catch (e) {
      const reason = `${dir}: ${(e as Error).message}`;
      skipped.push(reason);
      onSkip?.(reason);
    }
  }
  return undefined;
}

/**
 * Bundles and run folders on disk. A kill at any moment leaves a loadable bundle, the old or the new one:
 *
 * - A checkpoint is a folder written under a temporary name and renamed into place; the folder it replaces is
 *   renamed aside first and removed only after the new one is in place.
 * - The top-level bundle (DIR/manifest.json, *.onnx, checkpoint.safetensors: the layout users see) is written whole
 *   into a staging folder, which one rename turns into DIR/.bundle-next. From then on the new bundle is complete:
 *   the old manifest is removed, the files are moved up, manifest.json last. A reader that finds no manifest.json
 *   but a .bundle-next reads the new bundle from both places; the next writer finishes the switch.
 * - A fresh run sets the previous run's checkpoints aside (DIR/.previous-checkpoints, one rename) and leaves its
 *   bundle in place until the new run's first checkpoint exists; then the old bundle is removed, manifest.json
 *   first. A folder without manifest.json (an interrupted or running run) reads as its newest valid checkpoint.
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
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BUNDLE_FILES, type Bundle, type LoadedBundle, loadBundle } from '@onnxvae/core';
import { fsOps } from './fs-ops.js';
import { pidAlive } from './run-lock.js';

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

/** Makes a folder's entries (new names, renames) durable; best effort, as some file systems refuse it. */
function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Windows and some network file systems cannot fsync a folder; the renames are still atomic.
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

/** A bundle whose switch into DIR has begun: complete inside, or partly moved up into DIR already. */
export const PENDING_BUNDLE = '.bundle-next';
/** The checkpoints of the run a fresh run replaces, kept until the fresh run has a checkpoint of its own. */
export const PREVIOUS_CHECKPOINTS = '.previous-checkpoints';

function bundleEntries(b: Bundle): [string, Uint8Array | string][] {
  return [...Object.entries(b.files), ['manifest.json', `${JSON.stringify(b.manifest, null, 2)}\n`]];
}

/**
 * Writes a bundle into `dir`, replacing the one there: a kill at any moment leaves the old or the new bundle
 * loadable by readBundleDir (see the file's header for how).
 */
export function writeBundle(dir: string, b: Bundle): void {
  ensureWritableDir(dir);
  completePendingBundle(dir); // a switch a killed writer left half done goes first
  const staging = join(dir, `.staging-${process.pid}-${Date.now()}`);
  mkdirSync(staging);
  let staged = false;
  try {
    for (const [name, bytes] of bundleEntries(b)) writeSynced(join(staging, name), bytes);
    fsyncDir(staging);
    fsOps.rename(staging, join(dir, PENDING_BUNDLE)); // the one step that makes the new bundle count
    staged = true;
  } finally {
    if (!staged) fsOps.rm(staging, { recursive: true, force: true });
  }
  completePendingBundle(dir);
}

/**
 * Finishes switching DIR/.bundle-next into DIR: removes the old manifest, moves the files up, manifest.json last.
 * Each step leaves the new bundle readable (from .bundle-next and DIR together). Returns whether one was pending.
 */
export function completePendingBundle(dir: string): boolean {
  const pending = join(dir, PENDING_BUNDLE);
  if (!existsSync(pending)) return false;
  if (existsSync(join(pending, 'manifest.json'))) {
    fsOps.rm(join(dir, 'manifest.json'), { force: true });
    for (const f of readdirSync(pending)) if (f !== 'manifest.json') fsOps.rename(join(pending, f), join(dir, f));
    fsOps.rename(join(pending, 'manifest.json'), join(dir, 'manifest.json'));
    fsyncDir(dir);
  }
  // Without a manifest inside, the switch was complete: only the empty folder is left.
  fsOps.rm(pending, { recursive: true, force: true });
  return true;
}

const CKPT_RE = /^step-(\d{9})$/;

/** Saves a checkpoint folder checkpoints/step-NNNNNNNNN atomically and keeps the newest `keep`. */
export function writeCheckpoint(outDir: string, b: Bundle, keep = 3): string {
  const root = join(outDir, 'checkpoints');
  mkdirSync(root, { recursive: true });
  recoverCheckpointFolder(root, false);
  const name = `step-${String(b.manifest.training.step).padStart(9, '0')}`;
  const tmp = join(root, `.tmp-${name}-${process.pid}`);
  fsOps.rm(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  for (const [f, bytes] of bundleEntries(b)) writeSynced(join(tmp, f), bytes);
  fsyncDir(tmp);
  const dest = join(root, name);
  // A folder of the same step is renamed aside, not removed, until the new one is in place.
  const old = join(root, `.old-${name}-${process.pid}`);
  const replacing = existsSync(dest);
  if (replacing) fsOps.rename(dest, old);
  fsOps.rename(tmp, dest);
  fsyncDir(root);
  if (replacing) fsOps.rm(old, { recursive: true, force: true });
  const all = listCheckpoints(outDir);
  for (const p of all.slice(0, Math.max(0, all.length - keep))) {
    // Renamed out of the listing first, so a kill mid-removal never leaves a half-deleted step-… folder.
    const trash = join(root, `.trash-${basename(p)}-${process.pid}`);
    fsOps.rename(p, trash);
    fsOps.rm(trash, { recursive: true, force: true });
  }
  return dest;
}

function checkpointsIn(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((f) => CKPT_RE.test(f))
    .sort()
    .map((f) => join(root, f));
}

/** Checkpoint folders, oldest first. */
export function listCheckpoints(outDir: string): string[] {
  return checkpointsIn(join(outDir, 'checkpoints'));
}

/** The temporary names this module writes, each with the PID of its writer. */
const TEMP_RE = /^\.(?:staging-(\d+)-\d+|write-test-(\d+)|(?:tmp|old|trash)-step-\d{9}-(\d+))$/;

function tempOwner(name: string): number | undefined {
  const m = TEMP_RE.exec(name);
  return m ? Number(m[1] ?? m[2] ?? m[3]) : undefined;
}

/**
 * Cleans a checkpoints folder of what killed writers left: a step folder renamed aside (.old-step-N-PID) goes back
 * when its step-N is missing (the new one never arrived); temporary and half-removed folders go.
 * `all`: every writer's leftovers (the caller holds the run lock); otherwise only those of dead processes and ours.
 */
function recoverCheckpointFolder(root: string, all: boolean): string[] {
  if (!existsSync(root)) return [];
  const removed: string[] = [];
  for (const f of readdirSync(root)) {
    const pid = tempOwner(f);
    if (pid === undefined || !(all || pid === process.pid || !pidAlive(pid))) continue;
    const m = /^\.old-(step-\d{9})-/.exec(f);
    if (m && !existsSync(join(root, m[1]))) {
      fsOps.rename(join(root, f), join(root, m[1]));
      continue;
    }
    fsOps.rm(join(root, f), { recursive: true, force: true });
    removed.push(join(root, f));
  }
  return removed;
}

/**
 * Sweeps the temporary folders and files of killed writers from a run folder and its checkpoints (.staging-…,
 * .tmp-step-…, .trash-step-…, .write-test-…) and finishes an interrupted bundle switch. `all`: the caller holds
 * the run lock, so every leftover goes; otherwise only those whose process is not running. Returns what was removed.
 */
export function sweepRunFolder(dir: string, { all = false } = {}): string[] {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const f of readdirSync(dir)) {
    const pid = tempOwner(f);
    if (pid === undefined || !(all || !pidAlive(pid))) continue;
    fsOps.rm(join(dir, f), { recursive: true, force: true });
    removed.push(join(dir, f));
  }
  if (all) completePendingBundle(dir);
  removed.push(...recoverCheckpointFolder(join(dir, 'checkpoints'), all));
  return removed;
}

/**
 * The start of a fresh run in `dir`: the previous run's checkpoints go aside to DIR/.previous-checkpoints (one
 * rename), so --resume never picks them and they never mix with the new ones; its bundle stays in place until
 * retirePreviousRun. Returns whether there was a previous run. The caller holds the run lock.
 */
export function setAsidePreviousRun(dir: string): boolean {
  const prev = join(dir, PREVIOUS_CHECKPOINTS);
  // A run that had already saved a checkpoint (it replaced the previous one, or was about to) is the previous run.
  if (existsSync(prev) && listCheckpoints(dir).length > 0) retirePreviousRun(dir);
  const had = existsSync(join(dir, 'manifest.json')) || listCheckpoints(dir).length > 0 || existsSync(prev);
  if (existsSync(prev)) {
    // Kept from a run before an interrupted one that saved nothing: it still belongs to the bundle in DIR.
    fsOps.rm(join(dir, 'checkpoints'), { recursive: true, force: true });
  } else if (existsSync(join(dir, 'checkpoints'))) {
    fsOps.rename(join(dir, 'checkpoints'), prev);
  } else if (had) {
    mkdirSync(prev);
  }
  const metrics = join(dir, 'metrics.jsonl');
  if (had && existsSync(metrics) && !existsSync(join(prev, 'metrics.jsonl'))) fsOps.rename(metrics, join(prev, 'metrics.jsonl'));
  return had;
}

/**
 * Removes the run that setAsidePreviousRun set aside, once the new run has a checkpoint: its manifest first (from
 * then on readers take the new run's newest checkpoint), its files and pictures, then its checkpoints. Returns
 * whether there was one.
 */
export function retirePreviousRun(dir: string): boolean {
  const prev = join(dir, PREVIOUS_CHECKPOINTS);
  if (!existsSync(prev)) return false;
  for (const f of RUN_OUTPUTS) if (f !== 'metrics.jsonl') fsOps.rm(join(dir, f), { force: true });
  fsOps.rm(prev, { recursive: true, force: true });
  return true;
}

async function readBundleFiles(dirs: string[], source: string): Promise<LoadedBundle> {
  return loadBundle(async (f) => {
    let err: NodeJS.ErrnoException | undefined;
    for (const d of dirs) {
      try {
        return new Uint8Array(readFileSync(join(d, f)));
      } catch (e) {
        err = e as NodeJS.ErrnoException;
        if (err.code !== 'ENOENT') break;
      }
    }
    throw new BundleIoError(`${join(source, f)}: cannot read (${err?.code ?? err?.message})`);
  }, source);
}

export interface ReadBundleOptions {
  /** Where notes go, e.g. that a checkpoint is read instead of a missing manifest.json (default: stderr). */
  log?: (line: string) => void;
}

/**
 * Reads and validates the bundle in `dir`. A folder without manifest.json reads as what a killed writer left
 * loadable: a bundle whose switch into place was interrupted, else the newest valid checkpoint of the run there
 * (interrupted, or still training), else the newest valid checkpoint of the run before it; `log` says which.
 */
export async function readBundleDir(dir: string, opts: ReadBundleOptions = {}): Promise<LoadedBundle> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  if (existsSync(join(dir, 'manifest.json'))) return readBundleFiles([dir], dir);
  const pending = join(dir, PENDING_BUNDLE);
  if (existsSync(join(pending, 'manifest.json'))) return readBundleFiles([pending, dir], dir);
  const sources = [
    { root: join(dir, 'checkpoints'), whose: 'its' },
    { root: join(dir, PREVIOUS_CHECKPOINTS), whose: 'the previous run’s' },
  ];
  const skipped: string[] = [];
  for (const { root, whose } of sources) {
    const found = await newestValid(root, (why) => skipped.push(why));
    if (!found) continue;
    const t = found.bundle.manifest.training;
    for (const why of skipped) log(`skipped a corrupt checkpoint: ${why}`);
    log(
      `${dir} has no manifest.json (its run was interrupted or is still training): using ${whose} newest valid checkpoint, ${found.dir} (epoch ${t.epoch}, step ${t.step})`,
    );
    return found.bundle;
  }
  if (skipped.length) throw new BundleIoError(`${dir}: no manifest.json, and none of its checkpoints is valid: ${skipped.join('; ')}`);
  throw new BundleIoError(`${dir}: no manifest.json here; is it an onnxvae bundle folder?`);
}

async function newestValid(root: string, onSkip: (reason: string) => void): Promise<{ dir: string; bundle: LoadedBundle } | undefined> {
  for (const dir of checkpointsIn(root).reverse()) {
    try {
      if (!existsSync(join(dir, 'manifest.json'))) throw new BundleIoError(`${dir}: no manifest.json`);
      return { dir, bundle: await readBundleFiles([dir], dir) };
    } catch (e) {
      onSkip(`${dir}: ${(e as Error).message}`);
    }
  }
  return undefined;
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
  const found = await newestValid(join(outDir, 'checkpoints'), (reason) => {
    skipped.push(reason);
    onSkip?.(reason);
  });
  return found && { ...found, skipped };
}

import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  type RmOptions,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bundle, createBundle, initialState, type LoadedBundle, resolveConfig } from '@onnxvae/core';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  assertCreatableDir,
  latestValidCheckpoint,
  listCheckpoints,
  PENDING_BUNDLE,
  PREVIOUS_CHECKPOINTS,
  RUN_OUTPUTS,
  readBundleDir,
  retirePreviousRun,
  setAsidePreviousRun,
  sweepRunFolder,
  writeBundle,
  writeCheckpoint,
} from './bundle-io.js';
import { fsOps } from './fs-ops.js';

const root = mkdtempSync(join(tmpdir(), 'onnxvae-bundle-io-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cfg = resolveConfig({ inputShape: [16], hidden: [8], latent: 2 });
async function bundleAt(step: number, tag = 0) {
  const st = initialState(cfg, 0);
  st.training.step = step;
  st.metrics = [{ epoch: 1, tag }]; // `tag` tells two saves of one step apart
  return createBundle(cfg, st);
}

const quiet = { log: () => {} };

/** The bundle read is exactly one of `candidates`, every file compared by content; returns which. */
function whichOf(got: LoadedBundle, candidates: Bundle[]): number {
  const i = candidates.findIndex(
    (c) =>
      JSON.stringify(c.manifest) === JSON.stringify(got.manifest) &&
      Object.entries(c.files).every(([f, bytes]) => Buffer.from(bytes).equals(Buffer.from(got.files[f as keyof typeof got.files]))),
  );
  expect(
    i,
    `read step ${got.manifest.training.step}, tag ${got.manifest.metrics[0]?.tag}: neither the old nor the new bundle`,
  ).toBeGreaterThanOrEqual(0);
  return i;
}

/**
 * Runs `write` as if the process were killed at its n-th layout change (a rename or a remove; a recursive remove
 * dies with one file of it gone): that step and every later one throw. Returns whether the kill point was reached.
 */
function killedAt(n: number, write: () => void): boolean {
  let count = 0;
  let dead = false;
  const die = (): never => {
    dead = true;
    throw new Error(`killed at layout change ${n}`);
  };
  vi.spyOn(fsOps, 'rename').mockImplementation((from: string, to: string) => {
    if (dead || ++count === n) die();
    renameSync(from, to);
  });
  vi.spyOn(fsOps, 'rm').mockImplementation((path: string, opts?: RmOptions) => {
    if (dead) die();
    if (++count === n) {
      if (opts?.recursive && existsSync(path) && statSync(path).isDirectory()) {
        const first = readdirSync(path)[0];
        if (first) rmSync(join(path, first), { recursive: true, force: true });
      }
      die();
    }
    rmSync(path, opts);
  });
  try {
    write();
    return false;
  } catch (e) {
    if (!dead) throw e;
    return true;
  } finally {
    vi.restoreAllMocks();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('output folders', () => {
  it('assertCreatableDir accepts a new nested path and creates nothing', () => {
    const p = join(root, 'a', 'b', 'c');
    assertCreatableDir(p);
    expect(existsSync(join(root, 'a'))).toBe(false);
  });

  it('assertCreatableDir rejects a path under a regular file, naming the file', () => {
    writeFileSync(join(root, 'file'), '');
    expect(() => assertCreatableDir(join(root, 'file', 'sub', 'x'))).toThrow(/cannot be created: .*file is a file, not a folder/);
  });

  it.skipIf(process.getuid?.() === 0)('assertCreatableDir rejects a read-only folder (root writes anywhere, so not as root)', () => {
    const ro = join(root, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    expect(() => assertCreatableDir(join(ro, 'x'))).toThrow(/not writable: .*ro refuses writes \(EACCES\)/);
    chmodSync(ro, 0o755);
  });
});

describe('checkpoints', () => {
  it('are written atomically, keep the newest N, and the newest valid one is found past corrupt ones', async () => {
    const dir = join(root, 'ck');
    for (const step of [1, 2, 3, 4]) writeCheckpoint(dir, await bundleAt(step), 3);
    expect(listCheckpoints(dir).map((d) => d.slice(-14))).toEqual(['step-000000002', 'step-000000003', 'step-000000004']);
    expect(readdirSync(join(dir, 'checkpoints')).filter((f) => !f.startsWith('step-'))).toEqual([]);
    writeFileSync(join(dir, 'checkpoints', 'step-000000004', 'decoder.onnx'), 'garbage');
    rmSync(join(dir, 'checkpoints', 'step-000000003', 'checkpoint.safetensors'));
    const skipped: string[] = [];
    const found = await latestValidCheckpoint(dir, (why) => skipped.push(why));
    expect(found?.dir).toMatch(/step-000000002$/);
    expect(found?.bundle.manifest.training.step).toBe(2);
    expect(skipped).toHaveLength(2);
    expect(skipped[0]).toMatch(/step-000000004: .*decoder\.onnx/);
    expect(skipped[1]).toMatch(/step-000000003: .*checkpoint\.safetensors: cannot read \(ENOENT\)/);
    expect(found?.skipped).toEqual(skipped);
  });

  it('a folder that is not a bundle says so', async () => {
    await expect(readBundleDir(root)).rejects.toThrow(/no manifest\.json here; is it an onnxvae bundle folder\?/);
  });
});

describe('a kill at any moment leaves the old or the new bundle (fault injection at every rename and remove)', () => {
  it('writeBundle: after a kill at each step the folder reads as the old or the new bundle; the next write finishes the switch', async () => {
    const old = await bundleAt(1);
    const next = await bundleAt(2);
    const third = await bundleAt(3);
    let n = 1;
    const seen = new Set<number>();
    for (; ; n++) {
      const dir = join(root, `atomic-${n}`);
      writeBundle(dir, old);
      const killed = killedAt(n, () => writeBundle(dir, next));
      seen.add(whichOf(await readBundleDir(dir, quiet), [old, next]));
      // The next writer (or a run's start, sweepRunFolder) finishes or discards what the killed one left.
      sweepRunFolder(dir, { all: true });
      seen.add(whichOf(await readBundleDir(dir, quiet), [old, next]));
      writeBundle(dir, third);
      whichOf(await readBundleDir(dir, quiet), [third]);
      expect(readdirSync(dir).sort()).toEqual(['manifest.json', ...Object.keys(third.files)].sort());
      if (!killed) break;
    }
    // Kill points: staging → .bundle-next, the old manifest, 5 files, the new manifest, .bundle-next itself.
    expect(n).toBe(10);
    expect(seen).toEqual(new Set([0, 1])); // both outcomes occur: before and after the one rename that commits
  });

  it('a reader between the steps of a switch reads the new bundle from .bundle-next and the folder together', async () => {
    const dir = join(root, 'half-switched');
    writeBundle(dir, await bundleAt(1));
    const next = await bundleAt(2);
    // Killed after the old manifest and two of the files are replaced: 1 (commit) + 1 (manifest) + 2 (files).
    expect(killedAt(5, () => writeBundle(dir, next))).toBe(true);
    expect(existsSync(join(dir, 'manifest.json'))).toBe(false);
    expect(readdirSync(join(dir, PENDING_BUNDLE)).length).toBe(4); // manifest.json and 3 files still to move
    whichOf(await readBundleDir(dir, quiet), [next]);
  });

  it('writeCheckpoint: a kill at each step of saving a new step (and pruning the oldest) leaves only loadable checkpoints', async () => {
    const saved = await Promise.all([1, 2, 3].map((s) => bundleAt(s)));
    const next = await bundleAt(4);
    for (let n = 1; ; n++) {
      const dir = join(root, `ck-kill-${n}`);
      for (const b of saved) writeCheckpoint(dir, b, 3);
      const killed = killedAt(n, () => writeCheckpoint(dir, next, 3));
      for (const ck of listCheckpoints(dir)) await readBundleDir(ck, quiet); // no half-written or half-removed step-… folder
      const newest = await latestValidCheckpoint(dir);
      whichOf(newest?.bundle as LoadedBundle, [saved[2], next]);
      sweepRunFolder(dir, { all: true });
      expect(readdirSync(join(dir, 'checkpoints')).filter((f) => f.startsWith('.'))).toEqual([]);
      if (!killed) {
        expect(n).toBe(5); // a stale tmp, tmp → step-4, step-1 → trash, the trash: 4 kill points, then a clean run
        break;
      }
    }
  });

  it('writeCheckpoint: rewriting a step keeps the old folder until the new one is in place', async () => {
    const first = await bundleAt(3, 1);
    const again = await bundleAt(3, 2);
    const seen = new Set<number>();
    for (let n = 1; ; n++) {
      const dir = join(root, `ck-rewrite-${n}`);
      writeCheckpoint(dir, await bundleAt(2));
      writeCheckpoint(dir, first);
      const killed = killedAt(n, () => writeCheckpoint(dir, again));
      // Recovery (at the next run's start) puts a step folder renamed aside back when its replacement never arrived.
      sweepRunFolder(dir, { all: true });
      const ck = join(dir, 'checkpoints', 'step-000000003');
      seen.add(whichOf(await readBundleDir(ck, quiet), [first, again]));
      if (!killed) {
        expect(n).toBe(5); // a stale tmp, step-3 → aside, tmp → step-3, the old one: 4 kill points, then a clean run
        break;
      }
    }
    expect(seen).toEqual(new Set([0, 1]));
  });
});

describe('run folders', () => {
  it('a folder without manifest.json (an interrupted run) reads as its newest valid checkpoint, and says so', async () => {
    const dir = join(root, 'interrupted');
    for (const s of [1, 2, 3]) writeCheckpoint(dir, await bundleAt(s));
    writeFileSync(join(dir, 'checkpoints', 'step-000000003', 'decoder.onnx'), 'torn');
    const notes: string[] = [];
    const b = await readBundleDir(dir, { log: (l) => notes.push(l) });
    expect(b.manifest.training.step).toBe(2);
    expect(notes[0]).toMatch(/skipped a corrupt checkpoint: .*step-000000003/);
    expect(notes[1]).toMatch(
      /interrupted has no manifest\.json \(its run was interrupted or is still training\): using its newest valid checkpoint, .*step-000000002 \(epoch 0, step 2\)/,
    );
    writeFileSync(join(dir, 'checkpoints', 'step-000000002', 'manifest.json'), '{');
    writeFileSync(join(dir, 'checkpoints', 'step-000000001', 'manifest.json'), '{');
    await expect(readBundleDir(dir, quiet)).rejects.toThrow(
      /no manifest\.json, and none of its checkpoints is valid: .*step-000000003.*decoder\.onnx/,
    );
  });

  it('a fresh run keeps the previous bundle until its first checkpoint; --resume never sees the old checkpoints', async () => {
    const dir = join(root, 'replaced');
    const oldFinal = await bundleAt(8, 1);
    writeCheckpoint(dir, await bundleAt(4, 1));
    writeCheckpoint(dir, oldFinal);
    writeBundle(dir, oldFinal);
    writeFileSync(join(dir, 'metrics.jsonl'), 'old\n');
    writeFileSync(join(dir, 'samples.png'), 'old');
    expect(setAsidePreviousRun(dir)).toBe(true);
    expect(listCheckpoints(dir)).toEqual([]); // what --resume looks at
    expect(readdirSync(join(dir, PREVIOUS_CHECKPOINTS)).sort()).toEqual(['metrics.jsonl', 'step-000000004', 'step-000000008']);
    whichOf(await readBundleDir(dir, quiet), [oldFinal]);
    // The new run is killed before its first checkpoint, and another fresh run starts: the old run is still kept.
    writeFileSync(join(dir, 'metrics.jsonl'), 'killed run\n');
    expect(setAsidePreviousRun(dir)).toBe(true);
    whichOf(await readBundleDir(dir, quiet), [oldFinal]);
    expect(readFileSync(join(dir, PREVIOUS_CHECKPOINTS, 'metrics.jsonl'), 'utf8')).toBe('old\n');
    // Its first checkpoint; a kill at each step of removing the old run leaves the old bundle or the new checkpoint.
    const first = await bundleAt(1, 2);
    writeCheckpoint(dir, first);
    for (let n = 1; ; n++) {
      const copy = join(root, `replaced-${n}`);
      spawnSync('cp', ['-a', dir, copy]);
      const killed = killedAt(n, () => retirePreviousRun(copy));
      whichOf(await readBundleDir(copy, quiet), [oldFinal, first]);
      // The next start finishes the removal: the new run has a checkpoint, so the old one is the previous run.
      setAsidePreviousRun(copy);
      expect(existsSync(join(copy, 'manifest.json'))).toBe(false);
      whichOf(await readBundleDir(copy, quiet), [first]); // from .previous-checkpoints now, the interrupted run's
      if (!killed) break;
    }
    expect(retirePreviousRun(dir)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['checkpoints', 'metrics.jsonl']);
    const notes: string[] = [];
    whichOf(await readBundleDir(dir, { log: (l) => notes.push(l) }), [first]);
    expect(notes).toHaveLength(1);
  });

  it('sweepRunFolder removes the temporary folders of killed writers (all of them when the caller holds the lock)', async () => {
    const dir = join(root, 'swept');
    writeBundle(dir, await bundleAt(1));
    writeCheckpoint(dir, await bundleAt(1));
    const dead = spawnSync(process.execPath, ['-e', '']).pid as number; // exited: its PID names no process now
    const ck = join(dir, 'checkpoints');
    for (const d of [join(dir, `.staging-${dead}-1`), join(dir, `.staging-${process.pid}-2`), join(ck, `.tmp-step-000000002-${dead}`)]) {
      mkdirSync(d);
      writeFileSync(join(d, 'manifest.json'), '{');
    }
    writeFileSync(join(dir, `.write-test-${dead}`), '');
    // A step folder renamed aside by a writer killed before the new one arrived goes back into place.
    renameSync(join(ck, 'step-000000001'), join(ck, `.old-step-000000001-${dead}`));
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const removed = sweepRunFolder(dir);
    expect(removed.map((p) => p.slice(dir.length + 1)).sort()).toEqual(
      [`.staging-${dead}-1`, `.write-test-${dead}`, `checkpoints/.tmp-step-000000002-${dead}`].sort(),
    );
    expect(readdirSync(ck)).toEqual(['step-000000001']);
    expect(existsSync(join(dir, `.staging-${process.pid}-2`))).toBe(true); // a live writer's: kept
    expect(sweepRunFolder(dir, { all: true })).toEqual([join(dir, `.staging-${process.pid}-2`)]);
    expect(readdirSync(dir).sort()).toEqual([...RUN_OUTPUTS.slice(0, 6), 'checkpoints', 'notes.txt'].sort());
    await readBundleDir(dir, quiet);
  });
});

/**
 * One writer per run folder: `DIR/.onnxvae.lock` holds the PID of the `train` that writes DIR. It is created with
 * O_EXCL (`wx`), so of two processes starting at once exactly one gets it; a lock whose process is gone (killed with
 * SIGKILL, a crashed machine) is taken over with a note. Released on return, on error, and at process exit.
 */
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const LOCK_FILE = '.onnxvae.lock';

export class RunLockError extends Error {
  override name = 'RunLockError';
}

/** Whether a process with this PID exists (EPERM: it does, but belongs to another user). */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LockInfo {
  pid: number;
  /** What the file held, for messages when it is not a PID. */
  text: string;
  ageMs: number;
}

function readLock(path: string): LockInfo | undefined {
  let text: string;
  let mtime: number;
  try {
    text = readFileSync(path, 'utf8');
    mtime = statSync(path).mtimeMs;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const pid = Number.parseInt(text.trim().split(/\s/)[0] ?? '', 10);
  return { pid, text: text.trim().slice(0, 100), ageMs: Date.now() - mtime };
}

/**
 * A lock file without a PID yet was created a moment ago by a process that is writing it (between open and write);
 * one older than this is left over from a crash.
 */
const FRESH_EMPTY_LOCK_MS = 10_000;

/** Lock files this process holds now: its own PID in any other lock file is a leftover (a container's PID reused). */
const held = new Set<string>();

function heldBy(path: string, info: LockInfo): number | undefined {
  if (Number.isSafeInteger(info.pid) && info.pid > 0) {
    if (info.pid === process.pid) return held.has(resolve(path)) ? info.pid : undefined;
    return pidAlive(info.pid) ? info.pid : undefined;
  }
  return info.ageMs < FRESH_EMPTY_LOCK_MS ? -1 : undefined;
}

function busy(dir: string, pid: number): RunLockError {
  const who = pid === process.pid ? `this process, ${pid}` : pid > 0 ? `process ${pid}` : 'a process that is starting';
  return new RunLockError(
    `${resolve(dir)} is in use by another onnxvae train (${who}, lock file ${join(resolve(dir), LOCK_FILE)}); ` +
      'wait for it to finish or stop it, or train into another --out folder',
  );
}

/** Fails, naming the folder and the process, when another live process holds DIR's lock. Reads only. */
export function assertRunUnlocked(dir: string): void {
  const path = join(dir, LOCK_FILE);
  const info = readLock(path);
  const pid = info && heldBy(path, info);
  if (pid !== undefined) throw busy(dir, pid);
}

export interface RunLock {
  readonly path: string;
  /** Removes the lock file (only if it is still ours); safe to call twice. */
  release(): void;
}

/**
 * Takes DIR's lock (DIR must exist). A stale lock (its process is not running) is replaced, and `log` says so.
 * Note: a PID reused by an unrelated process after a crash reads as alive; the message names it so it can be checked.
 */
export function acquireRunLock(dir: string, log: (line: string) => void = () => {}): RunLock {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw e;
      const info = readLock(path);
      if (!info) continue; // released between our open and read
      const pid = heldBy(path, info);
      if (pid !== undefined) throw busy(dir, pid);
      log(
        info.pid === process.pid
          ? `took over the lock ${path} left by this process`
          : `took over a stale lock of a process that is not running (${info.text ? `PID ${info.text}` : 'empty lock file'}): ${path}`,
      );
      rmSync(path, { force: true });
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    held.add(resolve(path));
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      held.delete(resolve(path));
      process.off('exit', release);
      const info = readLock(path);
      if (info?.pid === process.pid) rmSync(path, { force: true });
    };
    // process.exit() (a second Ctrl-C) skips `finally` blocks but not 'exit' listeners.
    process.on('exit', release);
    return { path, release };
  }
}

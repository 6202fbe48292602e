/**
 * The run folder's lock against real second processes: a live holder is refused by name and PID, a killed one's
 * lock is taken over, and process.exit releases it. The child processes load the built module (npm run build).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireRunLock, assertRunUnlocked, LOCK_FILE, pidAlive } from './run-lock.js';

const LOCK_JS = pathToFileURL(resolve(dirname(fileURLToPath(import.meta.url)), '../dist/run-lock.js')).href;
const root = mkdtempSync(join(tmpdir(), 'onnxvae-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A node process that takes DIR's lock, prints "locked", then runs `then` (JS). */
function holder(dir: string, then: string): Promise<ChildProcess> {
  const code = `import { acquireRunLock } from ${JSON.stringify(LOCK_JS)}; acquireRunLock(${JSON.stringify(dir)}); console.log('locked'); ${then}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((ok, fail) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) ok(child);
    });
    child.on('exit', (c) => fail(new Error(`lock holder exited with ${c} before taking the lock`)));
  });
}

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((ok) => (child.exitCode !== null || child.signalCode !== null ? ok(child.exitCode) : child.on('exit', (c) => ok(c))));

describe('one writer per run folder', () => {
  it('refuses while another process holds the lock, naming the folder and its PID; takes over once it is killed', async () => {
    const dir = join(root, 'held');
    mkdirSync(dir);
    const child = await holder(dir, 'setInterval(() => {}, 1000);');
    const pid = child.pid as number;
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(pid));
    const busy = new RegExp(
      `${dir.replaceAll('/', '\\/')} is in use by another onnxvae train \\(process ${pid}, lock file .*\\.onnxvae\\.lock\\)`,
    );
    expect(() => assertRunUnlocked(dir)).toThrow(busy);
    expect(() => acquireRunLock(dir)).toThrow(busy);
    child.kill('SIGKILL'); // no exit handler runs: the lock file stays, stale
    await exited(child);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
    expect(pidAlive(pid)).toBe(false);
    const notes: string[] = [];
    const lock = acquireRunLock(dir, (l) => notes.push(l));
    expect(notes).toEqual([expect.stringMatching(new RegExp(`took over a stale lock of a process that is not running \\(PID ${pid}\\)`))]);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    expect(() => acquireRunLock(dir)).toThrow(/in use by another onnxvae train \(this process/); // not twice in one process
    lock.release();
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('process.exit releases the lock (exit handler), and a lock of an unknown process only while it is fresh', async () => {
    const dir = join(root, 'exit');
    mkdirSync(dir);
    const child = await holder(dir, 'setTimeout(() => process.exit(3), 50);');
    expect(await exited(child)).toBe(3);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    // An empty lock file is one being written right now (open, then write): busy for a moment, stale after.
    writeFileSync(join(dir, LOCK_FILE), '');
    expect(() => acquireRunLock(dir)).toThrow(/in use by another onnxvae train \(a process that is starting/);
  });
});

/**
 * What a new user tries first (issue 9, items 1 and 2): the `onnxvae` bin that `npm install` links on a fresh clone,
 * `--version`, `help` and each command's own `--help`, and numeric options that are negative, zero or absurdly large.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinDashValues, LIMITS } from './cli.js';
import { cli } from './testing/cli-run.js';

const PKG_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = resolve(PKG_DIR, '../..');
const BIN = join(PKG_DIR, 'bin', 'onnxvae.js');
const PKG = JSON.parse(readFileSync(join(PKG_DIR, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  files: string[];
};
const COMMANDS = ['train', 'eval', 'gap', 'sample', 'reconstruct', 'interpolate', 'variance', 'export', 'info'];

let root = '';
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'onnxvae-cli-basics-'));
});
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const git = (...args: string[]) => spawnSync('git', ['-C', REPO, ...args], { encoding: 'utf8' });

describe('the onnxvae bin (npx onnxvae on a fresh clone)', () => {
  it('is a committed, executable script outside dist/, named by package.json and shipped in its files', () => {
    // npm links node_modules/.bin/onnxvae at install time only if the bin's file exists then, before any build.
    expect(PKG.bin.onnxvae).toBe('./bin/onnxvae.js');
    expect(PKG.files).toContain('bin');
    expect(existsSync(BIN)).toBe(true);
    expect(statSync(BIN).mode & 0o111).not.toBe(0);
    expect(readFileSync(BIN, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    const root = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(root.scripts.prepare).toBe('npm run build'); // one `npm install` also builds dist/, which the bin runs
    if (git('rev-parse', '--is-inside-work-tree').stdout.trim() !== 'true') return; // a source tarball: nothing to ask git
    const rel = 'packages/node/bin/onnxvae.js';
    expect(git('check-ignore', '-q', rel).status, `${rel} is git-ignored`).not.toBe(0);
    const staged = git('ls-files', '-s', '--', rel).stdout.trim();
    // CI runs on a fresh clone, where the bin must be committed; a working tree may not have committed it yet.
    if (process.env.CI || staged) expect(staged, `${rel} must be committed, mode 100755`).toMatch(/^100755 /);
  });

  it('node bin/onnxvae.js --version prints the package version', () => {
    const r = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`onnxvae ${PKG.version}\n`);
  });

  it('node_modules/.bin/onnxvae, what npx runs, is the bin, and runs the CLI once', () => {
    const link = join(REPO, 'node_modules', '.bin', 'onnxvae');
    expect(existsSync(link), `${link} is missing: run npm install`).toBe(true);
    expect(realpathSync(link)).toBe(realpathSync(BIN));
    const r = spawnSync(link, ['help'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.match(/^usage: onnxvae <command>/gm)).toHaveLength(1); // dist/cli.js does not run main a second time
  });

  it('without dist/ it says to run npm run build, exit 1', () => {
    const copy = join(root, 'clone', 'packages', 'node', 'bin', 'onnxvae.js');
    mkdirSync(dirname(copy), { recursive: true });
    copyFileSync(BIN, copy);
    const r = spawnSync(process.execPath, [copy, '--version'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the CLI is not built yet \(.*dist[/\\]cli\.js is missing\): run `npm run build` in .*clone/);
  });
});

describe('--version and help', () => {
  it('--version prints onnxvae and the version of @onnxvae/node', async () => {
    const r = await cli('--version');
    expect(r).toEqual({ code: 0, stdout: `onnxvae ${PKG.version}\n`, stderr: '' });
  });

  it('help and --help list every command; help CMD and CMD --help print that command’s own options', async () => {
    for (const argv of [['help'], ['--help'], ['-h']]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(0);
      for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c} +\\S`, 'm'));
    }
    const own: Record<string, [string[], string[]]> = {
      // [options the command's help lists, options of other commands it must not list]
      train: [
        ['--epochs', '--batch', '--resume', '--kl-warmup', '--test-data'],
        ['--k ', '--draws', '--temperature'],
      ],
      eval: [
        ['--k ', '--test-data', '--json'],
        ['--epochs', '--resume', '--draws'],
      ],
      gap: [
        ['--steps', '--k ', '--test-data'],
        ['--epochs', '--temperature'],
      ],
      sample: [
        ['--n ', '--temperature', '--label'],
        ['--epochs', '--k '],
      ],
      variance: [
        ['--draws', '--samples', '--test-data'],
        ['--epochs', '--temperature'],
      ],
      export: [['--out'], ['--epochs', '--k ']],
    };
    for (const c of COMMANDS) {
      const a = await cli('help', c);
      const b = await cli(c, '--help');
      expect(a.code, c).toBe(0);
      expect(b).toEqual(a);
      expect(a.stdout.startsWith(`usage: onnxvae ${c}`), c).toBe(true);
      const [has, hasNot] = own[c] ?? [[], []];
      for (const o of has) expect(a.stdout, `${c} --help`).toContain(o);
      for (const o of hasNot) expect(a.stdout, `${c} --help`).not.toContain(o);
    }
    const bad = await cli('help', 'fly');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown command 'fly'/);
  });

  it('a usage error names the problem and shows that command’s synopsis', async () => {
    const r = await cli('eval');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/eval needs a bundle folder/);
    expect(r.stderr).toMatch(/usage: onnxvae eval DIR/);
    expect(r.stderr).toMatch(/onnxvae help eval/);
  });
});

describe('numeric options', () => {
  /** Runs train with one bad option and checks it stops at the command line: exit 2, the message, no folder made. */
  async function rejects(message: RegExp, ...argv: string[]): Promise<string> {
    const out = join(root, `bad-${argv.join('_').replace(/[^\w.-]/g, '')}`);
    const r = await cli('train', '--limit', '64', '--provider', 'cpu', ...argv, '--out', out);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/ambiguous/);
    expect(existsSync(out)).toBe(false);
    return r.stderr;
  }

  it('negative numbers: must be a positive integer, not "argument is ambiguous"', async () => {
    await rejects(/--epochs must be a positive integer, got '-1'/, '--epochs', '-1');
    await rejects(/--batch must be a positive integer, got '-5'/, '--batch', '-5');
    await rejects(/--seed must be a non-negative integer, got '-3'/, '--seed', '-3');
    await rejects(/--lr must be > 0, got '-1e-3'/, '--lr', '-1e-3');
    await rejects(/--epochs must be a positive integer, got '-x'/, '--epochs', '-x');
    await rejects(/--epochs must be a positive integer, got '2.5'/, '--epochs', '2.5');
    // A missing value before another option is still reported as such.
    const r = await cli('train', '--out', '--resume');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out/);
  });

  it('--lr 0 must be > 0', async () => {
    await rejects(/--lr must be > 0, got '0'/, '--lr', '0');
    await rejects(/--lr must be a number > 0, got 'fast'/, '--lr', 'fast');
  });

  it('absurd sizes stop with exit 2, and help documents each bound', async () => {
    await rejects(new RegExp(`--batch must be at most ${LIMITS.batch}, got '1e7'`), '--batch', '1e7');
    await rejects(new RegExp(`--epochs must be at most ${LIMITS.epochs}, got '1e9'`), '--epochs', '1e9');
    await rejects(/--seed must be a non-negative integer, got '1e300'/, '--seed', '1e300'); // not a safe integer
    const help = (await cli('help', 'train')).stdout;
    expect(help).toContain(`--batch B             examples per step, 1 … ${LIMITS.batch}`);
    expect(help).toContain(`--epochs N            1 … ${LIMITS.epochs}`);
    expect(help).toContain('--lr LR               learning rate, > 0');
  });

  it('joinDashValues turns `--opt -value` into `--opt=-value` for string options only', () => {
    expect(joinDashValues(['train', '--epochs', '-1', '--resume'])).toEqual(['train', '--epochs=-1', '--resume']);
    expect(joinDashValues(['--lr', '-1e-3', '--k', '-2'])).toEqual(['--lr=-1e-3', '--k=-2']);
    expect(joinDashValues(['--out', '--resume'])).toEqual(['--out', '--resume']); // an option, not a value
    expect(joinDashValues(['--out', '-h'])).toEqual(['--out', '-h']);
    expect(joinDashValues(['--resume', '-1'])).toEqual(['--resume', '-1']); // a boolean takes no value
    expect(joinDashValues(['--', '--epochs', '-1'])).toEqual(['--', '--epochs', '-1']);
  });
});

/**
 * bench/gpu.mjs, the GPU bench, run here with tiny settings: on cpu, and on WebGPU through SwiftShader's software
 * adapter where Debian's chromium is installed; the JSON it writes, the agreement with cpu, the printed table, and
 * that it runs from a copy holding the carried paths bench/README.md lists and no node_modules or dist folders besides
 * (as on the GPU machine, which has no network), within the device tool's 8 paths and 64 MiB.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(REPO, 'bench', 'gpu.mjs');
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const hasSwiftshader = existsSync(SWIFTSHADER);
/** The tolerances of test/cross-runtime.test.ts and the WebGPU CLI test (packages/node/src/cli.test.ts). */
const TOL = { lossRel: 1e-4, paramMaxAbs: 5e-3, paramMeanAbs: 1e-5, elboRel: 1e-5, klAbs: 1e-4 };

interface Run {
  batch: number;
  msPerStep: number;
  samplesPerSec: number;
  steps: number;
  loss: number;
  losses: number[];
  speedupVsCpu: number;
  agreement?: { lossRel: number; elboRel: number; klAbs: number; paramMaxAbs?: number; paramMeanAbs?: number; pass: boolean };
}
interface Entry {
  provider: string;
  state: string;
  label: string;
  result: 'PASS' | 'FAIL' | 'SKIP';
  reason?: string;
  runs: Run[];
}
interface Results {
  format: string;
  version: number;
  machine: { versions: Record<string, string>; nvidiaSmi: { found: boolean }; vulkan: { icds: unknown[] } };
  adapter: { name: string; vendor: string; architecture: string; software: boolean } | null;
  settings: { steps: number; warmup: number; batches: number[] };
  tolerances: typeof TOL;
  results: Entry[];
  pass: boolean;
}

let root = '';
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'onnxvae-gpu-script-'));
  if (!existsSync(join(REPO, 'packages', 'node', 'dist', 'cli', 'commands', 'doctor.js'))) throw new Error('build first: npm run build');
});
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** The environment without Vulkan driver variables or Chromium's loader (a machine with no Vulkan at all). */
function plainEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_ADD_DRIVER_FILES', 'OUT']) delete env[k];
  env.LD_LIBRARY_PATH = (env.LD_LIBRARY_PATH ?? '')
    .split(':')
    .filter((d) => d && !d.includes('chromium'))
    .join(':');
  return env;
}

function swiftshaderEnv(): NodeJS.ProcessEnv {
  const xdg = join(root, 'xdg');
  mkdirSync(xdg, { recursive: true, mode: 0o700 });
  const env = plainEnv();
  return {
    ...env,
    VK_ICD_FILENAMES: SWIFTSHADER,
    XDG_RUNTIME_DIR: xdg,
    LD_LIBRARY_PATH: ['/usr/lib/chromium', env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
  };
}

/** Runs the bench (node bench/gpu.mjs, or another command line such as bash bench/gpu.sh) with extra arguments. */
function bench(args: string[], env: NodeJS.ProcessEnv, cwd = REPO, cmd = [process.execPath, SCRIPT]) {
  const r = spawnSync(cmd[0], [...cmd.slice(1), ...args], { cwd, env, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Results;

/** A table row of the printed results: provider label, then the batch. */
const row = (stdout: string, label: string, batch: number | string) =>
  stdout.split('\n').find((l) => l.startsWith(label) && l.slice(label.length).trimStart().startsWith(`${batch} `));

function checkRun(r: Run, batch: number, steps: number) {
  expect(r.batch).toBe(batch);
  expect(r.steps).toBe(steps);
  expect(r.losses).toHaveLength(steps);
  expect(r.loss).toBe(r.losses[steps - 1]);
  expect(Number.isFinite(r.loss) && r.loss > 0).toBe(true); // a negative ELBO in nats, ~543 for 784 coin flips
  expect(r.msPerStep).toBeGreaterThan(0);
  expect(r.samplesPerSec).toBeCloseTo((batch * 1000) / r.msPerStep, 6);
}

describe('bench/gpu.mjs', () => {
  it(`cpu and ${hasSwiftshader ? 'webgpu on SwiftShader' : 'no webgpu (skipped: no SwiftShader, apt-get install chromium)'}: JSON, agreement, table`, () => {
    const out = join(root, 'results.json');
    const env = hasSwiftshader ? swiftshaderEnv() : plainEnv();
    const r = bench(['--steps', '2', '--warmup', '1', '--batches', '8,16', '--out', out], env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const j = read(out);
    expect(j).toMatchObject({ format: 'onnxvae-gpu-bench', version: 1, pass: true, settings: { steps: 2, warmup: 1, batches: [8, 16] } });
    expect(j.tolerances).toEqual(TOL);
    expect(j.machine.versions.onnxruntimeNode).toMatch(/^\d+\.\d+/);
    expect(j.machine.versions.onnxvae).toMatch(/^\d+\.\d+/);
    const by = (label: string) => j.results.find((e) => e.label === label) as Entry;
    expect(j.results.map((e) => e.label)).toEqual(['cpu', 'cuda', 'webgpu (host)', 'webgpu (device)']);
    const cpu = by('cpu');
    expect(cpu.result).toBe('PASS');
    expect(cpu.runs.map((x) => x.batch)).toEqual([8, 16]);
    for (const [i, x] of cpu.runs.entries()) checkRun(x, [8, 16][i], 3);
    expect(row(r.stdout, 'cpu', 8)).toMatch(/PASS \(reference\)$/);
    expect(r.stdout).toMatch(/^provider +batch +ms\/step +samples\/s +× cpu +loss +Δloss rel +Δparam max +result$/m);
    const cuda = by('cuda');
    if (cuda.result === 'SKIP') {
      expect(cuda.reason).toMatch(/CUDA provider library is not installed|missing|driver/);
      expect(cuda.runs).toEqual([]);
      expect(r.stdout).toMatch(/^cuda +— .* SKIP: /m);
    }
    if (!hasSwiftshader) {
      expect(j.adapter).toBeNull();
      expect(by('webgpu (host)').result).toBe('SKIP');
      return;
    }
    expect(j.adapter).toMatchObject({
      name: 'SwiftShader Device (Subzero)',
      vendor: 'google',
      architecture: 'swiftshader',
      software: true,
    });
    for (const label of ['webgpu (host)', 'webgpu (device)']) {
      const e = by(label);
      expect(e.result, `${label}: ${e.reason}`).toBe('PASS');
      for (const [i, x] of e.runs.entries()) {
        checkRun(x, [8, 16][i], 3);
        const a = x.agreement as NonNullable<Run['agreement']>;
        expect(a.pass).toBe(true);
        expect(a.lossRel).toBeLessThan(TOL.lossRel);
        expect(a.elboRel).toBeLessThan(TOL.elboRel);
        expect(a.klAbs).toBeLessThan(TOL.klAbs);
        // The host copy of the state is compared with cpu's; the GPU-resident one cannot be read back in Node.
        if (label === 'webgpu (host)') expect(a.paramMaxAbs).toBeLessThan(TOL.paramMaxAbs);
        else expect(a.paramMaxAbs).toBeUndefined();
        expect(row(r.stdout, label, x.batch)).toMatch(/ PASS$/);
      }
    }
    expect(r.stdout).toMatch(/^webgpu \(host\): PASS$/m);
    expect(r.stdout).toMatch(/^## nvidia-smi$/m);
    expect(r.stdout).toMatch(/^## Vulkan$/m);
  }, 300_000);

  it('without Vulkan: webgpu SKIPs with doctor’s reason, still exit 0; a bad option exits 2', () => {
    const out = join(root, 'plain.json');
    const r = bench(
      ['--steps', '1', '--warmup', '0', '--batches', '4', '--providers', 'cpu,webgpu', '--webgpu-state', 'host', '--out', out],
      plainEnv(),
    );
    expect(r.code, r.stderr).toBe(0);
    const j = read(out);
    expect(j.results.map((e) => [e.label, e.result])).toEqual([
      ['cpu', 'PASS'],
      ['webgpu (host)', 'SKIP'],
    ]);
    expect(j.results[1].reason).toMatch(/Vulkan/);
    expect(j.adapter).toBeNull();
    expect(r.stdout).toMatch(/^webgpu \(host\) +— .* SKIP: .*Vulkan/m);
    for (const bad of [['--steps', '0'], ['--providers', 'tpu'], ['--batches', 'x'], ['--fast']]) {
      const b = bench(bad, plainEnv());
      expect(b.code, bad.join(' ')).toBe(2);
      expect(b.stderr).toMatch(/^bench\/gpu\.mjs: /);
    }
  });

  it('runs from a copy holding the carried paths and a few tracked files only (the GPU machine has no node_modules, no dist)', () => {
    const readme = readFileSync(join(REPO, 'bench', 'README.md'), 'utf8');
    const carry = JSON.parse(/"carry": (\[[^\]]*\])/.exec(readme)?.[1] ?? '[]') as string[];
    expect(carry.length).toBeGreaterThan(0);
    expect(carry.length).toBeLessThanOrEqual(8); // the device tool's limit
    // The same list in gpu.sh (which packs it) and at the top of gpu.mjs.
    const sh = readFileSync(join(REPO, 'bench', 'gpu.sh'), 'utf8');
    expect(/CARRY=\(\n([^)]*)\)/.exec(sh)?.[1].trim().split(/\s+/)).toEqual(carry);
    const head = readFileSync(SCRIPT, 'utf8').split('*/')[0];
    for (const p of carry) expect(head).toContain(` *   ${p}\n`);

    const copy = join(root, 'copy');
    mkdirSync(join(copy, 'bench', 'dist'), { recursive: true });
    const b = spawnSync('bash', ['bench/gpu.sh', 'bundle', join(copy, 'bench', 'dist', 'gpu.mjs')], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(b.status, b.stderr).toBe(0);
    for (const f of ['bench/gpu.sh', 'bench/gpu.mjs', 'packages/node/package.json', 'package.json']) cpSync(join(REPO, f), join(copy, f));
    let bytes = 0;
    for (const p of carry.filter((c) => c.startsWith('node_modules/'))) {
      cpSync(join(REPO, p), join(copy, p), { recursive: true, dereference: true });
      bytes += Number(spawnSync('du', ['-sb', join(copy, p)], { encoding: 'utf8' }).stdout.split('\t')[0]);
    }
    bytes += Number(spawnSync('du', ['-sb', join(copy, 'bench', 'dist')], { encoding: 'utf8' }).stdout.split('\t')[0]);
    // The device tool takes 64 MiB in all: the carried paths and the working tree's files (tracked + untracked).
    const tree = spawnSync('git', ['-C', REPO, 'ls-files', '-co', '--exclude-standard', '-z'], { encoding: 'utf8' });
    if (tree.status === 0)
      for (const f of tree.stdout.split('\0').filter(Boolean)) {
        const st = statSync(join(REPO, f), { throwIfNoEntry: false });
        if (st?.isFile()) bytes += st.size;
      }
    expect(bytes).toBeLessThan(64 * 2 ** 20);
    expect(existsSync(join(copy, 'packages', 'core', 'dist'))).toBe(false);
    const env = { ...plainEnv(), OUT: join(copy, 'out') };
    mkdirSync(env.OUT, { recursive: true });
    const r = bench(['--providers', 'cpu', '--steps', '1', '--warmup', '0', '--batches', '4'], env, copy, ['bash', 'bench/gpu.sh']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const j = read(join(copy, 'out', 'gpu-results.json')); // $OUT/gpu-results.json when $OUT is set
    expect(j.results[0]).toMatchObject({ label: 'cpu', result: 'PASS' });
    expect(j.machine.versions.onnxvae).toMatch(/^\d+\.\d+/);
  }, 180_000);
});

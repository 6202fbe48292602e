/**
 * `onnxvae doctor` here (no GPU, no CUDA provider): cpu starts; cuda does not, with why and how to install it; webgpu
 * without a Vulkan driver says what to install, and with SwiftShader's (Debian's chromium) starts on a software
 * adapter. The CLI runs in child processes: Dawn reads the Vulkan environment once per process, ld.so LD_LIBRARY_PATH
 * at start. The fix logic for machines this one is not (CUDA libraries missing beside the provider, an NVIDIA image's
 * driver outside the loader's folders) is checked on made-up facts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CudaFacts, cudaProviderLibrary, hardwareVulkan, type LibraryCheck, type VulkanFacts } from '../../probe.js';
import { main } from '../main.js';
import { type DoctorReport, diagnoseCuda, diagnoseWebgpu } from './doctor.js';

const CLI_JS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../dist/cli.js');
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
/** A machine like this one and CI: no CUDA provider library, no GPU's Vulkan driver. */
const plainMachine = !cudaProviderLibrary() && !hardwareVulkan();

let xdg = '';
beforeAll(() => {
  xdg = mkdtempSync(join(tmpdir(), 'onnxvae-doctor-'));
});
afterAll(() => {
  if (xdg) rmSync(xdg, { recursive: true, force: true });
});

/** The environment without any Vulkan driver variable or Chromium's loader on the library path. */
function plainEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_ADD_DRIVER_FILES']) delete env[k];
  env.LD_LIBRARY_PATH = (env.LD_LIBRARY_PATH ?? '')
    .split(':')
    .filter((d) => d && !d.includes('chromium'))
    .join(':');
  return env;
}

function swiftshaderEnv(): NodeJS.ProcessEnv {
  const env = plainEnv();
  return {
    ...env,
    VK_ICD_FILENAMES: SWIFTSHADER,
    XDG_RUNTIME_DIR: xdg,
    LD_LIBRARY_PATH: ['/usr/lib/chromium', env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
  };
}

function doctor(env: NodeJS.ProcessEnv, ...args: string[]): { code: number; stdout: string; stderr: string } {
  if (!existsSync(CLI_JS)) throw new Error(`${CLI_JS} is missing: build first (npm run build)`);
  const r = spawnSync(process.execPath, [CLI_JS, 'doctor', ...args], { encoding: 'utf8', env, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const line = (out: string, provider: string) => out.split('\n').find((l) => l.startsWith(`${provider} `)) ?? '';

describe('onnxvae doctor on this machine', () => {
  it.skipIf(!plainMachine)('cpu ok; cuda unavailable with the reason and the install command; webgpu: what to install (exit 0)', () => {
    const r = doctor(plainEnv());
    expect(r.code, r.stderr).toBe(0);
    expect(line(r.stdout, 'cpu')).toMatch(/^cpu +ok +always starts \(\d+ cores\)/);
    expect(line(r.stdout, 'cuda')).toMatch(/^cuda +unavailable +onnxruntime-node's CUDA provider library is not installed/);
    expect(r.stdout).toMatch(
      /fix: on a machine with an NVIDIA GPU and internet access: `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`/,
    );
    expect(r.stdout).toMatch(/· CUDA 12 and cuDNN 9 libraries: libcudart\.so\.12 /);
    // Without Chromium's loader: no libvulkan.so.1 (unless libvulkan1 is installed; then no driver where it looks).
    expect(line(r.stdout, 'webgpu')).toMatch(
      /^webgpu +unavailable +(the Vulkan loader libvulkan\.so\.1 is not found|no Vulkan driver \(ICD\))/,
    );
    if (/libvulkan\.so\.1 is not found/.test(line(r.stdout, 'webgpu'))) expect(r.stdout).toMatch(/fix: apt-get install libvulkan1/);
    else expect(r.stdout).toMatch(/fix: with a GPU: install its Vulkan driver/);
    if (existsSync(SWIFTSHADER)) expect(r.stdout).toContain(`VK_ICD_FILENAMES=${SWIFTSHADER}`);
    expect(r.stdout).toMatch(/^--provider auto picks cpu \(cuda: skipped/m);
  });

  it.skipIf(!plainMachine || !existsSync(SWIFTSHADER))(
    `with SwiftShader's driver (VK_ICD_FILENAMES=${SWIFTSHADER}): webgpu starts on a software adapter (skipped without it: apt-get install chromium)`,
    () => {
      const r = doctor(swiftshaderEnv());
      expect(r.code, r.stderr).toBe(0);
      expect(line(r.stdout, 'webgpu')).toMatch(
        /^webgpu +ok +starts on a software adapter: SwiftShader Device \(Subzero\) \(google, swiftshader\) from \/usr\/lib\/chromium\/vk_swiftshader_icd\.json/,
      );
      expect(r.stdout).toMatch(/· Vulkan loader: libvulkan\.so\.1 loads \(\/usr\/lib\/chromium\/libvulkan\.so\.1\)/);
      expect(r.stdout).toMatch(/--provider auto skips it/);
      // A software adapter is never auto's choice.
      expect(r.stdout).toMatch(/^--provider auto picks cpu .*webgpu: skipped \(no hardware Vulkan driver/m);
      const j = JSON.parse(doctor(swiftshaderEnv(), '--json').stdout) as DoctorReport;
      const w = j.providers.find((p) => p.provider === 'webgpu');
      expect(w?.available).toBe(true);
      expect(w?.adapter).toMatchObject({
        name: 'SwiftShader Device (Subzero)',
        vendor: 'google',
        architecture: 'swiftshader',
        software: true,
      });
      expect(j.vulkan.env).toEqual({ VK_ICD_FILENAMES: SWIFTSHADER });
    },
    120_000,
  );

  it.skipIf(!plainMachine)(
    '--json: one JSON report (versions, each provider with reason/fixes/facts, auto, the CUDA and Vulkan facts)',
    () => {
      const r = doctor(plainEnv(), '--json');
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as DoctorReport;
      expect(Object.keys(j)).toEqual(['versions', 'cpu', 'providers', 'auto', 'cuda', 'vulkan']);
      expect(j.versions).toMatchObject({
        onnxvae: expect.stringMatching(/^\d/),
        onnxruntimeNode: expect.stringMatching(/^\d/),
        node: process.version,
      });
      expect(j.providers.map((p) => [p.provider, p.available])).toEqual([
        ['cpu', true],
        ['cuda', false],
        ['webgpu', false],
      ]);
      for (const p of j.providers) {
        expect(typeof p.reason).toBe('string');
        expect(Array.isArray(p.fixes) && Array.isArray(p.facts)).toBe(true);
      }
      expect(j.providers[1].fixes.join(' ')).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
      expect(j.providers[1].error).toMatch(/^provider cuda is not available/);
      expect(j.auto).toMatchObject({ provider: 'cpu' });
      expect(j.cuda.libraries.map((l) => l.name)).toContain('libcudnn.so.9');
      expect(j.vulkan.loader.name).toBe('libvulkan.so.1');
      expect(Array.isArray(j.vulkan.icds)).toBe(true);
    },
  );

  it('help doctor and doctor --help print its usage and --json; the overview lists it', async () => {
    const outs: string[] = [];
    for (const argv of [['help', 'doctor'], ['doctor', '--help'], ['help']]) {
      let s = '';
      const code = await main(argv, (x) => {
        s += x;
      });
      expect(code).toBe(0);
      outs.push(s);
    }
    expect(outs[0]).toBe(outs[1]);
    expect(outs[0]).toMatch(/^usage: onnxvae doctor \[--json\]/);
    expect(outs[0]).toContain('--json');
    expect(outs[0]).toMatch(/libvulkan\.so\.1/);
    expect(outs[2]).toMatch(/^ {2}doctor +which providers/m);
  });
});

/** Made-up facts: a machine with CUDA's provider library but not all its libraries, and one with a GPU driver the loader misses. */
const lib = (name: string, loads: boolean, path?: string): LibraryCheck => ({
  name,
  loads,
  ...(path ? { path } : {}),
  ...(loads ? {} : { error: `${name}: cannot open shared object file: No such file or directory` }),
});
const gpuSmi = {
  found: true,
  driver: '550.54.15',
  cuda: '12.4',
  output: '',
  gpus: [{ name: 'NVIDIA H200', computeCapability: '9.0', architecture: 'hopper' }],
};

describe('the fixes doctor gives on other machines', () => {
  it('cuda: provider installed, cuDNN missing (ldd says so): install CUDA 12 / cuDNN 9 and LD_LIBRARY_PATH', () => {
    const f: CudaFacts = {
      providerLibrary: '/x/libonnxruntime_providers_cuda.so',
      providerDir: '/x',
      providerMissing: ['libcudnn.so.9'],
      driver: lib('libcuda.so.1', true, '/usr/lib/x86_64-linux-gnu/libcuda.so.1'),
      libraries: [lib('libcudart.so.12', true), lib('libcudnn.so.9', false)],
      otherVersions: ['libcudnn.so.8 (/usr/lib/libcudnn.so.8)'],
      nvidiaSmi: gpuSmi,
    };
    const d = diagnoseCuda(f, 'provider cuda is not available: …');
    expect(d.available).toBe(false);
    expect(d.reason).toBe('the CUDA provider library is installed but libcudnn.so.9 is missing');
    expect(d.fixes.join(' ')).toMatch(/install CUDA 12 and cuDNN 9 .*LD_LIBRARY_PATH/);
    expect(d.facts.join('\n')).toMatch(/driver 550\.54\.15, CUDA 12\.4; NVIDIA H200 \(compute 9\.0\)/);
    expect(d.facts.join('\n')).toMatch(/other CUDA versions found: libcudnn\.so\.8/);
    expect(diagnoseCuda(f, undefined)).toMatchObject({ available: true, reason: 'starts on NVIDIA H200', fixes: [] });
  });

  const vk = (over: Partial<VulkanFacts>): VulkanFacts => ({
    env: {},
    loader: lib('libvulkan.so.1', true, '/usr/lib/x86_64-linux-gnu/libvulkan.so.1'),
    icds: [],
    searched: ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d'],
    unused: [],
    ...over,
  });
  const nvidiaIcd = {
    file: '/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json',
    library: 'libGLX_nvidia.so.0',
    libraryPath: '/usr/lib/libGLX_nvidia.so.0',
    driver: 'nvidia' as const,
    software: false,
  };
  const cuda = { nvidiaSmi: gpuSmi } as CudaFacts;

  it("webgpu: an NVIDIA image's driver outside the loader's folders: point VK_ICD_FILENAMES at it", () => {
    const { d } = diagnoseWebgpu(vk({ unused: [nvidiaIcd] }), cuda, 'no adapter');
    expect(d.reason).toMatch(/^no Vulkan driver \(ICD\) where the loader looks/);
    expect(d.fixes[0]).toBe(`point the loader at the GPU's driver: VK_ICD_FILENAMES=${nvidiaIcd.file}`);
  });

  it('webgpu: no loader: apt-get install libvulkan1; a driver whose library is missing: names it', () => {
    const none = diagnoseWebgpu(vk({ loader: lib('libvulkan.so.1', false), unused: [nvidiaIcd] }), cuda, 'no adapter').d;
    expect(none.reason).toBe('the Vulkan loader libvulkan.so.1 is not found');
    expect(none.fixes[0]).toMatch(/^apt-get install libvulkan1/);
    const missing = diagnoseWebgpu(vk({ icds: [{ ...nvidiaIcd, libraryPath: undefined }] }), cuda, 'no adapter').d;
    expect(missing.reason).toBe(`the Vulkan drivers' libraries are not found: libGLX_nvidia.so.0 (named by ${nvidiaIcd.file})`);
    expect(missing.fixes[0]).toMatch(/NVIDIA_DRIVER_CAPABILITIES must include graphics/);
  });

  it('webgpu: started on the one NVIDIA driver: a hardware adapter named by nvidia-smi', () => {
    const { d } = diagnoseWebgpu(vk({ icds: [nvidiaIcd] }), cuda, undefined);
    expect(d).toMatchObject({
      available: true,
      adapter: { name: 'NVIDIA H200', vendor: 'nvidia', architecture: 'hopper', software: false },
    });
    expect(d.reason).toBe(`starts on a hardware adapter: NVIDIA H200 (nvidia, hopper) from ${nvidiaIcd.file}`);
  });
});

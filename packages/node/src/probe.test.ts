import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adapterOf,
  CUDA_LIBRARIES,
  cudaFacts,
  icdSearchDirs,
  loadLibrary,
  type NvidiaSmi,
  nvidiaArchitecture,
  ortVersion,
  readIcd,
  visibleIcds,
  vulkanFacts,
} from './probe.js';

let root = '';
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'onnxvae-probe-'));
});
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** An ICD manifest naming a library (and, for a path, a file standing in for the library). */
function icd(dir: string, file: string, library: string, makeLibrary = false): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: library, api_version: '1.3.0' } }));
  if (makeLibrary) writeFileSync(join(dir, library), '');
  return join(dir, file);
}

describe('Vulkan drivers', () => {
  it('reads an ICD manifest: a relative library path is next to the manifest; SwiftShader and lavapipe are software', () => {
    const d = join(root, 'icds');
    const ss = readIcd(icd(d, 'vk_swiftshader_icd.json', './libvk_swiftshader.so', true));
    expect(ss).toMatchObject({ driver: 'swiftshader', software: true, libraryPath: join(d, 'libvk_swiftshader.so') });
    expect(readIcd(icd(d, 'lvp_icd.x86_64.json', '/nowhere/libvulkan_lvp.so'))).toMatchObject({
      driver: 'lavapipe',
      software: true,
      libraryPath: undefined,
    });
    const nv = readIcd(icd(d, 'nvidia_icd.json', 'libGLX_nvidia.so.0'));
    expect(nv).toMatchObject({ driver: 'nvidia', software: false, library: 'libGLX_nvidia.so.0' });
    writeFileSync(join(d, 'broken.json'), '{');
    expect(readIcd(join(d, 'broken.json')).error).toBeDefined();
  });

  it('VK_ICD_FILENAMES (or VK_DRIVER_FILES) replaces the search folders; VK_ADD_DRIVER_FILES adds to them', () => {
    const a = icd(join(root, 'a'), 'vk_swiftshader_icd.json', './libvk_swiftshader.so', true);
    const b = icd(join(root, 'b'), 'nvidia_icd.json', 'libGLX_nvidia.so.0');
    const data = join(root, 'share');
    const c = icd(join(data, 'vulkan', 'icd.d'), 'radeon_icd.json', 'libvulkan_radeon.so');
    const env = { XDG_DATA_DIRS: data, XDG_CONFIG_DIRS: join(root, 'none'), HOME: join(root, 'home') };
    expect(icdSearchDirs(env)).toContain(join(data, 'vulkan', 'icd.d'));
    expect(visibleIcds(env).icds.map((i) => i.file)).toEqual([c]);
    expect(visibleIcds({ ...env, VK_ICD_FILENAMES: `${a}:${join(root, 'b')}` })).toMatchObject({
      icds: [{ file: a }, { file: b }],
      searched: ['$VK_ICD_FILENAMES'],
    });
    expect(visibleIcds({ ...env, VK_DRIVER_FILES: b, VK_ICD_FILENAMES: a }).icds.map((i) => i.file)).toEqual([b]);
    expect(visibleIcds({ ...env, VK_ADD_DRIVER_FILES: a }).icds.map((i) => i.file)).toEqual([c, a]);
    // Drivers named by the variable hide the folders' ones, which are listed as unused.
    const f = vulkanFacts({ ...env, VK_ICD_FILENAMES: a });
    expect(f.env).toEqual({ VK_ICD_FILENAMES: a });
    expect(f.unused.map((i) => i.file)).toContain(c);
    expect(f.loader.name).toBe('libvulkan.so.1');
  });
});

describe('libraries and CUDA', () => {
  it('loadLibrary: a system library loads, a missing one says so', () => {
    expect(loadLibrary('libm.so.6')).toEqual({ loads: true });
    const r = loadLibrary('libonnxvae-no-such-library.so.1');
    expect(r.loads).toBe(false);
    expect(r.error).toMatch(/cannot open shared object file/);
  });

  it('cudaFacts checks the driver and the CUDA 12 / cuDNN 9 libraries the provider loads', () => {
    const f = cudaFacts();
    expect(f.driver.name).toBe('libcuda.so.1');
    expect(f.libraries.map((l) => l.name)).toEqual(CUDA_LIBRARIES);
    expect(f.providerDir).toMatch(/onnxruntime-node[/\\]bin[/\\]napi-v6[/\\]/);
    expect(typeof f.nvidiaSmi.found).toBe('boolean');
    expect(ortVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('names NVIDIA architectures by compute capability', () => {
    expect(nvidiaArchitecture('9.0')).toBe('hopper'); // H100, H200
    expect(nvidiaArchitecture('8.0')).toBe('ampere'); // A100
    expect(nvidiaArchitecture('8.9')).toBe('lovelace'); // L4, RTX 4090
    expect(nvidiaArchitecture('7.5')).toBe('turing'); // T4
    expect(nvidiaArchitecture('7.0')).toBe('volta'); // V100
    expect(nvidiaArchitecture('1.0')).toBeUndefined();
  });
});

describe('adapterOf', () => {
  it('software adapters by name; an NVIDIA GPU from nvidia-smi', () => {
    const ss = readIcd(icd(join(root, 'ad'), 'vk_swiftshader_icd.json', './libvk_swiftshader.so', true));
    expect(adapterOf(ss)).toMatchObject({
      name: 'SwiftShader Device (Subzero)',
      vendor: 'google',
      architecture: 'swiftshader',
      software: true,
    });
    const nv = readIcd(icd(join(root, 'ad'), 'nvidia_icd.json', 'libGLX_nvidia.so.0'));
    const smi: NvidiaSmi = { found: true, gpus: [{ name: 'NVIDIA H200', computeCapability: '9.0', architecture: 'hopper' }] };
    expect(adapterOf(nv, smi)).toMatchObject({ name: 'NVIDIA H200', vendor: 'nvidia', architecture: 'hopper', software: false });
    expect(adapterOf(nv).name).toBe('NVIDIA GPU');
    expect(adapterOf(undefined)).toMatchObject({ name: 'unknown', software: false, driver: 'unknown' });
  });
});

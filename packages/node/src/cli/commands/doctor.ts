/**
 * `onnxvae doctor`: which execution providers start on this machine, why the others do not, and the fix for each.
 * Each provider is started the way `train --provider P` starts it (createNodeRuntime); the facts that say why one
 * does not (CUDA libraries, NVIDIA driver, Vulkan loader and drivers) come from probe.ts. bench/gpu.mjs calls
 * diagnose() for its machine report.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  type AdapterInfo,
  adapterOf,
  type CudaFacts,
  cudaFacts,
  EXTRA_ICD_PLACES,
  type LibraryCheck,
  ortVersion,
  type VulkanFacts,
  type VulkanIcd,
  vulkanFacts,
  webgpuDrivers,
} from '../../probe.js';
import { createNodeRuntime, type Provider } from '../../session.js';
import type { Command, CommandContext } from '../context.js';

export interface ProviderDiagnosis {
  provider: Provider;
  /** It started here, as `--provider P` would start it. */
  available: boolean;
  /** One line: what it runs on, or the first thing that stops it. */
  reason: string;
  /** What to do about it (empty when nothing is missing). */
  fixes: string[];
  /** The facts behind the reason. */
  facts: string[];
  /** onnxruntime-node's own message when the provider did not start (explained in our words by session.ts). */
  error?: string;
  /** WebGPU: the adapter Dawn gets, and the drivers tried one by one where several are visible. */
  adapter?: AdapterInfo;
}

export interface DoctorReport {
  versions: { onnxvae: string; onnxruntimeNode: string; node: string; platform: string; arch: string };
  cpu: { model: string; cores: number };
  providers: ProviderDiagnosis[];
  /** What `--provider auto` picks here, and why it skipped the others. */
  auto: { provider: Provider; notes: string[] };
  cuda: CudaFacts;
  vulkan: VulkanFacts & { tried?: { icd: string; started: boolean; error?: string }[] };
}

/** The message createNodeRuntime throws when a provider does not start, or undefined when it starts. */
async function tryStart(provider: Provider): Promise<string | undefined> {
  try {
    await createNodeRuntime({ provider });
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

function lib(l: LibraryCheck): string {
  if (l.loads) return `${l.name} loads${l.path ? ` (${l.path})` : ''}`;
  return `${l.name} ${/cannot open shared object file/.test(l.error ?? '') ? 'not found' : `does not load (${l.error})`}`;
}

function icdLine(i: VulkanIcd): string {
  const what = `${i.driver}, ${i.software ? 'software' : 'hardware'}`;
  if (i.error) return `${i.file} (unreadable: ${i.error})`;
  return `${i.file} (${what}; library ${i.library}${i.libraryPath ? '' : ' not found'})`;
}

const CUDA_INSTALL =
  'on a machine with an NVIDIA GPU and internet access: `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` ' +
  "(reruns onnxruntime-node's install script, which downloads the CUDA provider; on a fresh clone `ONNXRUNTIME_NODE_INSTALL=cuda12 npm install`)";

/** CUDA's line from the facts and createNodeRuntime's error (undefined: it started). */
export function diagnoseCuda(f: CudaFacts, error: string | undefined): ProviderDiagnosis {
  const smi = f.nvidiaSmi;
  const gpu = smi.gpus[0];
  const facts = [
    `provider library: ${f.providerLibrary ?? `not installed (${join(f.providerDir, 'libonnxruntime_providers_cuda.so')} is missing)`}`,
    `NVIDIA driver: ${
      !smi.found
        ? `nvidia-smi not found (${smi.error})`
        : smi.error
          ? `nvidia-smi failed (${smi.error})`
          : `driver ${smi.driver}, CUDA ${smi.cuda}; ${smi.gpus.map((g) => `${g.name}${g.memoryMiB ? ` ${g.memoryMiB} MiB` : ''}${g.computeCapability ? ` (compute ${g.computeCapability})` : ''}`).join(', ')}`
    }; ${lib(f.driver)}`,
    `CUDA 12 and cuDNN 9 libraries: ${f.libraries.map(lib).join(', ')}`,
  ];
  if (f.otherVersions.length)
    facts.push(`other CUDA versions found: ${f.otherVersions.join(', ')} (onnxruntime-node's CUDA provider needs CUDA 12 and cuDNN 9)`);
  if (f.providerMissing?.length) facts.push(`ldd ${f.providerLibrary}: not found: ${f.providerMissing.join(', ')}`);
  if (error === undefined) {
    return { provider: 'cuda', available: true, reason: `starts${gpu ? ` on ${gpu.name}` : ''}`, fixes: [], facts };
  }
  const fixes: string[] = [];
  const reasons: string[] = [];
  if (!f.providerLibrary) {
    reasons.push(
      "onnxruntime-node's CUDA provider library is not installed (its install script downloads it; this repo's .npmrc skips that)",
    );
    fixes.push(CUDA_INSTALL);
  } else {
    const missing = f.providerMissing?.length ? f.providerMissing : f.libraries.filter((l) => !l.loads).map((l) => l.name);
    if (missing.length) {
      reasons.push(`the CUDA provider library is installed but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing`);
      fixes.push(
        'install CUDA 12 and cuDNN 9 (their runtime libraries: cudart, cublas, cufft, curand, cudnn) and put their lib folders on LD_LIBRARY_PATH',
      );
    }
  }
  if (!f.driver.loads) {
    reasons.push(`no NVIDIA driver (${smi.found ? 'libcuda.so.1 does not load' : 'nvidia-smi and libcuda.so.1 not found'})`);
    fixes.push('CUDA needs an NVIDIA GPU and its driver (nvidia-smi must run); without one, use --provider cpu');
  }
  if (!reasons.length) reasons.push(`the CUDA provider did not start (${error})`);
  return { provider: 'cuda', available: false, reason: reasons.join('; '), fixes, facts, error };
}

/** WebGPU's line from the Vulkan facts and createNodeRuntime's error (undefined: it started; then the adapter is identified). */
export function diagnoseWebgpu(
  v: VulkanFacts,
  f: CudaFacts,
  error: string | undefined,
): { d: ProviderDiagnosis; tried?: DoctorReport['vulkan']['tried'] } {
  const facts = [
    `Vulkan loader: ${lib(v.loader)}`,
    `Vulkan drivers (ICDs) ${v.searched[0]?.startsWith('$') ? `named by ${v.searched[0].slice(1)}` : `in ${v.searched.join(', ')}`}: ${v.icds.length ? v.icds.map(icdLine).join('; ') : 'none'}`,
  ];
  if (v.unused.length) facts.push(`drivers the loader does not look at: ${v.unused.map(icdLine).join('; ')}`);
  const unusedHardware = v.unused.filter((i) => !i.software && !i.error);
  const unusedSoftware = v.unused.filter((i) => i.software && !i.error && i.libraryPath);
  const useDriver = (i: VulkanIcd) => `VK_ICD_FILENAMES=${i.file}`;
  if (error === undefined) {
    // Several drivers: try each alone to see which gives the adapter (Dawn asks for high performance: a GPU first).
    const tried: { icd: VulkanIcd; started: boolean; error?: string }[] =
      v.icds.length > 1 ? webgpuDrivers(v) : v.icds.map((icd) => ({ icd, started: true }));
    const chosen = tried.find((t) => t.started && !t.icd.software) ?? tried.find((t) => t.started);
    const adapter = adapterOf(chosen?.icd, f.nvidiaSmi);
    const what = `${adapter.name} (${adapter.vendor}, ${adapter.architecture})${adapter.icd ? ` from ${adapter.icd}` : ''}`;
    const fixes: string[] = [];
    if (adapter.software) {
      facts.push(
        'a software adapter runs on the CPU and is slower than the cpu provider: --provider auto skips it; it serves to test WebGPU numerics',
      );
      for (const i of unusedHardware) fixes.push(`for the GPU's driver instead: ${useDriver(i)}`);
    }
    return {
      d: {
        provider: 'webgpu',
        available: true,
        reason: `starts on a ${adapter.software ? 'software' : 'hardware'} adapter: ${what}`,
        fixes,
        facts,
        adapter,
      },
      tried:
        v.icds.length > 1 ? tried.map((t) => ({ icd: t.icd.file, started: t.started, ...(t.error ? { error: t.error } : {}) })) : undefined,
    };
  }
  const fixes: string[] = [];
  let reason: string;
  const softwareFix = (): string => {
    const ss = unusedSoftware.find((i) => i.driver === 'swiftshader');
    if (ss) return `without a GPU, SwiftShader's software adapter (slow, for tests): ${useDriver(ss)}`;
    return `without a GPU, a software adapter (slow, for tests): apt-get install chromium, then VK_ICD_FILENAMES=${EXTRA_ICD_PLACES[1]} (or apt-get install mesa-vulkan-drivers for lavapipe)`;
  };
  if (!v.loader.loads) {
    reason = `the Vulkan loader libvulkan.so.1 is not found${v.loader.error && !/cannot open shared object/.test(v.loader.error) ? ` (${v.loader.error})` : ''}`;
    fixes.push(
      `apt-get install libvulkan1${existsSync('/usr/lib/chromium/libvulkan.so.1') ? ', or LD_LIBRARY_PATH=/usr/lib/chromium (Chromium ships a copy)' : ''}`,
    );
    if (!v.icds.some((i) => !i.error)) {
      for (const i of unusedHardware) fixes.push(`then point the loader at the GPU's driver: ${useDriver(i)}`);
      if (!unusedHardware.length) fixes.push(softwareFix());
    }
  } else if (!v.icds.length) {
    reason = `no Vulkan driver (ICD) where the loader looks (${v.searched.join(', ')})`;
    for (const i of unusedHardware) fixes.push(`point the loader at the GPU's driver: ${useDriver(i)}`);
    if (!unusedHardware.length)
      fixes.push(
        "with a GPU: install its Vulkan driver (NVIDIA's driver ships nvidia_icd.json; in a container NVIDIA_DRIVER_CAPABILITIES must include graphics)",
      );
    fixes.push(softwareFix());
  } else if (v.icds.every((i) => i.error || !i.libraryPath)) {
    reason = `the Vulkan drivers' libraries are not found: ${v.icds.map((i) => `${i.library ?? '?'} (named by ${i.file})`).join(', ')}`;
    fixes.push(
      "install the driver's libraries or put their folder on LD_LIBRARY_PATH (NVIDIA's come with its driver; in a container NVIDIA_DRIVER_CAPABILITIES must include graphics)",
    );
  } else {
    reason = `Dawn found no adapter with the drivers ${v.icds.map((i) => i.file).join(', ')}`;
    fixes.push(
      'check the driver with `vulkaninfo --summary` (package vulkan-tools); ONNXVAE_ORT_LOG_LEVEL=verbose shows what onnxruntime-node tried',
    );
  }
  return { d: { provider: 'webgpu', available: false, reason, fixes, facts, error } };
}

/**
 * The version of @onnxvae/node: its package.json is three folders above src/cli/commands/ and dist/cli/commands/
 * (not where a bundle of this module is: then 'unknown').
 */
function onnxvaeVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      name?: unknown;
      version?: unknown;
    };
    return pkg.name === '@onnxvae/node' ? String(pkg.version) : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Starts each provider and gathers why the others do not start; what `onnxvae doctor` prints. */
export async function diagnose(): Promise<DoctorReport> {
  const cuda = cudaFacts();
  const vulkan = vulkanFacts();
  const cpuError = await tryStart('cpu');
  const cores = cpus().length;
  const cpu: ProviderDiagnosis = {
    provider: 'cpu',
    available: cpuError === undefined,
    reason: cpuError === undefined ? `always starts (${cores} cores)` : `did not start (${cpuError})`,
    fixes: cpuError === undefined ? [] : ['reinstall onnxruntime-node (npm install): its CPU provider is part of the package'],
    facts: [],
    ...(cpuError ? { error: cpuError } : {}),
  };
  const cudaD = diagnoseCuda(cuda, await tryStart('cuda'));
  const { d: webgpuD, tried } = diagnoseWebgpu(vulkan, cuda, await tryStart('webgpu'));
  const auto = await createNodeRuntime({ provider: 'auto' });
  return {
    versions: {
      onnxvae: onnxvaeVersion(),
      onnxruntimeNode: ortVersion(),
      node: process.version,
      platform: process.platform,
      arch: process.arch,
    },
    cpu: { model: cpus()[0]?.model.trim() ?? 'unknown', cores },
    providers: [cpu, cudaD, webgpuD],
    auto: { provider: auto.provider, notes: auto.notes },
    cuda,
    vulkan: { ...vulkan, ...(tried ? { tried } : {}) },
  };
}

/** The report as text: one line per provider, then its fixes and the facts behind it. */
export function formatDiagnosis(r: DoctorReport): string {
  const v = r.versions;
  const lines = [
    `onnxvae ${v.onnxvae}, onnxruntime-node ${v.onnxruntimeNode}, node ${v.node}, ${v.platform} ${v.arch}, ${r.cpu.cores} × ${r.cpu.model}`,
    '',
  ];
  for (const p of r.providers) {
    lines.push(`${p.provider.padEnd(7)} ${(p.available ? 'ok' : 'unavailable').padEnd(12)} ${p.reason}`);
    for (const f of p.fixes) lines.push(`${' '.repeat(21)}fix: ${f}`);
    for (const f of p.facts) lines.push(`${' '.repeat(21)}· ${f}`);
  }
  lines.push('', `--provider auto picks ${r.auto.provider} (${r.auto.notes.join('; ')})`);
  return `${lines.join('\n')}\n`;
}

async function run({ v, out }: CommandContext): Promise<number> {
  const report = await diagnose();
  out(v.json ? `${JSON.stringify(report, null, 2)}\n` : formatDiagnosis(report));
  return 0;
}

export const doctorCommand: Command = {
  summary: 'which providers (cpu, cuda, webgpu) start here, and why not',
  usage: 'onnxvae doctor [--json]',
  help: `Starts each execution provider as train --provider P would, and says which start on this machine and why the
others do not, with the fix for each: CUDA (onnxruntime-node's CUDA provider library, the CUDA 12 and cuDNN 9
libraries, the NVIDIA driver and nvidia-smi), WebGPU (the Vulkan loader libvulkan.so.1, the Vulkan drivers it sees
through VK_DRIVER_FILES / VK_ICD_FILENAMES or its folders, and whether the adapter is a GPU or a software one such
as SwiftShader or llvmpipe), CPU (always). Exit status 0: it is a report.

  --json                the whole report as JSON (providers, the auto choice, the CUDA and Vulkan facts)`,
  run,
};

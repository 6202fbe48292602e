/**
 * What this machine offers each execution provider, found without starting one: onnxruntime-node's CUDA provider
 * library and the CUDA libraries it loads, the NVIDIA driver (nvidia-smi), and what Dawn (onnxruntime-node's WebGPU
 * provider) needs, the Vulkan loader libvulkan.so.1 and a Vulkan driver (an ICD), hardware or software.
 * session.ts picks providers with these; `onnxvae doctor` and bench/gpu.mjs report them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The smallest valid ONNX model (Identity on a float [1]), used to probe a provider. */
export const PROBE_MODEL_BASE64 =
  'CAgSB29ubnh2YWU6RQoaCgF4EgF5GghJZGVudGl0eSIISWRlbnRpdHkSBXByb2JlWg8KAXgSCgoICAESBAoCCAFiDwoBeRIKCggIARIECgIIAUIECgAQEg==';

/** Resolves onnxruntime-node from here (named so that a bundle's own `require` shim is left alone). */
const resolveHere = createRequire(import.meta.url);

/** Where onnxruntime-node keeps its native libraries (the CUDA provider is downloaded there at install time). */
export function ortBinaryDir(): string {
  return join(dirname(resolveHere.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/** The version of the installed onnxruntime-node. */
export function ortVersion(): string {
  const pkg = JSON.parse(readFileSync(resolveHere.resolve('onnxruntime-node/package.json'), 'utf8')) as { version?: unknown };
  return String(pkg.version);
}

/** The CUDA provider library if onnxruntime-node's install put it there, else undefined. */
export function cudaProviderLibrary(): string | undefined {
  const lib = join(ortBinaryDir(), process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so');
  return existsSync(lib) ? lib : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Shared libraries: where the dynamic loader would find one, and whether it loads.

/** One shared library: where it was found (LD_LIBRARY_PATH, the ldconfig cache, the system folders) and whether it loads. */
export interface LibraryCheck {
  name: string;
  path?: string;
  loads: boolean;
  /** The loader's message when it does not load ("cannot open shared object file", a missing dependency, …). */
  error?: string;
}

let ldCache: { name: string; path: string }[] | undefined;

/** The ldconfig cache (`ldconfig -p`): the libraries the dynamic loader finds without LD_LIBRARY_PATH. */
function ldconfigEntries(): { name: string; path: string }[] {
  if (ldCache) return ldCache;
  ldCache = [];
  if (process.platform !== 'linux') return ldCache;
  for (const bin of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    const r = spawnSync(bin, ['-p'], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0 || !r.stdout) continue;
    const arch = process.arch === 'x64' ? 'x86-64' : process.arch === 'arm64' ? 'AArch64' : '';
    for (const line of r.stdout.split('\n')) {
      const m = /^\s+(\S+) \(([^)]*)\) => (\S+)/.exec(line);
      if (m && (!arch || m[2].includes(arch))) ldCache.push({ name: m[1], path: m[3] });
    }
    break;
  }
  return ldCache;
}

const SYSTEM_LIB_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib'];

function ldLibraryPath(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
}

/** Where the dynamic loader would find a library by its soname (LD_LIBRARY_PATH first, as ld.so searches), or undefined. */
export function findLibrary(soname: string): string | undefined {
  for (const d of ldLibraryPath()) if (existsSync(join(d, soname))) return join(d, soname);
  const cached = ldconfigEntries().find((e) => e.name === soname);
  if (cached) return cached.path;
  for (const d of SYSTEM_LIB_DIRS) if (existsSync(join(d, soname))) return join(d, soname);
  return undefined;
}

/**
 * Whether a shared library loads into this process, as dlopen sees it (LD_LIBRARY_PATH as it was when the process
 * started, the ldconfig cache, RUNPATHs). process.dlopen loads it and then looks for a Node addon in it: "did not
 * self-register" means the library itself loaded.
 */
export function loadLibrary(nameOrPath: string): { loads: boolean; error?: string } {
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, nameOrPath);
    return { loads: true };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (/did not self-register/.test(message)) return { loads: true };
    return { loads: false, error: message.split('\n')[0] };
  }
}

export function checkLibrary(soname: string): LibraryCheck {
  return { name: soname, path: findLibrary(soname), ...loadLibrary(soname) };
}

/** The libraries `ldd` cannot find for a shared library (ldd resolves them as the loader would), or undefined without ldd. */
export function lddMissing(lib: string): string[] | undefined {
  const r = spawnSync('ldd', [lib], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout
    .split('\n')
    .map((l) => /^\s*(\S+) => not found/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

// ---------------------------------------------------------------------------------------------------------------
// NVIDIA driver and CUDA.

export interface NvidiaGpu {
  name: string;
  memoryMiB?: number;
  computeCapability?: string;
  /** The architecture of that compute capability (hopper for 9.0, …). */
  architecture?: string;
}

export interface NvidiaSmi {
  /** nvidia-smi ran. */
  found: boolean;
  /** Its plain output (the table with the driver and CUDA versions). */
  output?: string;
  /** Why it did not run, or what it said when it failed. */
  error?: string;
  driver?: string;
  /** The newest CUDA version the driver supports. */
  cuda?: string;
  gpus: NvidiaGpu[];
}

/** NVIDIA's architecture names by compute capability (major.minor). */
export function nvidiaArchitecture(computeCapability: string): string | undefined {
  const [major, minor] = computeCapability.split('.').map(Number);
  if (major === 3) return 'kepler';
  if (major === 5) return 'maxwell';
  if (major === 6) return 'pascal';
  if (major === 7) return minor >= 5 ? 'turing' : 'volta';
  if (major === 8) return minor === 9 ? 'lovelace' : 'ampere';
  if (major === 9) return 'hopper';
  if (major === 10 || major === 12) return 'blackwell';
  return undefined;
}

/** Runs nvidia-smi: its table (driver, CUDA version) and each GPU's name, memory and compute capability. */
export function nvidiaSmi(): NvidiaSmi {
  const r = spawnSync('nvidia-smi', [], { encoding: 'utf8', timeout: 20_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    return { found: false, error: code === 'ENOENT' ? 'nvidia-smi is not on PATH' : r.error.message, gpus: [] };
  }
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trimEnd();
  if (r.status !== 0) return { found: true, output, error: output.split('\n')[0] || `exit status ${r.status}`, gpus: [] };
  const driver = /Driver Version:\s*([\d.]+)/.exec(output)?.[1];
  const cuda = /CUDA Version:\s*([\d.]+)/.exec(output)?.[1];
  const gpus: NvidiaGpu[] = [];
  // compute_cap is a query field of newer drivers (≥ 510); older ones reject it, so ask again without it.
  for (const fields of ['name,memory.total,compute_cap', 'name,memory.total']) {
    const q = spawnSync('nvidia-smi', [`--query-gpu=${fields}`, '--format=csv,noheader,nounits'], { encoding: 'utf8', timeout: 20_000 });
    if (q.status !== 0 || !q.stdout) continue;
    for (const line of q.stdout.trim().split('\n')) {
      const [name, mem, cc] = line.split(',').map((s) => s.trim());
      const memoryMiB = Number(mem);
      gpus.push({
        name,
        ...(Number.isFinite(memoryMiB) ? { memoryMiB } : {}),
        ...(cc ? { computeCapability: cc, architecture: nvidiaArchitecture(cc) } : {}),
      });
    }
    break;
  }
  return { found: true, output, driver, cuda, gpus };
}

/**
 * What onnxruntime-node 1.30's CUDA provider (built for CUDA 12 and cuDNN 9) loads besides the driver's libcuda.so.1.
 * Where the provider library is installed, `ldd` on it names what is missing exactly; this list serves where it is not.
 */
export const CUDA_LIBRARIES = [
  'libcudart.so.12',
  'libcublas.so.12',
  'libcublasLt.so.12',
  'libcufft.so.11',
  'libcurand.so.10',
  'libcudnn.so.9',
];

export interface CudaFacts {
  /** onnxruntime-node's libonnxruntime_providers_cuda.so, if installed. */
  providerLibrary?: string;
  /** The folder where the install puts it. */
  providerDir: string;
  /** The provider library's dependencies that `ldd` cannot find (when it is installed). */
  providerMissing?: string[];
  /** The NVIDIA driver's CUDA library. */
  driver: LibraryCheck;
  libraries: LibraryCheck[];
  /** CUDA or cuDNN runtimes of other major versions than the provider needs (e.g. libcudart.so.13). */
  otherVersions: string[];
  nvidiaSmi: NvidiaSmi;
}

/** Runtimes of another major version than the provider's, found by name in the ldconfig cache and LD_LIBRARY_PATH. */
function otherCudaVersions(): string[] {
  const found = new Map<string, string>();
  for (const e of ldconfigEntries()) found.set(e.name, e.path);
  for (const d of ldLibraryPath()) {
    let names: string[] = [];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) if (!found.has(n)) found.set(n, join(d, n));
  }
  const res: string[] = [];
  for (const [name, path] of found) {
    const m = /^(libcudart|libcublas|libcudnn)\.so\.(\d+)$/.exec(name);
    if (!m) continue;
    const want = CUDA_LIBRARIES.find((l) => l.startsWith(`${m[1]}.so.`));
    if (want && want !== name) res.push(`${name} (${path})`);
  }
  return res.sort();
}

export function cudaFacts(): CudaFacts {
  const providerLibrary = cudaProviderLibrary();
  return {
    providerLibrary,
    providerDir: ortBinaryDir(),
    ...(providerLibrary ? { providerMissing: lddMissing(providerLibrary) } : {}),
    driver: checkLibrary('libcuda.so.1'),
    libraries: CUDA_LIBRARIES.map(checkLibrary),
    otherVersions: otherCudaVersions(),
    nvidiaSmi: nvidiaSmi(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Vulkan: the loader and the drivers (ICDs) it would use.

export type VulkanDriver = 'swiftshader' | 'lavapipe' | 'nvidia' | 'amd' | 'intel' | 'other';

/** One Vulkan driver manifest (an ICD JSON file) and the library it names. */
export interface VulkanIcd {
  file: string;
  /** The manifest's library_path as written. */
  library?: string;
  /** Where that library is (a soname is looked up like any library); undefined if not found. */
  libraryPath?: string;
  driver: VulkanDriver;
  /** SwiftShader and lavapipe (llvmpipe) run on the CPU. */
  software: boolean;
  /** The manifest could not be read. */
  error?: string;
}

export interface VulkanFacts {
  /** The variables that choose drivers, as set. */
  env: Record<string, string>;
  /** The Vulkan loader Dawn opens. */
  loader: LibraryCheck;
  /** The drivers the loader will use: those the variables name, else those in its search folders. */
  icds: VulkanIcd[];
  /** The folders searched, in the loader's order (or the variable the drivers came from). */
  searched: string[];
  /** Drivers found in known places the loader does not search (an NVIDIA image's own folder, Chromium's SwiftShader). */
  unused: VulkanIcd[];
}

/** Places that hold Vulkan drivers the loader does not search by itself. */
export const EXTRA_ICD_PLACES = ['/usr/local/nvidia/share/vulkan/icd.d', '/usr/lib/chromium/vk_swiftshader_icd.json'];

/** The loader's search folders on Linux (XDG config dirs, /etc, the XDG data home and dirs), as the Vulkan loader documents. */
export function icdSearchDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const config = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter(Boolean);
  const dataHome = env.XDG_DATA_HOME || (env.HOME ? join(env.HOME, '.local', 'share') : undefined);
  const data = (env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':').filter(Boolean);
  const dirs = [...config.map((d) => join(d, 'vulkan', 'icd.d')), '/etc/vulkan/icd.d'];
  if (dataHome) dirs.push(join(dataHome, 'vulkan', 'icd.d'));
  dirs.push(...data.map((d) => join(d, 'vulkan', 'icd.d')));
  return [...new Set(dirs)];
}

function classify(text: string): { driver: VulkanDriver; software: boolean } {
  if (/swiftshader/i.test(text)) return { driver: 'swiftshader', software: true };
  if (/lvp|lavapipe/i.test(text)) return { driver: 'lavapipe', software: true };
  if (/nvidia/i.test(text)) return { driver: 'nvidia', software: false };
  if (/radeon|amd/i.test(text)) return { driver: 'amd', software: false };
  if (/intel/i.test(text)) return { driver: 'intel', software: false };
  return { driver: 'other', software: false };
}

/** Reads one ICD manifest: the library it names, where that is, and what kind of driver it is. */
export function readIcd(file: string): VulkanIcd {
  let library: string | undefined;
  let error: string | undefined;
  try {
    const j = JSON.parse(readFileSync(file, 'utf8')) as { ICD?: { library_path?: unknown } };
    if (typeof j.ICD?.library_path === 'string') library = j.ICD.library_path;
    else error = 'no ICD.library_path';
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  let libraryPath: string | undefined;
  if (library !== undefined) {
    // A path with a slash is relative to the manifest's folder; a bare name is looked up like any library.
    if (library.includes('/')) {
      const p = isAbsolute(library) ? library : resolve(dirname(file), library);
      libraryPath = existsSync(p) ? p : undefined;
    } else libraryPath = findLibrary(library);
  }
  return { file, library, libraryPath, ...classify(`${basename(file)} ${library ?? ''}`), ...(error ? { error } : {}) };
}

/** The ICD manifests in a folder, or the file itself. */
function icdFiles(path: string): string[] {
  try {
    if (statSync(path).isDirectory())
      return readdirSync(path)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => join(path, f));
    return [path];
  } catch {
    return [];
  }
}

const DRIVER_VARIABLES = ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES', 'VK_ADD_DRIVER_FILES'];

/** The drivers the Vulkan loader would use in this environment: VK_DRIVER_FILES, else VK_ICD_FILENAMES, else its folders. */
export function visibleIcds(env: NodeJS.ProcessEnv = process.env): { icds: VulkanIcd[]; searched: string[] } {
  const named = env.VK_DRIVER_FILES ? 'VK_DRIVER_FILES' : env.VK_ICD_FILENAMES ? 'VK_ICD_FILENAMES' : undefined;
  const searched = named ? [`$${named}`] : icdSearchDirs(env);
  const files = named ? (env[named] as string).split(':').filter(Boolean).flatMap(icdFiles) : searched.flatMap(icdFiles);
  if (env.VK_ADD_DRIVER_FILES) files.push(...env.VK_ADD_DRIVER_FILES.split(':').filter(Boolean).flatMap(icdFiles));
  return { icds: [...new Set(files)].map(readIcd), searched };
}

/** The Vulkan loader (loaded to see that it loads) and the drivers it would use, and drivers in places it does not look. */
export function vulkanFacts(env: NodeJS.ProcessEnv = process.env): VulkanFacts {
  const { icds, searched } = visibleIcds(env);
  const seen = new Set(icds.map((i) => resolve(i.file)));
  const unused = [...EXTRA_ICD_PLACES, ...(searched[0]?.startsWith('$') ? icdSearchDirs(env) : [])]
    .flatMap(icdFiles)
    .filter((f) => !seen.has(resolve(f)))
    .map(readIcd);
  const set = Object.fromEntries(DRIVER_VARIABLES.filter((k) => env[k]).map((k) => [k, env[k] as string]));
  return { env: set, loader: checkLibrary('libvulkan.so.1'), icds, searched, unused };
}

/** A Vulkan driver other than a software one (SwiftShader, lavapipe) is visible: a GPU that auto may pick for WebGPU. */
export function hardwareVulkan(): boolean {
  return visibleIcds().icds.some((i) => !i.software && !i.error);
}

// ---------------------------------------------------------------------------------------------------------------
// The WebGPU adapter.

/** The adapter Dawn gets, as far as it can be told from outside: ORT does not expose Dawn's adapter info to JavaScript. */
export interface AdapterInfo {
  name: string;
  vendor: string;
  architecture: string;
  /** A CPU implementation of Vulkan (SwiftShader, llvmpipe): real WebGPU, slower than the CPU provider. */
  software: boolean;
  driver: VulkanDriver | 'unknown';
  /** The ICD manifest of the driver that gave the adapter. */
  icd?: string;
  /** Where these facts come from. */
  source: string;
}

/** The adapter a Vulkan driver gives Dawn: SwiftShader's and llvmpipe's names as browsers report them, an NVIDIA GPU's from nvidia-smi. */
export function adapterOf(icd: VulkanIcd | undefined, smi?: NvidiaSmi): AdapterInfo {
  const base = { icd: icd?.file, source: icd ? `the Vulkan driver ${icd.file}` : 'unknown: no Vulkan driver found where the loader looks' };
  switch (icd?.driver) {
    case 'swiftshader':
      return {
        ...base,
        name: 'SwiftShader Device (Subzero)',
        vendor: 'google',
        architecture: 'swiftshader',
        software: true,
        driver: 'swiftshader',
      };
    case 'lavapipe':
      return { ...base, name: 'llvmpipe (lavapipe)', vendor: 'mesa', architecture: 'llvmpipe', software: true, driver: 'lavapipe' };
    case 'nvidia': {
      const gpu = smi?.gpus[0];
      return {
        ...base,
        name: gpu?.name ?? 'NVIDIA GPU',
        vendor: 'nvidia',
        architecture: gpu?.architecture ?? 'unknown',
        software: false,
        driver: 'nvidia',
        source: `${base.source}${gpu ? '; name and architecture from nvidia-smi' : ''}`,
      };
    }
    case 'amd':
    case 'intel':
    case 'other':
      return { ...base, name: `${icd.driver} GPU`, vendor: icd.driver, architecture: 'unknown', software: false, driver: icd.driver };
    default:
      return { ...base, name: 'unknown', vendor: 'unknown', architecture: 'unknown', software: false, driver: 'unknown' };
  }
}

/**
 * Starts onnxruntime-node's WebGPU provider in a child process with the given environment (Dawn reads the Vulkan
 * variables once per process, and ld.so reads LD_LIBRARY_PATH at start): whether an adapter was found, or ORT's error.
 */
export function startWebgpuIn(env: NodeJS.ProcessEnv, timeoutMs = 60_000): { started: boolean; error?: string } {
  const ortUrl = pathToFileURL(resolveHere.resolve('onnxruntime-node')).href;
  const code = `
    const m = await import(${JSON.stringify(ortUrl)});
    const ort = m.default ?? m;
    ort.env.logLevel = 'fatal';
    try {
      const s = await ort.InferenceSession.create(Buffer.from(${JSON.stringify(PROBE_MODEL_BASE64)}, 'base64'), { executionProviders: ['webgpu'], logSeverityLevel: 4 });
      await s.release();
      console.log(JSON.stringify({ started: true }));
    } catch (e) {
      console.log(JSON.stringify({ started: false, error: String(e && e.message || e).split('\\n')[0] }));
    }
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env, encoding: 'utf8', timeout: timeoutMs });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as { started: boolean; error?: string };
  } catch {
    const why = r.error ? r.error.message : `exit status ${r.status ?? r.signal}`;
    return { started: false, error: `the probe process failed (${why}): ${(r.stderr ?? '').trim().split('\n').slice(-1)[0] ?? ''}` };
  }
}

/**
 * Which of the visible drivers gives Dawn an adapter, each tried alone in a child process, and the one Dawn uses when
 * several do: it asks for a high-performance adapter, so a GPU before a software one.
 */
export function webgpuDrivers(
  facts: VulkanFacts,
  env: NodeJS.ProcessEnv = process.env,
): { icd: VulkanIcd; started: boolean; error?: string }[] {
  return facts.icds.map((icd) => {
    const one: NodeJS.ProcessEnv = { ...env, VK_DRIVER_FILES: icd.file, VK_ICD_FILENAMES: icd.file };
    delete one.VK_ADD_DRIVER_FILES;
    return { icd, ...startWebgpuIn(one) };
  });
}

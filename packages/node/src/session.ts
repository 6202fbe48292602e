/**
 * onnxruntime-node sessions on CPU, CUDA or WebGPU. `auto` tries CUDA, then a hardware WebGPU adapter, then CPU,
 * and says which one runs and why the others were skipped.
 */
import type { Runtime, SessionFactory, SessionOptions } from '@onnxvae/core';
import * as ort from 'onnxruntime-node';
import { cudaProviderLibrary, hardwareVulkan, PROBE_MODEL_BASE64 } from './probe.js';

// The machine's facts (CUDA libraries, Vulkan drivers) live in probe.ts; these stay importable from here.
export { cudaProviderLibrary, hardwareVulkan, ortBinaryDir } from './probe.js';

export type Provider = 'cpu' | 'cuda' | 'webgpu';
export type ProviderChoice = Provider | 'auto';
export const PROVIDERS: readonly ProviderChoice[] = ['auto', 'cpu', 'cuda', 'webgpu'];

export interface NodeSessionOptions {
  provider?: ProviderChoice;
  /** Intra-op threads for the CPU provider (default: ORT's choice, all cores). */
  threads?: number;
  /** Keep outputs on the device between runs where the provider supports it. */
  graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

/** core's Runtime on onnxruntime-node: its full module (env, …) and one of its providers. */
export interface NodeRuntime extends Runtime<Provider> {
  readonly ort: typeof ort;
}

export class ProviderError extends Error {
  override name = 'ProviderError';
}

/** The smallest valid ONNX model (Identity on a float [1]), used to probe a provider. */
const PROBE_MODEL = Uint8Array.from(Buffer.from(PROBE_MODEL_BASE64, 'base64'));

export const CUDA_HELP =
  'the CUDA execution provider is not installed: onnxruntime-node skips its CUDA download here (.npmrc sets onnxruntime-node-install=skip). ' +
  'On a machine with an NVIDIA GPU and internet access run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci` (CUDA 12 and cuDNN 9 must be installed), or use --provider cpu';

/**
 * ORT's own log threshold (its C++ logger prints to stderr, e.g. an expected CUDA probe failure). It takes effect
 * only before the first session is created: ORT sets its logger up once per process.
 */
export function setOrtLogLevel(level: 'verbose' | 'info' | 'warning' | 'error' | 'fatal'): void {
  ort.env.logLevel = level;
}

function sessionOptions(provider: Provider, opts: NodeSessionOptions): ort.InferenceSession.SessionOptions {
  const o: ort.InferenceSession.SessionOptions = {
    executionProviders: provider === 'cpu' ? ['cpu'] : [provider],
    graphOptimizationLevel: opts.graphOptimization ?? 'all',
  };
  if (opts.threads !== undefined) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1)
      throw new ProviderError(`threads must be a positive integer, got ${opts.threads}`);
    o.intraOpNumThreads = opts.threads;
  }
  return o;
}

/** A caller's SessionOptions over the runtime's own: outputs kept on a WebGPU device stay there as gpu-buffer tensors. */
function withSessionOptions(
  provider: Provider,
  so: ort.InferenceSession.SessionOptions,
  extra: SessionOptions | undefined,
): ort.InferenceSession.SessionOptions {
  const keep = extra?.outputsOnDevice;
  if (!keep?.length || provider !== 'webgpu') return so;
  return { ...so, preferredOutputLocation: Object.fromEntries(keep.map((n) => [n, 'gpu-buffer' as const])) };
}

/** Why a provider failed, and what to do about it, from ORT's error message and what is installed. */
export function explainProviderFailure(provider: Provider, message: string, cudaLibrary = cudaProviderLibrary()): string {
  const first = message.split('\n')[0];
  if (provider === 'cuda') {
    if (!/Failed to load shared library|libonnxruntime_providers_cuda|not (found|supported|available)|cuda/i.test(message)) return first;
    if (!cudaLibrary) return CUDA_HELP;
    return (
      `the CUDA provider library ${cudaLibrary} is installed but did not load (${first}): CUDA 12 and cuDNN 9 must be on the library ` +
      'path (LD_LIBRARY_PATH) and an NVIDIA driver present; `ldd` on that file names what is missing. Or use --provider cpu'
    );
  }
  if (provider === 'webgpu') {
    return (
      `no WebGPU adapter (${first}); WebGPU in Node needs the Vulkan loader (libvulkan.so.1) and a Vulkan driver. ` +
      "Without a GPU, Debian's chromium ships both: set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json and " +
      'LD_LIBRARY_PATH=/usr/lib/chromium (or install libvulkan1) for its software adapter'
    );
  }
  return first;
}

function explain(provider: Provider, e: unknown): string {
  return explainProviderFailure(provider, e instanceof Error ? e.message : String(e));
}

async function probe(provider: Provider, opts: NodeSessionOptions): Promise<string | undefined> {
  try {
    // Fatal-only logging: a failed probe is expected and explained, not an error to print.
    const s = await ort.InferenceSession.create(PROBE_MODEL, { ...sessionOptions(provider, opts), logSeverityLevel: 4 });
    await s.release();
    return undefined;
  } catch (e) {
    return explain(provider, e);
  }
}

/** Picks and checks a provider; errors say what to install or which flag to change. */
export async function createNodeRuntime(opts: NodeSessionOptions = {}): Promise<NodeRuntime> {
  const choice = opts.provider ?? 'auto';
  if (!PROVIDERS.includes(choice)) throw new ProviderError(`unknown provider '${choice}' (choose one of ${PROVIDERS.join(', ')})`);
  const notes: string[] = [];
  let provider: Provider | undefined;
  if (choice !== 'auto') {
    const why = await probe(choice, opts);
    if (why) throw new ProviderError(`provider ${choice} is not available: ${why}`);
    provider = choice;
    notes.push(`${choice}: requested`);
  } else {
    const cudaWhy = await probe('cuda', opts);
    if (!cudaWhy) {
      provider = 'cuda';
      notes.push('cuda: available');
    } else {
      notes.push(`cuda: skipped (${cudaWhy})`);
      if (!hardwareVulkan()) notes.push('webgpu: skipped (no hardware Vulkan driver; a software adapter would be slower than the CPU)');
      else {
        const wgWhy = await probe('webgpu', opts);
        if (!wgWhy) {
          provider = 'webgpu';
          notes.push('webgpu: available');
        } else notes.push(`webgpu: skipped (${wgWhy})`);
      }
      if (!provider) {
        provider = 'cpu';
        notes.push('cpu: used');
      }
    }
  }
  const so = sessionOptions(provider, opts);
  const createSession: SessionFactory = async (model, name, extra?: SessionOptions) => {
    try {
      return await ort.InferenceSession.create(model, withSessionOptions(provider as Provider, so, extra));
    } catch (e) {
      throw new ProviderError(`cannot load ${name} on ${provider}: ${explain(provider as Provider, e)}`);
    }
  };
  return { provider, notes, createSession, ort };
}

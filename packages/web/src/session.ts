/** onnxruntime-web sessions: WebGPU preferred, WASM fallback, saying which one runs and why. */
import type { Runtime, SessionFactory } from '@onnxvae/core';
import * as ort from 'onnxruntime-web';

export type WebProvider = 'webgpu' | 'wasm';

/** core's Runtime on onnxruntime-web: its full module (env, …) and WebGPU or WASM. */
export interface WebRuntime extends Runtime<WebProvider> {
  readonly ort: typeof ort;
}

/** Picks WebGPU when the browser exposes an adapter, else WASM; `prefer` forces one. */
export async function createWebRuntime(opts: { prefer?: WebProvider | 'auto' } = {}): Promise<WebRuntime> {
  const notes: string[] = [];
  let provider: WebProvider = 'wasm';
  const want = opts.prefer ?? 'auto';
  if (want !== 'wasm') {
    type Adapter = { info?: { vendor?: string; architecture?: string } };
    const gpu = (globalThis.navigator as (Navigator & { gpu?: { requestAdapter(): Promise<Adapter | null> } }) | undefined)?.gpu;
    const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
    if (adapter) {
      provider = 'webgpu';
      const name = [adapter.info?.vendor, adapter.info?.architecture].filter((s) => s).join(' ') || 'unnamed';
      // SwiftShader (Chromium's CPU Vulkan) and Mesa's llvmpipe/lavapipe run WebGPU on the CPU: correct but slow.
      const soft = /swiftshader|llvmpipe|lavapipe/i.test(name) ? ', a software adapter: correct but slow' : '';
      notes.push(`webgpu: adapter found (${name}${soft})`);
    } else {
      const why = gpu ? 'navigator.gpu gave no adapter' : 'this browser has no navigator.gpu';
      if (want === 'webgpu') throw new Error(`WebGPU is not available: ${why}`);
      notes.push(`webgpu: skipped (${why}); using wasm`);
    }
  } else notes.push('wasm: requested');
  return { provider, notes, createSession: webSessionFactory(ort, provider), ort };
}

/**
 * The session factory of a WebRuntime on `provider`: outputs asked to stay on the device become gpu-buffer tensors
 * on WebGPU (the parameters a fine-tuner feeds back in), and errors name the file and the provider.
 */
function webSessionFactory(module: Pick<typeof ort, 'InferenceSession'>, provider: WebProvider): SessionFactory {
  return (model, name, options) => {
    const keep = provider === 'webgpu' ? (options?.outputsOnDevice ?? []) : [];
    const so: ort.InferenceSession.SessionOptions = { executionProviders: [provider] };
    if (keep.length) so.preferredOutputLocation = Object.fromEntries(keep.map((n) => [n, 'gpu-buffer' as const]));
    return module.InferenceSession.create(model, so).catch((e: Error) => {
      throw new Error(`cannot load ${name} on ${provider}: ${e.message}`);
    });
  };
}

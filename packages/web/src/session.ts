/** onnxruntime-web sessions: WebGPU preferred, WASM fallback, saying which one runs and why. */
import type { SessionFactory } from '@onnxvae/core';
import * as ort from 'onnxruntime-web';

export type WebProvider = 'webgpu' | 'wasm';

export interface WebRuntime {
  provider: WebProvider;
  notes: string[];
  createSession: SessionFactory;
  ort: typeof ort;
}

/** Picks WebGPU when the browser exposes an adapter, else WASM; `prefer` forces one. */
export async function createWebRuntime(opts: { prefer?: WebProvider | 'auto' } = {}): Promise<WebRuntime> {
  const notes: string[] = [];
  let provider: WebProvider = 'wasm';
  const want = opts.prefer ?? 'auto';
  if (want !== 'wasm') {
    const gpu = (globalThis.navigator as (Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }) | undefined)?.gpu;
    const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
    if (adapter) {
      provider = 'webgpu';
      notes.push('webgpu: adapter found');
    } else {
      const why = gpu ? 'navigator.gpu gave no adapter' : 'this browser has no navigator.gpu';
      if (want === 'webgpu') throw new Error(`WebGPU is not available: ${why}`);
      notes.push(`webgpu: skipped (${why}); using wasm`);
    }
  } else notes.push('wasm: requested');
  const createSession: SessionFactory = (model, name) =>
    ort.InferenceSession.create(model, { executionProviders: [provider] }).catch((e: Error) => {
      throw new Error(`cannot load ${name} on ${provider}: ${e.message}`);
    });
  return { provider, notes, createSession, ort };
}

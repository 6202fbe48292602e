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
  const createSession: SessionFactory = (model, name) =>
    ort.InferenceSession.create(model, { executionProviders: [provider] }).catch((e: Error) => {
      throw new Error(`cannot load ${name} on ${provider}: ${e.message}`);
    });
  return { provider, notes, createSession, ort };
}

import { Graph, serializeModel } from '@onnxvae/core';
import { describe, expect, it } from 'vitest';
import {
  CUDA_HELP,
  createNodeRuntime,
  cudaProviderLibrary,
  explainProviderFailure,
  hardwareVulkan,
  ProviderError,
  setOrtLogLevel,
} from './session.js';

// Probing a missing CUDA provider makes ORT log an error line of its own; the messages tested here explain it instead.
setOrtLogLevel('fatal');

/** A machine like CI: no CUDA provider library installed and no GPU Vulkan driver. */
const plainMachine = !cudaProviderLibrary() && !hardwareVulkan();

describe('createNodeRuntime', () => {
  it.skipIf(!plainMachine)('auto falls back to cpu here and says why cuda and webgpu were skipped', async () => {
    const rt = await createNodeRuntime({ provider: 'auto' });
    expect(rt.provider).toBe('cpu');
    expect(rt.notes).toHaveLength(3);
    expect(rt.notes[0]).toBe(`cuda: skipped (${CUDA_HELP})`);
    expect(rt.notes[1]).toMatch(/^webgpu: skipped \(no hardware Vulkan driver/);
    expect(rt.notes[2]).toBe('cpu: used');
  });

  it('cpu sessions run a model, with a thread count', async () => {
    const rt = await createNodeRuntime({ provider: 'cpu', threads: 1 });
    expect(rt.notes).toEqual(['cpu: requested']);
    const g = new Graph('neg');
    g.output(g.Neg(g.input('x', 'float32', [2])), 'y');
    const s = await rt.createSession(serializeModel(g), 'neg.onnx');
    const out = await s.run({ x: new rt.ort.Tensor('float32', Float32Array.of(1, -2), [2]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual([-1, 2]);
  });

  it.skipIf(cudaProviderLibrary() !== undefined)('cuda without its libraries explains how to install them', async () => {
    const e = await createNodeRuntime({ provider: 'cuda' }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ProviderError);
    expect((e as Error).message).toMatch(/^provider cuda is not available: .*ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci/);
  });

  it('rejects unknown providers and bad thread counts, naming them', async () => {
    await expect(createNodeRuntime({ provider: 'tpu' as 'cpu' })).rejects.toThrow(
      /unknown provider 'tpu' \(choose one of auto, cpu, cuda, webgpu\)/,
    );
    await expect(createNodeRuntime({ provider: 'cpu', threads: 0 })).rejects.toThrow(/threads must be a positive integer, got 0/);
  });
});

describe('explainProviderFailure', () => {
  const loadFailure = 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library';

  it('cuda, provider library absent: how to install it', () => {
    expect(explainProviderFailure('cuda', loadFailure, undefined)).toBe(CUDA_HELP);
  });

  it('cuda, provider library present but not loading: the missing CUDA/cuDNN libraries, and how to find them', () => {
    const why = explainProviderFailure('cuda', loadFailure, '/x/libonnxruntime_providers_cuda.so');
    expect(why).toMatch(/\/x\/libonnxruntime_providers_cuda\.so is installed but did not load \(.*Failed to load shared library\)/);
    expect(why).toMatch(/CUDA 12 and cuDNN 9 .*LD_LIBRARY_PATH.*ldd/);
  });

  it('webgpu: the Vulkan loader and driver, and the software adapter settings', () => {
    const why = explainProviderFailure('webgpu', 'Failed to get a WebGPU adapter: No supported adapters\nmore');
    expect(why).toMatch(/^no WebGPU adapter \(Failed to get a WebGPU adapter: No supported adapters\)/);
    expect(why).toContain('VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json');
    expect(why).toContain('LD_LIBRARY_PATH=/usr/lib/chromium');
  });
});

/**
 * Errors by kind (errors.ts): a caller catches "bad model file", "bad bundle", "bad feed" and "graph/shape error" by
 * type, each from the real code path that raises it, and every one is an OnnxvaeError.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle, initialState, loadBundle } from './artifacts/bundle.js';
import { decodeSafetensors, SafetensorsError } from './artifacts/safetensors.js';
import { GradientError, gradients } from './autodiff/gradients.js';
import { BundleError, FeedError, FormatError, GraphError, OnnxvaeError } from './errors.js';
import { Graph } from './ir/graph.js';
import { ModelParseError, parseModel } from './ir/serialize.js';
import { ShapeError } from './ir/shape.js';
import { resolveConfig } from './models/config.js';
import { Sampler } from './runtime/sampler.js';
import './ops/builder.js';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

async function rejected(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e) => e,
  );
}

const cfg = resolveConfig({ inputShape: [16], hidden: [8], latent: 2 });

describe('errors by kind', () => {
  it('a bad model file is a FormatError: .onnx (ModelParseError) and .safetensors (SafetensorsError)', () => {
    const onnx = thrown(() => parseModel(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f]), 'broken.onnx'));
    expect(onnx).toBeInstanceOf(ModelParseError);
    expect(onnx).toBeInstanceOf(FormatError);
    expect(String(onnx)).toContain('broken.onnx');
    const st = thrown(() => decodeSafetensors(new Uint8Array([1, 2, 3]), 'broken.safetensors'));
    expect(st).toBeInstanceOf(SafetensorsError);
    expect(st).toBeInstanceOf(FormatError);
    expect(String(st)).toContain('broken.safetensors');
  });

  it('a bad bundle is a BundleError (not a FormatError)', async () => {
    const b = await createBundle(cfg, initialState(cfg, 0));
    const files: Record<string, Uint8Array> = { ...b.files, 'manifest.json': new TextEncoder().encode(JSON.stringify(b.manifest)) };
    files['decoder.onnx'] = new Uint8Array(files['decoder.onnx']);
    files['decoder.onnx'][100] ^= 1; // one flipped bit: the sha256 no longer matches the manifest
    const e = await rejected(loadBundle(async (f) => files[f], 'tampered'));
    expect(e).toBeInstanceOf(BundleError);
    expect(e).not.toBeInstanceOf(FormatError);
    expect(String(e)).toContain('decoder.onnx');
  });

  it('a bad feed is a FeedError: z of the wrong size for the decoder', async () => {
    const b = await createBundle(cfg, initialState(cfg, 0));
    const s = new Sampler(ort, await ort.InferenceSession.create(b.files['decoder.onnx']), undefined, { latent: 2, outputSize: 16 });
    const e = await rejected(s.decode(new Float32Array(3), 1));
    expect(e).toBeInstanceOf(FeedError);
    expect(String(e)).toContain('z has 3 values');
  });

  it('graph errors: a name used twice (GraphError), shapes that do not fit (ShapeError), a sweep that cannot start (GradientError)', () => {
    const g = new Graph('g');
    const x = g.input('x', 'float32', [2, 3]);
    const twice = thrown(() => g.input('x', 'float32', [2]));
    expect(twice).toBeInstanceOf(GraphError);
    expect(twice).not.toBeInstanceOf(ShapeError);
    const shape = thrown(() => g.MatMul(x, g.input('w', 'float32', [4, 5])));
    expect(shape).toBeInstanceOf(ShapeError);
    expect(shape).toBeInstanceOf(GraphError);
    // A loss that is not a scalar, with no seed: autodiff cannot start the sweep.
    const notScalar = thrown(() => gradients(g, g.Tanh(x), [x]));
    expect(notScalar).toBeInstanceOf(GradientError);
    expect(notScalar).toBeInstanceOf(GraphError);
  });

  it('every kind is an OnnxvaeError, and keeps its own name', () => {
    for (const E of [FormatError, BundleError, FeedError, GraphError, ModelParseError, SafetensorsError, ShapeError, GradientError]) {
      const e = new E('m');
      expect(e).toBeInstanceOf(OnnxvaeError);
      expect(e.name).toBe(E.name);
    }
  });
});

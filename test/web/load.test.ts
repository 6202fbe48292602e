/** @onnxvae/web's loaders in Node (global fetch against the demo's static server): progress, verification, errors. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain .mjs helper without type declarations
import { startServer } from '../../demo/serve.mjs';
import { type FetchProgress, fetchBundle, fetchDecoder, fetchManifest } from '../../packages/web/src/load.js';
import { WebModel } from '../../packages/web/src/model.js';
import type { WebRuntime } from '../../packages/web/src/session.js';

let server: Server;
let base = '';
ortWeb.env.wasm.numThreads = 1;

describe('web loaders', () => {
  beforeAll(async () => {
    server = await startServer(0, resolve(__dirname, '../..'));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server?.close());

  it('fetches a whole bundle with progress and verifies every file', async () => {
    const seen: FetchProgress[] = [];
    const b = await fetchBundle(`${base}/models/mnist`, (p) => seen.push(p));
    expect(b.manifest.config.latent).toBe(20);
    expect(Object.keys(b.state.params)).toContain('decoder.mlp.fc1.weight');
    const files = new Set(seen.map((p) => p.file));
    for (const f of ['train_step.onnx', 'eval.onnx', 'encoder.onnx', 'decoder.onnx', 'checkpoint.safetensors'])
      expect(files.has(f)).toBe(true);
    const last = seen.filter((p) => p.file === 'checkpoint.safetensors').pop();
    expect(last?.loaded).toBe(last?.total);
  });

  it('reports 404s by URL and status, and a decoder whose sha256 differs', async () => {
    await expect(fetchManifest(`${base}/models/missing`)).rejects.toThrow(/cannot fetch .*\/models\/missing\/manifest\.json: HTTP 404/);
    const m = await fetchManifest(`${base}/models/mnist`);
    const ok = await fetchDecoder(`${base}/models/mnist/decoder.onnx`, { sha256: m.files['decoder.onnx'].sha256 });
    expect(ok.length).toBe(m.files['decoder.onnx'].bytes);
    await expect(fetchDecoder(`${base}/models/mnist/encoder.onnx`, { sha256: m.files['decoder.onnx'].sha256 })).rejects.toThrow(
      /sha256 .* does not match/,
    );
  });

  it('a WebModel on onnxruntime-web wasm samples and reconstructs', async () => {
    const rt: WebRuntime = {
      provider: 'wasm',
      notes: [],
      ort: ortWeb,
      createSession: (bytes) => ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] }),
    };
    const model = await WebModel.load(rt, `${base}/models/mnist`);
    expect(model.imageSize).toEqual([28, 28]);
    const s = await model.sampler.sample(4, { seed: 1 });
    expect(s.x.length).toBe(4 * 784);
    const r = await model.sampler.reconstruct(s.x, 4);
    expect(r.every((v) => v >= 0 && v <= 1)).toBe(true);
  });
});

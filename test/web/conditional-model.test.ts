/**
 * A conditional bundle in WebModel on onnxruntime-web (WASM, in Node, fetched from the demo server): it loads through
 * core's openSampler with its classes and prior table, draws samples that carry their label, equal to onnxruntime-node's
 * for the same seed, and fine-tunes with labels through core's fit loop. Also: a discrete-latent bundle opens there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain .mjs helper without type declarations
import { startServer } from '../../demo/serve.mjs';
// Aliased: biome's noFocusedTests takes a bare `fit(…)` for a focused test.
import {
  createBundle,
  type FitBatch,
  fit as fitEpochs,
  initialState,
  openSampler,
  resolveConfig,
  Trainer,
} from '../../packages/core/src/index.js';
import { classMeans, nearestClassMean, synthLabeled } from '../../packages/core/src/testing/synthetic-labeled.js';
import { readBundleDir, writeBundle } from '../../packages/node/src/bundle-io.js';
import { createNodeRuntime } from '../../packages/node/src/session.js';
import { WebModel } from '../../packages/web/src/model.js';
import { createWebRuntime } from '../../packages/web/src/session.js';

ortWeb.env.wasm.numThreads = 1;

const C = 4;
const D = 24;
const cfg = resolveConfig({ inputShape: [D], hidden: [32], latent: 2, conditional: { classes: C, prior: 'learned' } });
const data = synthLabeled(256, D, C, 4);
const batches: FitBatch[] = Array.from({ length: 8 }, (_, i) => ({
  x: data.x.subarray(i * 32 * D, (i + 1) * 32 * D),
  y: data.labels.subarray(i * 32, (i + 1) * 32),
}));
const dir = mkdtempSync(join(tmpdir(), 'onnxvae-cvae-'));
let server: Server;
let base = '';

describe('a conditional bundle in WebModel (onnxruntime-web wasm)', () => {
  beforeAll(async () => {
    // Trained with core's fit on onnxruntime-node, saved as a bundle folder, served like models/.
    const node = await createNodeRuntime({ provider: 'cpu' });
    const st = initialState(cfg, 1);
    const b0 = await createBundle(cfg, st);
    const trainer = new Trainer(node.ort, await node.createSession(b0.files['train_step.onnx'], 'train_step.onnx'), b0.manifest, st, {
      lr: 1e-2,
    });
    await fitEpochs(trainer, batches, { epochs: 10 });
    writeBundle(dir, await createBundle(cfg, await trainer.snapshot()));
    server = await startServer(0, { root: resolve(__dirname, '../..'), mounts: { '/test-models/cvae/': dir } });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads with its classes, draws labelled samples equal to onnxruntime-node, and fine-tunes with labels', async () => {
    const rt = await createWebRuntime({ prefer: 'wasm' });
    const model = await WebModel.load(rt, `${base}/test-models/cvae`);
    expect(model.classes).toBe(C);
    expect(model.sampler.classes).toBe(C);
    const means = classMeans(data);
    const per = 50;
    let agree = 0;
    for (let c = 0; c < C; c++) {
      const { x } = await model.sampler.sample(per, { seed: 20 + c, label: c });
      agree += nearestClassMean(means, C, x, per).filter((p) => p === c).length;
    }
    // A decoder that ignored y would agree about 1/C = 25% of the time.
    expect(agree / (C * per)).toBeGreaterThanOrEqual(0.8);
    await expect(model.sampler.sample(2, { seed: 1 })).rejects.toThrow(/conditional \(4 classes\); pass a label/);

    // The same draws through the same seam on onnxruntime-node: same z (the prior table of the same checkpoint).
    const node = await createNodeRuntime({ provider: 'cpu' });
    const ref = await openSampler(node, await readBundleDir(dir));
    const labels = Int32Array.from({ length: 8 }, (_, i) => i % C);
    const a = await model.sampler.sample(8, { seed: 5, temperature: 0.7, label: labels });
    const r = await ref.sample(8, { seed: 5, temperature: 0.7, label: labels });
    expect(Array.from(a.z)).toEqual(Array.from(r.z));
    // Probabilities in [0, 1] through a 26-32-24 MLP: MLAS and WASM SIMD differ in summation order only (~1e-6).
    for (let i = 0; i < a.x.length; i++) expect(Math.abs(a.x[i] - r.x[i])).toBeLessThan(1e-5);
    const rec = await model.sampler.reconstruct(data.x.slice(0, 4 * D), 4, data.labels.subarray(0, 4));
    expect(rec.every((v) => v >= 0 && v <= 1)).toBe(true);

    // Fine-tuning through core's fit: labels reach train_step.onnx; the same batch's loss falls over 3 epochs.
    const tuner = await model.fineTuner({ lr: 5e-3 });
    const res = await tuner.fit(batches.slice(0, 2), { epochs: 3 });
    expect(res).toEqual({ aborted: false, epoch: 13, step: 86 });
    expect(tuner.losses.length).toBe(6);
    expect(tuner.losses[4]).toBeLessThan(tuner.losses[0]);
    // The page then decodes with the tuned weights, still conditional (the prior table rebuilt from them).
    await model.useParams((await tuner.trainer.snapshot()).params);
    const after = await model.sampler.sample(4, { seed: 5, label: 1 });
    expect(after.x.length).toBe(4 * D);
  });

  it('opens a discrete-latent bundle through the same seam', async () => {
    const cat = resolveConfig({ inputShape: [D], hidden: [16], latent: 3, latentType: 'categorical', categories: 4 });
    const st = initialState(cat, 2);
    const b = await createBundle(cat, st);
    const s = await openSampler(await createWebRuntime({ prefer: 'wasm' }), b);
    expect(s.latent).toBe(12); // 3 groups of 4 categories, one-hot
    const { z, x } = await s.sample(5, { seed: 3 });
    for (let i = 0; i < 15; i++) expect(z.subarray(i * 4, i * 4 + 4).reduce((p, v) => p + v, 0)).toBe(1);
    expect(x.length).toBe(5 * D);
    await s.release();
  });
});

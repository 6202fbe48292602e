/**
 * Conditional sampling on onnxruntime-web (WASM, in Node): a conditional VAE trained with onnxruntime-node, its bundle
 * reloaded, and "draw class c" run on the web runtime — each sample carries its label, and the pictures equal the
 * Node sampler's for the same seed.
 */
import { createBundle, initialState, loadBundle, type OrtModule, resolveConfig, Sampler, Trainer } from '@onnxvae/core';
import { conditionalPriorTable } from '@onnxvae/core/internal';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { classMeans, nearestClassMean, synthLabeled } from '../../core/src/testing/synthetic-labeled.js';
import { ConditionalSampler } from './conditional.js';
import { createWebRuntime } from './session.js';

ortWeb.env.wasm.numThreads = 1;

describe('ConditionalSampler on onnxruntime-web (wasm)', () => {
  it('draws samples that carry their label (nearest class mean ≥ 80%), equal to the Node sampler', async () => {
    const C = 4;
    const D = 24;
    const cfg = resolveConfig({ inputShape: [D], hidden: [32], latent: 2, conditional: { classes: C, prior: 'learned' } });
    const st = initialState(cfg, 1);
    const node = ortNode as unknown as OrtModule;
    const b0 = await createBundle(cfg, st);
    const trainer = new Trainer(node, await ortNode.InferenceSession.create(b0.files['train_step.onnx']), b0.manifest, st, { lr: 1e-2 });
    const data = synthLabeled(256, D, C, 4);
    for (let epoch = 0; epoch < 10; epoch++) {
      for (let i = 0; i < 256; i += 32) await trainer.trainStep(data.x.subarray(i * D, (i + 32) * D), 32, data.labels.subarray(i, i + 32));
    }
    const saved = await createBundle(cfg, await trainer.snapshot());
    const files: Record<string, Uint8Array> = { ...saved.files, 'manifest.json': new TextEncoder().encode(JSON.stringify(saved.manifest)) };
    const bundle = await loadBundle(async (f) => files[f], 'mem');

    const rt = await createWebRuntime({ prefer: 'wasm' });
    expect(rt.provider).toBe('wasm');
    const cs = await ConditionalSampler.create(rt, bundle);
    expect(cs.classes).toBe(C);
    const means = classMeans(data);
    const per = 50;
    let agree = 0;
    for (let c = 0; c < C; c++) {
      const { x } = await cs.draw(c, per, { seed: 20 + c });
      expect(x.length).toBe(per * D);
      agree += nearestClassMean(means, C, x, per).filter((p) => p === c).length;
    }
    // A decoder that ignored y would agree about 1/C = 25% of the time.
    expect(agree / (C * per)).toBeGreaterThanOrEqual(0.8);

    // The same draw on onnxruntime-node: same z (same seed), pixel means equal up to float32 kernel rounding.
    const ref = new Sampler(node, await ortNode.InferenceSession.create(bundle.files['decoder.onnx']), undefined, {
      latent: 2,
      outputSize: D,
      classes: C,
      prior: conditionalPriorTable(cfg, bundle.state.params),
    });
    const a = await cs.draw(3, 8, { seed: 5, temperature: 0.7 });
    const r = await ref.sample(8, { seed: 5, temperature: 0.7, label: 3 });
    expect(Array.from(a.z)).toEqual(Array.from(r.z));
    // Probabilities in [0, 1] through a 26-32-24 MLP: MLAS and WASM SIMD differ in summation order only (~1e-6).
    for (let i = 0; i < a.x.length; i++) expect(Math.abs(a.x[i] - r.x[i])).toBeLessThan(1e-5);

    await expect(cs.draw(C, 1)).rejects.toThrow(/label must be a class of the model, 0 to 3, got 4/);
    const plain = resolveConfig({ inputShape: [D], hidden: [8], latent: 2 });
    const ps = initialState(plain, 1);
    const pb = await createBundle(plain, ps);
    await expect(ConditionalSampler.create(rt, { ...pb, state: ps })).rejects.toThrow(/not a conditional model/);
  });
});

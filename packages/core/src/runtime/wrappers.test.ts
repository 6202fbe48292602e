/** Sampler and Evaluator over real onnxruntime-node sessions. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle, initialState } from '../artifacts/bundle.js';
import { resolveConfig } from '../models/config.js';
import { Prng } from '../random/prng.js';
import { synthBinary } from '../testing/synthetic.js';
import { Evaluator } from './evaluator.js';
import { Sampler } from './sampler.js';
import { Trainer } from './trainer.js';

const cfg = resolveConfig({ inputShape: [16], hidden: [24], latent: 3 });

async function trained() {
  const st = initialState(cfg, 5);
  const b = await createBundle(cfg, st);
  const t = new Trainer(ort, await ort.InferenceSession.create(b.files['train_step.onnx']), b.manifest, st, { lr: 5e-3 });
  const x = synthBinary(128, 16, 1);
  for (let e = 0; e < 10; e++) for (let i = 0; i < 128; i += 32) await t.trainStep(x.subarray(i * 16, (i + 32) * 16), 32);
  const snap = await t.snapshot();
  return { b: await createBundle(cfg, snap), snap };
}

describe('Sampler', () => {
  it('samples with temperature, reconstructs and interpolates', async () => {
    const { b } = await trained();
    const s = new Sampler(
      ort,
      await ort.InferenceSession.create(b.files['decoder.onnx']),
      await ort.InferenceSession.create(b.files['encoder.onnx']),
      {
        latent: 3,
        outputSize: 16,
      },
    );
    const hot = await s.sample(200, { temperature: 1, prng: new Prng(1) });
    const cold = await s.sample(200, { temperature: 0.1, prng: new Prng(1) });
    // The prior noise is scaled by T, so z's spread follows it (std ≈ 1 vs ≈ 0.1, with 600 draws).
    const sd = (z: Float32Array) => Math.sqrt(z.reduce((a, v) => a + v * v, 0) / z.length);
    expect(sd(hot.z)).toBeGreaterThan(0.85);
    expect(sd(cold.z)).toBeLessThan(0.12);
    for (const v of hot.x) expect(v >= 0 && v <= 1).toBe(true);
    // Reconstructions of training-like data are closer to their inputs than to a random other example.
    const x = synthBinary(20, 16, 1);
    const r = await s.reconstruct(x, 20);
    let own = 0;
    let other = 0;
    for (let i = 0; i < 20; i++) {
      for (let j = 0; j < 16; j++) {
        own += Math.abs(r[i * 16 + j] - x[i * 16 + j]);
        other += Math.abs(r[i * 16 + j] - x[((i + 7) % 20) * 16 + j]);
      }
    }
    expect(own).toBeLessThan(other);
    // Interpolation: endpoints decode to the endpoints' decodings; slerp keeps the norm between the two norms.
    const z0 = Float32Array.of(1, 0, 0);
    const z1 = Float32Array.of(0, 2, 0);
    const lin = await s.interpolate(z0, z1, 5);
    const d0 = await s.decode(z0, 1);
    for (let j = 0; j < 16; j++) expect(Math.abs(lin.x[j] - d0[j])).toBeLessThan(1e-6);
    const sl = await s.interpolate(z0, z1, 5, 'slerp');
    const mid = Math.hypot(sl.z[6], sl.z[7], sl.z[8]);
    expect(mid).toBeGreaterThan(1);
    expect(mid).toBeLessThan(2);
    await expect(s.decode(new Float32Array(4), 1)).rejects.toThrow(/latent size is 3/);
    await expect(s.interpolate(z0, z1, 1)).rejects.toThrow(/steps must be an integer ≥ 2/);
  });
});

describe('Evaluator', () => {
  it('K = 5000 runs in bounded chunks; chunk size changes only Monte Carlo noise', async () => {
    const { b, snap } = await trained();
    const ev = new Evaluator(ort, await ort.InferenceSession.create(b.files['eval.onnx']), b.manifest, snap.params);
    const x = synthBinary(8, 16, 3);
    const a = await ev.evaluate(x, 8, { k: 5000, chunk: 250, seed: 1 });
    const c = await ev.evaluate(x, 8, { k: 5000, chunk: 1000, seed: 2 });
    expect(a.k).toBe(5000);
    // With K = 5000 the estimator's spread is a few hundredths of a nat on this model.
    expect(Math.abs(a.iwae - c.iwae)).toBeLessThan(0.1);
    expect(a.iwae).toBeGreaterThan(a.elbo);
    await expect(ev.evaluate(x, 9)).rejects.toThrow(/expected 9 × 16/);
  });
});

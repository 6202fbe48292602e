/**
 * One bundle, two runtimes: the reference model (784-400-20-400-784, Bernoulli, Adam) is built once, trained a few
 * steps from the same state and seed on onnxruntime-node (CPU) and onnxruntime-web (WASM, in Node), saved,
 * reloaded and evaluated on both.
 */
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { createBundle, encodeCheckpoint, initialState, loadBundle } from '../packages/core/src/artifacts/bundle.js';
import { REFERENCE_VAE } from '../packages/core/src/models/config.js';
import { Evaluator } from '../packages/core/src/runtime/evaluator.js';
import type { OrtModule } from '../packages/core/src/runtime/runtime.js';
import { Sampler } from '../packages/core/src/runtime/sampler.js';
import { Trainer } from '../packages/core/src/runtime/trainer.js';
import { synthBinary } from '../packages/core/src/testing/synthetic.js';

ortWeb.env.wasm.numThreads = 1;

const runtimes: [string, OrtModule][] = [
  ['onnxruntime-node cpu', ortNode as unknown as OrtModule],
  ['onnxruntime-web wasm', ortWeb as unknown as OrtModule],
];

describe('the reference bundle on onnxruntime-node and onnxruntime-web', () => {
  it('trains, saves, reloads and evaluates to the same numbers', async () => {
    const cfg = REFERENCE_VAE;
    const st = initialState(cfg, 42);
    const bundle = await createBundle(cfg, st);
    const B = 32;
    const STEPS = 5;
    const data = synthBinary(B * STEPS, 784, 1, 10);
    const results = [];
    for (const [name, ort] of runtimes) {
      const t = new Trainer(ort, await ort.InferenceSession.create(bundle.files['train_step.onnx']), bundle.manifest, st, { lr: 1e-3 });
      const losses: number[] = [];
      for (let s = 0; s < STEPS; s++) losses.push((await t.trainStep(data.subarray(s * B * 784, (s + 1) * B * 784), B)).loss);
      const saved = await createBundle(cfg, await t.snapshot());
      const files: Record<string, Uint8Array> = {
        ...saved.files,
        'manifest.json': new TextEncoder().encode(JSON.stringify(saved.manifest)),
      };
      const loaded = await loadBundle(async (f) => files[f], name);
      expect(Buffer.from(encodeCheckpoint(loaded.state)).equals(Buffer.from(saved.files['checkpoint.safetensors']))).toBe(true);
      const ev = new Evaluator(ort, await ort.InferenceSession.create(loaded.files['eval.onnx']), loaded.manifest, loaded.state.params);
      const evr = await ev.evaluate(data.subarray(0, 20 * 784), 20, { k: 64, seed: 7 });
      const sampler = new Sampler(ort, await ort.InferenceSession.create(loaded.files['decoder.onnx']), undefined, {
        latent: 20,
        outputSize: 784,
      });
      const { x } = await sampler.sample(4, { seed: 3 });
      results.push({ name, losses, params: loaded.state.params, evr, x });
    }
    const [a, b] = results;
    // float32 kernels differ between MLAS (node) and WASM SIMD only in summation order: ~1e-6 relative per op.
    // Over a 784-400-20 network and 5 Adam steps that stays below 1e-4 relative in the loss.
    for (let s = 0; s < a.losses.length; s++) expect(Math.abs(a.losses[s] - b.losses[s])).toBeLessThan(1e-4 * Math.abs(a.losses[s]));
    // Adam's update is m̂/√v̂: where a gradient is ~0 rounding can change its sign, moving a weight by up to lr per
    // step, so parameters are compared at 5·lr absolute worst case, and their mean difference far tighter.
    let worst = 0;
    let sum = 0;
    let count = 0;
    for (const k of Object.keys(a.params)) {
      const pa = a.params[k].data as Float32Array;
      const pb = b.params[k].data as Float32Array;
      for (let i = 0; i < pa.length; i++) {
        const d = Math.abs(pa[i] - pb[i]);
        worst = Math.max(worst, d);
        sum += d;
        count++;
      }
    }
    expect(worst).toBeLessThan(5e-3);
    expect(sum / count).toBeLessThan(1e-5);
    expect(Math.abs(a.evr.elbo - b.evr.elbo)).toBeLessThan(1e-3 * Math.abs(a.evr.elbo));
    expect(Math.abs(a.evr.iwae - b.evr.iwae)).toBeLessThan(1e-3 * Math.abs(a.evr.iwae));
    for (let i = 0; i < a.x.length; i++) expect(Math.abs(a.x[i] - b.x[i])).toBeLessThan(1e-4);
    console.info(
      `node vs web: max |Δloss|/loss ${Math.max(...a.losses.map((l, s) => Math.abs(l - b.losses[s]) / Math.abs(l))).toExponential(2)}, max |Δparam| ${worst.toExponential(2)}, mean |Δparam| ${(sum / count).toExponential(2)}`,
    );
  });
});

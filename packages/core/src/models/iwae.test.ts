/**
 * The importance-weighted objective (config `objective: 'iwae'`, `samples: K`): with K = 1 it is the ELBO's
 * single-sample estimate; it trains; and the bound it optimizes, log (1/K) Σ_k w_k, rises with K.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle, initialState } from '../artifacts/bundle.js';
import { tensorData } from '../ir/tensor.js';
import { Prng } from '../random/prng.js';
import { Evaluator } from '../runtime/evaluator.js';
import { Trainer } from '../runtime/trainer.js';
import { runGraph } from '../testing/run-graph.js';
import { synthBinary } from '../testing/synthetic.js';
import { resolveConfig, type VaeConfig } from './config.js';
import { buildEval, buildTrainStep } from './graphs.js';

const small = (over: Partial<VaeConfig> = {}) =>
  resolveConfig({ inputShape: [6], hidden: [5], latent: 2, activation: 'tanh', dtype: 'float64', ...over });

describe("objective 'iwae'", () => {
  it('with K = 1 its loss is the single-sample ELBO estimate: −mean log w exactly, the KL-form loss in expectation', async () => {
    const B = 2000;
    const x = tensorData('float64', [B, 6], Float64Array.from(synthBinary(B, 6, 1)));
    const eps = tensorData('float64', [1, B, 2], new Prng(5).fillNormal(new Float64Array(B * 2)));
    const s = (v: number) => tensorData('float64', [], [v]);
    const cfg = small({ objective: 'iwae', samples: 1 });
    const st = initialState(cfg, 7);
    const step = async (c: VaeConfig) =>
      (await runGraph(ort, buildTrainStep(c), { x, eps, step: s(1), lr: s(0), beta: s(1), ...st.params, ...st.optState })).loss[0];
    const iwae = await step(cfg);
    const kl = await step(small({ objective: 'kl', samples: 1 }));
    const ev = await runGraph(ort, buildEval(cfg), { x, eps, ...st.params });
    const lw = ev.log_w;
    // Same float64 terms (log-sum-exp of one weight is the weight): equal to rounding.
    expect(Math.abs(iwae - -lw.reduce((a, v) => a + v, 0) / B)).toBeLessThan(1e-12);
    // E_q[log w] = ELBO: per row log w − ELBO has mean 0, so the two batch means differ by noise of sd/√B.
    const d = lw.map((v, i) => v - ev.elbo[i]);
    const md = d.reduce((a, v) => a + v, 0) / B;
    const sd = Math.sqrt(d.reduce((a, v) => a + (v - md) ** 2, 0) / (B - 1));
    expect(Math.abs(iwae - kl)).toBeLessThan((4 * sd) / Math.sqrt(B));
    expect(Math.abs(kl - -ev.elbo.reduce((a, v) => a + v, 0) / B)).toBeLessThan(1e-12);
  });

  it('trains with K = 5 (the loss falls), and the IWAE bound of the trained model is non-decreasing in K', async () => {
    const cfg = resolveConfig({ inputShape: [16], hidden: [32], latent: 2, objective: 'iwae', samples: 5 });
    const st = initialState(cfg, 1);
    const bundle = await createBundle(cfg, st);
    expect(bundle.manifest.graphs.train_step.inputs.find((i) => i.name === 'eps')?.shape).toEqual([5, 'batch', 2]);
    const trainer = new Trainer(ort, await ort.InferenceSession.create(bundle.files['train_step.onnx']), bundle.manifest, st, { lr: 5e-3 });
    // 256 training and 64 held-out examples of the same 4 prototypes.
    const all = synthBinary(320, 16, 4);
    const data = all.subarray(0, 256 * 16);
    const losses: number[] = [];
    for (let epoch = 0; epoch < 12; epoch++) {
      for (let i = 0; i < 256; i += 32) losses.push((await trainer.trainStep(data.subarray(i * 16, (i + 32) * 16), 32)).loss);
    }
    const avg = (a: number[]) => a.reduce((p, q) => p + q) / a.length;
    // 16 binary pixels start near 16·log 2 ≈ 11 nats; 4 prototypes with 5% flips are worth far less.
    expect(avg(losses.slice(-8))).toBeLessThan(0.7 * avg(losses.slice(0, 8)));

    const ev = new Evaluator(ort, await ort.InferenceSession.create(bundle.files['eval.onnx']), bundle.manifest, trainer.parameterTensors);
    const n = 64;
    const test = all.subarray(256 * 16);
    const ks = [1, 2, 5, 20, 100, 500];
    const res = [];
    // One seed: the first k samples of each example are shared across k, so neighbouring estimates are compared on
    // nested sample sets and their difference is far less noisy than either.
    for (const k of ks) res.push((await ev.evaluate(test, n, { k, chunk: 500, seed: 3 })).iwae);
    // E[log p̂_K] is non-decreasing in K (Burda et al. 2016, Thm 1); 0.02 nats covers the nested estimates' noise.
    for (let i = 1; i < ks.length; i++) expect(res[i]).toBeGreaterThanOrEqual(res[i - 1] - 0.02);
    expect(res[ks.length - 1]).toBeGreaterThan(res[0]);
  });
});

/**
 * Semi-amortized training (Kim et al. 2018, stop-gradient variant) on onnxruntime-node: the step's gradients read
 * back from an SGD update and checked against finite differences — θ's against ELBO(q_K; θ) with the refined q_K
 * held fixed, φ's against ELBO(q₀(φ); θ) of the plain encoder — and the refined q's ELBO above the encoder's.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle, initialState } from '../artifacts/bundle.js';
import { serializeModel } from '../ir/serialize.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { Prng } from '../random/prng.js';
import { Trainer } from '../runtime/trainer.js';
import { synthBinary } from '../testing/synthetic.js';
import { resolveConfig } from './config.js';
import { fillLatentNoise } from './discrete.js';
import { buildEncoder, buildEval } from './graphs.js';
import { buildPosteriorEval } from './per-datapoint.js';

const D = 8;
const B = 4;
const f64 = (a: Float64Array, dims: number[]) => new ort.Tensor('float64', a, dims);

describe('semi-amortized training', () => {
  it("θ's gradient is ∇θ ELBO(q_K) with q_K fixed, φ's is ∇φ ELBO(q₀) (finite differences, float64)", async () => {
    const cfg = resolveConfig({
      inputShape: [D],
      hidden: [6],
      latent: 2,
      inference: 'semi-amortized',
      refineSteps: 5,
      dtype: 'float64',
      optimizer: { type: 'sgd', momentum: 0 },
    });
    const plain = resolveConfig({ ...cfg, inference: undefined, refineSteps: undefined, refineLr: undefined });
    const st = initialState(cfg, 3);
    const before = structuredClone(st.params);
    const b = await createBundle(cfg, st);
    const lr = 0.1;
    const t = new Trainer(ort, await ort.InferenceSession.create(b.files['train_step.onnx']), b.manifest, st, { lr });
    const x = Float64Array.from(synthBinary(B, D, 2));
    const eps = fillLatentNoise(cfg, Prng.fromState(st.training.prngState), new Float64Array(B * 2));
    await t.trainStep(x, B);
    const after = (await t.snapshot()).params;
    const grad = (name: string, k: number) => ((before[name].data as Float64Array)[k] - (after[name].data as Float64Array)[k]) / lr;
    // q_K as encoder.onnx computes it (the same refinement, noise and steps as the train step's).
    const enc = await ort.InferenceSession.create(serializeModel(buildEncoder(cfg, before)));
    const q = await enc.run({ x: f64(x, [B, D]) });
    const qK = { mu: q.mu.data as Float64Array, logvar: q.logvar.data as Float64Array };
    const lossDec = async (params: Record<string, TensorData>) => {
      const s = await ort.InferenceSession.create(serializeModel(buildPosteriorEval(cfg, { values: params, samples: 1 })));
      const o = await s.run({
        x: f64(x, [B, D]),
        'q.mu': f64(qK.mu, [B, 2]),
        'q.logvar': f64(qK.logvar, [B, 2]),
        eps: f64(eps, [1, B, 2]),
      });
      return -(o.elbo.data as Float64Array).reduce((a, v) => a + v, 0) / B;
    };
    const evalPlain = await ort.InferenceSession.create(serializeModel(buildEval(plain)));
    const lossEnc = async (params: Record<string, TensorData>) => {
      const feeds: Record<string, ort.Tensor> = { x: f64(x, [B, D]), eps: f64(eps, [1, B, 2]) };
      for (const n of evalPlain.inputNames) if (params[n]) feeds[n] = f64(params[n].data as Float64Array, [...params[n].shape]);
      const o = await evalPlain.run(feeds);
      return -(o.elbo.data as Float64Array).reduce((a, v) => a + v, 0) / B;
    };
    const h = 1e-6;
    let checked = 0;
    for (const name of Object.keys(before)) {
      const loss = name.startsWith('encoder.') ? lossEnc : lossDec;
      for (const k of [0, 1, 2]) {
        if (k >= before[name].data.length) continue;
        const shift = (d: number) => {
          const c = Float64Array.from(before[name].data as Float64Array);
          c[k] += d;
          return { ...before, [name]: tensorData('float64', before[name].shape, c) };
        };
        const fd = ((await loss(shift(h))) - (await loss(shift(-h)))) / (2 * h);
        const g = grad(name, k);
        // float64, central differences with h = 1e-6: ~1e-9 absolute.
        expect(Math.abs(g - fd), `${name}[${k}]: step ${g}, finite differences ${fd}`).toBeLessThan(1e-6 + 1e-6 * Math.abs(fd));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
    // The refined q is a better posterior than the encoder's for this θ: its ELBO (64 common draws) is higher.
    const encPlain = await ort.InferenceSession.create(serializeModel(buildEncoder(plain, before)));
    const q0 = await encPlain.run({ x: f64(x, [B, D]) });
    const e64 = new Prng(4).fillNormal(new Float64Array(64 * B * 2));
    const post = await ort.InferenceSession.create(serializeModel(buildPosteriorEval(cfg, { values: before, samples: 64 })));
    const elbo = async (mu: Float64Array, lv: Float64Array) =>
      (
        (await post.run({ x: f64(x, [B, D]), 'q.mu': f64(mu, [B, 2]), 'q.logvar': f64(lv, [B, 2]), eps: f64(e64, [64, B, 2]) })).elbo
          .data as Float64Array
      ).reduce((a, v) => a + v, 0) / B;
    expect(await elbo(qK.mu, qK.logvar)).toBeGreaterThan(await elbo(q0.mu.data as Float64Array, q0.logvar.data as Float64Array));
  });
});

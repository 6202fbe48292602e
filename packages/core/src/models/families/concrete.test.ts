/**
 * The Concrete / Gumbel-softmax relaxation (families/concrete.ts): samples on the simplex, near one-hot (and equal to
 * the Gumbel-max draw) at small temperature, pathwise gradients against central differences, eval scoring the
 * discrete draws, training, and config validation.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle, initialState } from '../../artifacts/bundle.js';
import { Graph } from '../../ir/graph.js';
import { serializeModel } from '../../ir/serialize.js';
import { type TensorData, tensorData } from '../../ir/tensor.js';
import { ParamBinder } from '../../nn/params.js';
import { Prng } from '../../random/prng.js';
import { toOrtTensor } from '../../runtime/tensors.js';
import { Trainer } from '../../runtime/trainer.js';
import { runGraph } from '../../testing/run-graph.js';
import { synthBinary } from '../../testing/synthetic.js';
import { resolveConfig } from '../config.js';
import { buildGradientGraph } from '../gradient-variance.js';
import { buildEval, buildTrainStep, parameterSpecs } from '../graphs.js';
import { latentFamily } from './index.js';

const small = (temperature = 0.5, over: Parameters<typeof resolveConfig>[0] = {}) =>
  resolveConfig({
    inputShape: [6],
    hidden: [5],
    latent: 2,
    categories: 3,
    latentType: 'categorical',
    relaxation: { temperature },
    activation: 'tanh',
    dtype: 'float64',
    ...over,
  });

/** Relaxed and Gumbel-max samples for logits [1, G·K] and m draws of uniforms. */
async function draws(temperature: number, logits: number[], m: number, seed: number) {
  const cfg = small(temperature);
  const w = logits.length;
  const g = new Graph('sample');
  const l = g.input('l', 'float64', [1, w]);
  const u = g.input('u', 'float64', [m, 1, w]);
  const fam = latentFamily(cfg);
  const p = ParamBinder.inputs('float64');
  g.output(fam.sample(g, p, { logits: l }, u, true).z, 'relaxed');
  g.output(fam.sample(g, p, { logits: l }, u, false).z, 'hard');
  const r = await runGraph(ort, g, {
    l: tensorData('float64', [1, w], logits),
    u: tensorData('float64', [m, 1, w], new Prng(seed).fillUniform(new Float64Array(m * w))),
  });
  return { relaxed: r.relaxed, hard: r.hard };
}

describe('Concrete relaxation', () => {
  it('is reparameterized, keeps the categorical parameters, and its samples lie on the simplex', async () => {
    const cfg = small();
    expect(latentFamily(cfg).reparameterizable).toBe(true);
    expect(latentFamily(cfg).name).toBe('concrete');
    // Same parameters as the score-function categorical model: a checkpoint serves either.
    const cat = resolveConfig({ ...cfg, relaxation: undefined });
    expect(parameterSpecs(cfg)).toEqual(parameterSpecs(cat));
    const k = 3;
    const { relaxed } = await draws(0.5, [0.5, -1, 1, 2, 0, -0.5], 500, 3);
    let interior = 0;
    for (let i = 0; i < relaxed.length; i += k) {
      const group = relaxed.slice(i, i + k);
      for (const v of group) expect(v).toBeGreaterThanOrEqual(0);
      expect(Math.abs(group.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
      if (Math.max(...group) < 0.99) interior++;
    }
    // At τ = 0.5 many draws are inside the simplex, not at a vertex.
    expect(interior).toBeGreaterThan(100);
  });

  it('at small temperature the samples are near one-hot, at the Gumbel-max draw; the class frequencies follow q', async () => {
    const k = 3;
    const logits = [0.5, -1, 1, 2, 0, -0.5];
    const m = 2000;
    const maxMean = async (t: number) => {
      const { relaxed, hard } = await draws(t, logits, m, 5);
      let s = 0;
      let agree = 0;
      const counts = new Float64Array(logits.length);
      for (let i = 0; i < relaxed.length; i += k) {
        const group = relaxed.slice(i, i + k);
        const top = group.indexOf(Math.max(...group));
        s += group[top];
        if (hard[i + top] === 1) agree++;
        counts[(i % logits.length) + top]++;
      }
      return { mean: s / (relaxed.length / k), agree: agree / (relaxed.length / k), counts };
    };
    const cold = await maxMean(0.01);
    const warm = await maxMean(1);
    // The relaxation's argmax is the Gumbel-max draw at every temperature (softmax keeps the order).
    expect(cold.agree).toBe(1);
    expect(warm.agree).toBe(1);
    // τ = 0.01: the largest component is ≈ 1 (measured mean 0.998); τ = 1: far from one-hot.
    expect(cold.mean).toBeGreaterThan(0.99);
    expect(warm.mean).toBeLessThan(0.8);
    // The argmax classes are Cat(softmax(l)) draws: frequencies within 4 SE of the probabilities.
    for (let gi = 0; gi < 2; gi++) {
      const row = logits.slice(gi * k, gi * k + k);
      const e = row.map((v) => Math.exp(v));
      const z = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < k; c++) {
        const p = e[c] / z;
        expect(Math.abs(cold.counts[gi * k + c] / m - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / m));
      }
    }
  });

  it("the train step's gradient equals central differences of the relaxed loss (float64, fixed noise)", async () => {
    const cfg = small(0.7, { samples: 2, optimizer: { type: 'sgd', momentum: 0 } });
    const st = initialState(cfg, 7);
    const B = 4;
    const x = tensorData('float64', [B, 6], Float64Array.from(synthBinary(B, 6, 1)));
    const eps = tensorData('float64', [2, B, 6], new Prng(5).fillUniform(new Float64Array(2 * B * 6)));
    const s = (v: number) => tensorData('float64', [], [v]);
    const train = await runGraph(ort, buildTrainStep(cfg), { x, eps, step: s(1), lr: s(1), beta: s(1), ...st.params });
    // The gradient graph's `loss` is the same relaxed loss KL_cat − mean log p(x | softmax((l + g)/τ)).
    const session = await ort.InferenceSession.create(
      serializeModel(buildGradientGraph(cfg, { name: 'concrete', estimator: 'reparam', baseline: 'none' }, 2)),
    );
    const lossAt = async (params: Record<string, TensorData>) => {
      const feeds = Object.fromEntries(Object.entries({ x, eps, ...params }).map(([k, t]) => [k, toOrtTensor(ort, t)]));
      return Number((await session.run(feeds)).loss.data[0]);
    };
    expect(Math.abs((await lossAt(st.params)) - train.loss[0])).toBeLessThan(1e-12);
    const h = 1e-6;
    let worst = 0;
    let largest = 0;
    for (const spec of parameterSpecs(cfg)) {
      const p = st.params[spec.name];
      for (let i = 0; i < p.data.length; i++) {
        const plus = Float64Array.from(p.data as Float64Array);
        const minus = Float64Array.from(p.data as Float64Array);
        plus[i] += h;
        minus[i] -= h;
        const num =
          ((await lossAt({ ...st.params, [spec.name]: tensorData('float64', p.shape, plus) })) -
            (await lossAt({ ...st.params, [spec.name]: tensorData('float64', p.shape, minus) }))) /
          (2 * h);
        const analytic = Number(p.data[i]) - train[`${spec.name}_new`][i];
        worst = Math.max(worst, Math.abs(num - analytic) / Math.max(1, Math.abs(num)));
        if (spec.name.startsWith('encoder')) largest = Math.max(largest, Math.abs(analytic));
      }
    }
    await session.release();
    // float64 central differences, h = 1e-6: truncation ~h², rounding ~1e-16/h ≈ 1e-10.
    expect(worst).toBeLessThan(1e-6);
    // The encoder gets a real pathwise gradient (not only the KL's).
    expect(largest).toBeGreaterThan(1e-3);
  });

  it('eval scores the discrete draws (the categorical model), and training lowers the loss', async () => {
    const cfg = small(0.5, { samples: 1 });
    const cat = resolveConfig({ ...cfg, relaxation: undefined });
    const st = initialState(cfg, 2);
    const B = 3;
    const x = tensorData('float64', [B, 6], Float64Array.from(synthBinary(B, 6, 2)));
    const eps = tensorData('float64', [4, B, 6], new Prng(9).fillUniform(new Float64Array(4 * B * 6)));
    const a = await runGraph(ort, buildEval(cfg), { x, eps, ...st.params });
    const b = await runGraph(ort, buildEval(cat), { x, eps, ...st.params });
    for (const k of ['rec', 'kl', 'elbo', 'log_w']) expect(a[k], k).toEqual(b[k]);

    const c32 = resolveConfig({
      inputShape: [16],
      hidden: [32],
      latentType: 'categorical',
      latent: 2,
      categories: 4,
      relaxation: { temperature: 0.5 },
    });
    const s32 = initialState(c32, 1);
    const bundle = await createBundle(c32, s32);
    const t = new Trainer(ort, await ort.InferenceSession.create(bundle.files['train_step.onnx']), bundle.manifest, s32, { lr: 1e-2 });
    const data = synthBinary(256, 16, 4);
    const losses: number[] = [];
    for (let epoch = 0; epoch < 5; epoch++)
      for (let i = 0; i < 256; i += 32) losses.push((await t.trainStep(data.subarray(i * 16, (i + 32) * 16), 32)).loss);
    const avg = (v: number[]) => v.reduce((p, q) => p + q, 0) / v.length;
    expect(avg(losses.slice(-8))).toBeLessThan(0.8 * avg(losses.slice(0, 8)));
  });

  it('rejects relaxations that do not fit, naming the field', () => {
    expect(() => small(0)).toThrow(/relaxation\.temperature must be a number > 0, got 0/);
    expect(() => small(0.5, { latentType: 'bernoulli' })).toThrow(/relaxation is the Concrete relaxation of categorical latents/);
    expect(() => small(0.5, { estimator: 'score' })).toThrow(/relaxation trains by reparameterization/);
    expect(() => small(0.5, { objective: 'iwae', samples: 2 })).toThrow(/relaxation supports the 'kl' and 'entropy' objectives/);
    expect(() => resolveConfig({ latentType: 'categorical', estimator: 'reparam' })).toThrow(
      /'reparam' needs Gaussian latents or a relaxation/,
    );
    expect(resolveConfig({ latentType: 'categorical', relaxation: { temperature: 1 } }).relaxation).toEqual({ temperature: 1 });
  });
});

/** Discrete-latent VAEs: analytic KL, the samplers (threshold and Gumbel-max), log q, and training end to end. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle, initialState } from '../artifacts/bundle.js';
import { Graph } from '../ir/graph.js';
import { tensorData } from '../ir/tensor.js';
import { ParamBinder } from '../nn/params.js';
import { Prng } from '../random/prng.js';
import { Evaluator } from '../runtime/evaluator.js';
import { Sampler } from '../runtime/sampler.js';
import { Trainer } from '../runtime/trainer.js';
import { runGraph } from '../testing/run-graph.js';
import { synthBinary } from '../testing/synthetic.js';
import { resolveConfig, type VaeConfig } from './config.js';
import { latentWidth, samplerLatent } from './discrete.js';
import { latentFamily } from './families/index.js';

const bern = resolveConfig({ inputShape: [6], hidden: [5], latent: 3, latentType: 'bernoulli', dtype: 'float64' });
const cat = resolveConfig({ inputShape: [6], hidden: [5], latent: 2, latentType: 'categorical', categories: 3, dtype: 'float64' });

/** Per-dim probabilities from logits: σ(l) per bit, or softmax within each group of K. */
function probs(cfg: VaeConfig, l: number[]): number[] {
  if (cfg.latentType === 'bernoulli') return l.map((v) => 1 / (1 + Math.exp(-v)));
  const k = cfg.categories as number;
  const out: number[] = [];
  for (let gi = 0; gi < l.length; gi += k) {
    const row = l.slice(gi, gi + k);
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    out.push(...e.map((v) => v / s));
  }
  return out;
}

describe('discrete latents', () => {
  it('analytic KL to the uniform prior matches the closed form (Bernoulli and categorical)', async () => {
    for (const [cfg, logits] of [
      [bern, [0, 2.5, -30, 30, -0.7, 4]],
      [cat, [0, 0, 0, 3, -2, 0.5, 30, -30, 0, -1, 1, 2]],
    ] as const) {
      const w = latentWidth(cfg);
      const g = new Graph('kl');
      const l = g.input('l', 'float64', [2, w]);
      const kl = latentFamily(cfg).klPerDim?.(g, { logits: l }, undefined);
      if (!kl) throw new Error(`the ${cfg.latentType} family has an analytic KL`);
      g.output(kl, 'kl');
      const r = await runGraph(ort, g, { l: tensorData('float64', [2, w], logits) });
      const expected: number[] = [];
      for (let b = 0; b < 2; b++) {
        const q = probs(cfg, logits.slice(b * w, (b + 1) * w));
        if (cfg.latentType === 'bernoulli') {
          // KL(Bern(q) ‖ Bern(½)) = q·log 2q + (1 − q)·log 2(1 − q), with 0·log 0 = 0.
          const t = (p: number) => (p > 0 ? p * Math.log(2 * p) : 0);
          expected.push(...q.map((p) => t(p) + t(1 - p)));
        } else {
          // KL(Cat(q) ‖ Uniform(K)) = Σ_k q_k·log(K·q_k) per group.
          const k = cfg.categories as number;
          for (let gi = 0; gi < q.length; gi += k)
            expected.push(q.slice(gi, gi + k).reduce((s, p) => s + (p > 0 ? p * Math.log(k * p) : 0), 0));
        }
      }
      expect(r.kl.length).toBe(2 * cfg.latent);
      // float64 throughout; the softplus/log-softmax forms differ from the direct ones by rounding (~1e-15).
      for (const [i, v] of r.kl.entries()) expect(Math.abs(v - expected[i]), `${cfg.latentType} KL ${i}`).toBeLessThan(1e-12);
    }
  });

  it('samples follow q (threshold for bits, Gumbel-max for classes), and log q(z|x) is their log-probability', async () => {
    const m = 4000;
    for (const [cfg, logits] of [
      [bern, [1.2, -0.4, 0]],
      [cat, [0.5, -1, 1, 2, 0, -0.5]],
    ] as const) {
      const w = latentWidth(cfg);
      const g = new Graph('sample');
      const l = g.input('l', 'float64', [1, w]);
      const u = g.input('u', 'float64', [m, 1, w]);
      const fam = latentFamily(cfg);
      const s = fam.sample(g, ParamBinder.inputs('float64'), { logits: l }, u, false);
      g.output(s.z, 'z');
      g.output(fam.logQ(g, { logits: l }, s), 'logq');
      const ud = new Prng(4).fillUniform(new Float64Array(m * w));
      const r = await runGraph(ort, g, { l: tensorData('float64', [1, w], logits), u: tensorData('float64', [m, 1, w], ud) });
      const q = probs(cfg, [...logits]);
      for (let j = 0; j < w; j++) {
        let hits = 0;
        for (let s = 0; s < m; s++) hits += r.z[s * w + j];
        const se = Math.sqrt((q[j] * (1 - q[j])) / m);
        // Binomial frequency within 4 standard errors of its probability.
        expect(Math.abs(hits / m - q[j]), `${cfg.latentType} dim ${j}`).toBeLessThan(4 * se);
      }
      for (let s = 0; s < 50; s++) {
        const zs = r.z.slice(s * w, (s + 1) * w);
        if (cfg.latentType === 'categorical') expect(zs.reduce((a, b) => a + b, 0)).toBe(cfg.latent); // one-hot per group
        const lq = zs.reduce((acc, zv, j) => acc + Math.log(zv ? q[j] : cfg.latentType === 'bernoulli' ? 1 - q[j] : 1), 0);
        expect(Math.abs(r.logq[s] - lq)).toBeLessThan(1e-12);
      }
    }
  });

  it.each([
    ['bernoulli', { latent: 4 }],
    ['categorical', { latent: 2, categories: 4 }],
  ] as const)('a %s-latent VAE trains with the score-function estimator, evaluates and deploys', async (latentType, over) => {
    const cfg = resolveConfig({ inputShape: [16], hidden: [32], latentType, samples: 4, baseline: 'leave-one-out', ...over });
    expect(cfg.estimator ?? 'score').toBe('score');
    expect(latentFamily(cfg).reparameterizable).toBe(false); // so the score function is the estimator
    const st = initialState(cfg, 1);
    const b = await createBundle(cfg, st);
    const w = latentWidth(cfg);
    expect(b.manifest.graphs.train_step.inputs.find((i) => i.name === 'eps')?.shape).toEqual([4, 'batch', w]);
    const t = new Trainer(ort, await ort.InferenceSession.create(b.files['train_step.onnx']), b.manifest, st, { lr: 1e-2 });
    const data = synthBinary(256, 16, 4);
    const losses: number[] = [];
    for (let epoch = 0; epoch < 12; epoch++) {
      for (let i = 0; i < 256; i += 32) losses.push((await t.trainStep(data.subarray(i * 16, (i + 32) * 16), 32)).loss);
    }
    const avg = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
    // Σ_j H(mean of pixel j) is the best a decoder that ignores z can reach on this data (measured ≈ 8.4 nats; the
    // loss starts near 10). Ending a nat below it means the discrete code carries the prototypes' information
    // (measured: 6.2 nats Bernoulli, 5.5 categorical).
    let ignoreZ = 0;
    for (let j = 0; j < 16; j++) {
      let mean = 0;
      for (let i = 0; i < 256; i++) mean += data[i * 16 + j] / 256;
      if (mean > 0 && mean < 1) ignoreZ -= mean * Math.log(mean) + (1 - mean) * Math.log(1 - mean);
    }
    expect(avg(losses.slice(-8))).toBeLessThan(ignoreZ - 1);
    expect(avg(losses.slice(-8))).toBeLessThan(0.7 * avg(losses.slice(0, 8)));

    const ev = new Evaluator(ort, await ort.InferenceSession.create(b.files['eval.onnx']), b.manifest, t.parameterTensors);
    const res = await ev.evaluate(synthBinary(32, 16, 9), 32, { k: 64, seed: 2 });
    // log p̂_K ≥ the ELBO in expectation; the analytic KL to a uniform prior is at most L·log 2 or G·log K nats.
    expect(res.iwae).toBeGreaterThan(res.elbo - 0.05);
    expect(res.kl).toBeLessThanOrEqual(cfg.latent * Math.log(latentType === 'bernoulli' ? 2 : 4) + 1e-4);

    const dec = await ort.InferenceSession.create(b.files['decoder.onnx']);
    const out = await dec.run({ z: new ort.Tensor('float32', new Float32Array(3 * w), [3, w]) });
    expect(out.x_mean.dims).toEqual([3, 16]);
    const enc = await ort.InferenceSession.create(b.files['encoder.onnx']);
    const e = await enc.run({ x: new ort.Tensor('float32', data.slice(0, 32), [2, 16]) });
    expect(e.mu.dims).toEqual([2, w]);
    expect(e.logits.dims).toEqual([2, w]);
    for (const v of e.mu.data as Float32Array) expect(v >= 0 && v <= 1).toBe(true);
    // The Sampler draws z from the discrete prior: fair bits, or one class per group.
    const sampler = new Sampler(ort, dec, enc, { ...samplerLatent(cfg), outputSize: 16 });
    const s = await sampler.sample(200, { seed: 1 });
    expect(s.x.length).toBe(200 * 16);
    expect(s.z.every((v) => v === 0 || v === 1)).toBe(true);
    const ones = s.z.reduce((a, v) => a + v, 0);
    if (latentType === 'categorical') expect(ones).toBe(200 * cfg.latent);
    // 800 fair bits: the count of ones within 4 standard deviations (√(800/4) ≈ 14) of 400.
    else expect(Math.abs(ones - 400)).toBeLessThan(4 * Math.sqrt(800 / 4));
  });
});

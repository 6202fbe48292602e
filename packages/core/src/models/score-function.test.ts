/** The score-function (REINFORCE) estimator: unbiased against reparameterization, baselines, the train step. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle, initialState } from '../artifacts/bundle.js';
import { tensorData } from '../ir/tensor.js';
import { Prng } from '../random/prng.js';
import { Trainer } from '../runtime/trainer.js';
import { runGraph } from '../testing/run-graph.js';
import { synthBinary } from '../testing/synthetic.js';
import { resolveConfig } from './config.js';
import { buildGradientGraph, formatVarianceTable, measureGradientVariance } from './gradient-variance.js';
import { buildEval, buildTrainStep, optimizerStateSpecs, parameterSpecs } from './graphs.js';
import { BASELINE_STATE } from './score-function.js';

const small = (over: Parameters<typeof resolveConfig>[0] = {}) =>
  resolveConfig({ inputShape: [6], hidden: [5], latent: 2, activation: 'tanh', dtype: 'float64', ...over });

describe('score-function estimator', () => {
  it('agrees in expectation with reparameterization, and its baselines cut the variance without bias', async () => {
    // 300 draws × M = 10 samples = 3000 samples per estimator, each estimator on its own noise stream.
    const cfg = small({ samples: 10 });
    const st = initialState(cfg, 3);
    const batch = 4;
    const r = await measureGradientVariance(ort, cfg, st.params, synthBinary(batch, 6, 1), batch, { draws: 300, seed: 1 });
    expect(r.estimators.map((e) => e.name)).toEqual(['reparam', 'score', 'score+moving-avg', 'score+leave-one-out']);
    const [reparam, ...score] = r.estimators;
    const n = r.draws;
    for (const est of score) {
      let worst = 0;
      let informative = 0;
      let elements = 0;
      for (const [pi, p] of reparam.params.entries()) {
        const q = est.params[pi];
        for (let i = 0; i < p.mean.length; i++) {
          // Standard error of the difference of two independent means of n draws each.
          const se = Math.sqrt((p.variance[i] + q.variance[i]) / n);
          worst = Math.max(worst, Math.abs(p.mean[i] - q.mean[i]) / se);
          if (Math.abs(p.mean[i]) > 4 * se) informative++;
          elements++;
        }
      }
      // Every parameter element (encoder and decoder: 110) within 4 standard errors. For Gaussian means a 4σ excess
      // has probability 6e-5 per element, about 2% across the 330 comparisons (and the seeds are fixed).
      expect(worst, est.name).toBeLessThan(4);
      // The interval is narrow enough to mean something: most gradients are themselves ≫ 4 SE from 0
      // (measured: 73/110 without a baseline, 102/110 with either baseline; worst |Δ|/SE 2.4, 3.0, 2.6).
      expect(informative, est.name).toBeGreaterThan(elements / 2);
    }
    const byName = Object.fromEntries(r.estimators.map((e) => [e.name, e]));
    // Measured (seed 1): score ≈ 108× the reparam variance; moving average ≈ 3.2×, leave-one-out ≈ 2.1×. Each baseline
    // must cut the score estimator's variance at least fourfold (ratio < 0.25); the noise of 300-draw variance
    // estimates is far below that margin.
    expect(byName['score+moving-avg'].meanVariance / byName.score.meanVariance).toBeLessThan(0.25);
    expect(byName['score+leave-one-out'].meanVariance / byName.score.meanVariance).toBeLessThan(0.25);
    expect(byName.score.ratio).toBeGreaterThan(1);
    expect(formatVarianceTable(r)).toMatch(/÷ reparam/);
  });

  it.each([
    ['the entropy form (Gaussian)', { objective: 'entropy' }],
    ['Bernoulli latents', { latentType: 'bernoulli', latent: 3 }],
    ['categorical latents', { latentType: 'categorical', latent: 2, categories: 3 }],
  ] as const)('is unbiased with and without baselines for %s', async (_, over) => {
    // The reference is reparameterization where it exists, else the baseline-free score function; 300 draws × M = 10.
    const cfg = small({ samples: 10, ...over });
    const r = await measureGradientVariance(ort, cfg, initialState(cfg, 3).params, synthBinary(4, 6, 1), 4, { draws: 300, seed: 1 });
    const [ref, ...rest] = r.estimators;
    for (const est of rest) {
      let worst = 0;
      for (const [pi, p] of ref.params.entries()) {
        const q = est.params[pi];
        for (let i = 0; i < p.mean.length; i++)
          worst = Math.max(worst, Math.abs(p.mean[i] - q.mean[i]) / Math.sqrt((p.variance[i] + q.variance[i]) / r.draws));
      }
      // Within 4 standard errors, as above (measured worst: 2.4 to 3.0).
      expect(worst, est.name).toBeLessThan(4);
      // Baselines cut the variance at least fourfold here too (measured: 0.013 to 0.05 of the baseline-free score's).
      if (est.baseline !== 'none')
        expect(est.meanVariance / (r.estimators.find((e) => e.name === 'score')?.meanVariance ?? 0)).toBeLessThan(0.25);
    }
  });

  it("the train step's update is the gradient graph's estimate, and its loss is −rec + β·KL", async () => {
    // SGD with lr = 1: p_new = p − ĝ, so the train step exposes its gradient; same x and eps in both graphs.
    const cfg = small({ samples: 3, estimator: 'score', baseline: 'leave-one-out', optimizer: { type: 'sgd', momentum: 0 } });
    const st = initialState(cfg, 7);
    const B = 4;
    const x = tensorData('float64', [B, 6], Float64Array.from(synthBinary(B, 6, 1)));
    const eps = tensorData('float64', [3, B, 2], new Prng(5).fillNormal(new Float64Array(3 * B * 2)));
    const s = (v: number) => tensorData('float64', [], [v]);
    const train = await runGraph(ort, buildTrainStep(cfg), { x, eps, step: s(1), lr: s(1), beta: s(1), ...st.params });
    const grads = await runGraph(ort, buildGradientGraph(cfg, { name: 'loo', estimator: 'score', baseline: 'leave-one-out' }, 3), {
      x,
      eps,
      ...st.params,
    });
    let worst = 0;
    for (const spec of parameterSpecs(cfg)) {
      const p = st.params[spec.name].data as Float64Array;
      train[`${spec.name}_new`].forEach((v, i) => {
        worst = Math.max(worst, Math.abs(p[i] - v - grads[`${spec.name}_grad`][i]));
      });
    }
    // The same float64 graph arithmetic on both sides: agreement to rounding (~1e-15 relative, gradients ~1).
    expect(worst).toBeLessThan(1e-12);
    // The surrogate adds s − sg(s) = 0: the reported loss is the bound's.
    const ev = await runGraph(ort, buildEval(cfg), { x, eps, ...st.params });
    const mean = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
    expect(Math.abs(train.loss[0] - (mean(ev.kl) - mean(ev.rec)))).toBeLessThan(1e-12);
  });

  it('trains with a moving-average baseline carried as state (plain and fused steps)', async () => {
    const cfg = resolveConfig({ inputShape: [16], hidden: [32], latent: 2, estimator: 'score', baseline: 'moving-average', samples: 4 });
    expect(optimizerStateSpecs(cfg, parameterSpecs(cfg)).at(-1)).toEqual({ name: BASELINE_STATE, param: '', shape: [1] });
    const st = initialState(cfg, 1);
    const bundle = await createBundle(cfg, st);
    const t = new Trainer(ort, await ort.InferenceSession.create(bundle.files['train_step.onnx']), bundle.manifest, st, { lr: 1e-2 });
    const data = synthBinary(256, 16, 4);
    const first = await t.trainStep(data.subarray(0, 32 * 16), 32);
    // One update from b = 0 with α = 0.9: b = 0.1·mean r, and in the KL form r = log p(x|z), whose mean is `rec`.
    const b1 = Number((await t.snapshot()).optState[BASELINE_STATE].data[0]);
    expect(Math.abs(b1 - 0.1 * first.rec)).toBeLessThan(1e-5 * Math.abs(first.rec)); // float32 rounding
    const losses = [first.loss];
    for (let epoch = 0; epoch < 6; epoch++) {
      for (let i = 0; i < 256; i += 32) losses.push((await t.trainStep(data.subarray(i * 16, (i + 32) * 16), 32)).loss);
    }
    const avg = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
    // 16 binary pixels start near 16·log 2 ≈ 11 nats; 4 prototypes with 5% flips are learnable well below that.
    expect(avg(losses.slice(-8))).toBeLessThan(0.8 * avg(losses.slice(0, 8)));

    // The fused graph carries the baseline through its Loop like the optimizer state.
    const fused = await createBundle(cfg, initialState(cfg, 1), { fusedSteps: 2 });
    const tf = new Trainer(ort, await ort.InferenceSession.create(fused.files['train_step.onnx']), fused.manifest, initialState(cfg, 1), {
      lr: 1e-2,
    });
    const m = await tf.trainStep(data.subarray(0, 64 * 16), 32);
    expect(Number.isFinite(m.loss)).toBe(true);
    expect((await tf.snapshot()).optState[BASELINE_STATE].data[0]).toBeLessThan(0);
  });

  it('rejects options that do not fit together', () => {
    expect(() => small({ baseline: 'moving-average' })).toThrow(/baseline is a score-function option/);
    expect(() => small({ estimator: 'score', baseline: 'leave-one-out', samples: 1 })).toThrow(/needs samples ≥ 2/);
    expect(() => small({ latentType: 'bernoulli', estimator: 'reparam' })).toThrow(/no reparameterization/);
    expect(() => small({ estimator: 'score', objective: 'iwae' })).toThrow(/'iwae' is not available/);
    expect(() => small({ estimator: 'score', baselineDecay: 1 })).toThrow(/baselineDecay must be in \[0, 1\)/);
    expect(() => small({ estimator: 'gumbel' as 'score' })).toThrow(/estimator must be 'reparam' or 'score'/);
  });
});

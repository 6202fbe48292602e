/**
 * VIMCO (models/vimco.ts): the leave-one-out signals by hand, unbiasedness against the reparameterized IWAE gradient
 * (Gaussian) and the plain IWAE score function (Bernoulli), lower variance than the latter, the train step.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle, initialState } from '../artifacts/bundle.js';
import { Graph } from '../ir/graph.js';
import { tensorData } from '../ir/tensor.js';
import { Prng } from '../random/prng.js';
import { type EstimatorStats, measureGradientVariance } from '../runtime/gradient-variance.js';
import { Trainer } from '../runtime/trainer.js';
import { runGraph } from '../testing/run-graph.js';
import { synthBinary } from '../testing/synthetic.js';
import { resolveConfig } from './config.js';
import { buildGradientGraph } from './gradient-variance.js';
import { buildTrainStep, parameterSpecs } from './graphs.js';
import { vimcoSignals } from './vimco.js';

const small = (over: Parameters<typeof resolveConfig>[0] = {}) =>
  resolveConfig({ inputShape: [6], hidden: [5], latent: 2, activation: 'tanh', dtype: 'float64', ...over });

const session = (bytes: Uint8Array) => ort.InferenceSession.create(bytes);

/** The largest |mean_a − mean_b| / SE over every parameter element (independent draws on each side). */
function worstZ(a: EstimatorStats, b: EstimatorStats, n: number): number {
  let worst = 0;
  for (const [pi, p] of a.params.entries()) {
    const q = b.params[pi];
    for (let i = 0; i < p.mean.length; i++)
      worst = Math.max(worst, Math.abs(p.mean[i] - q.mean[i]) / Math.sqrt((p.variance[i] + q.variance[i]) / n));
  }
  return worst;
}

describe('VIMCO', () => {
  it('the leave-one-out signal matches a hand computation on fixed log-weights', async () => {
    // K = 4 samples, 2 examples; the second has a weight far below the others (log w = −40).
    const K = 4;
    const lw = [
      [-3.1, -2.0, -5.5, -2.7],
      [-1.0, -40, -0.5, -2.2],
    ];
    const g = new Graph('vimco');
    const logw = g.input('logw', 'float64', [K, 2]);
    const v = vimcoSignals(g, logw);
    g.output(v.lhat, 'lhat');
    g.output(v.leaveOneOut, 'loo');
    g.output(v.signal, 'signal');
    const r = await runGraph(ort, g, {
      logw: tensorData(
        'float64',
        [K, 2],
        lw[0].flatMap((_, k) => [lw[0][k], lw[1][k]]),
      ),
    });
    for (let b = 0; b < 2; b++) {
      const w = lw[b];
      const lhat = Math.log(w.reduce((s, l) => s + Math.exp(l), 0) / K);
      expect(Math.abs(r.lhat[b] - lhat)).toBeLessThan(1e-12);
      for (let k = 0; k < K; k++) {
        // L̂_{−k} = log (1/K)(Σ_{j≠k} w_j + exp(mean_{j≠k} log w_j)), directly in float64.
        const others = w.filter((_, j) => j !== k);
        const geo = others.reduce((s, l) => s + l, 0) / (K - 1);
        const loo = Math.log((others.reduce((s, l) => s + Math.exp(l), 0) + Math.exp(geo)) / K);
        expect(Math.abs(r.loo[k * 2 + b] - loo), `example ${b}, sample ${k}`).toBeLessThan(1e-12);
        expect(Math.abs(r.signal[k * 2 + b] - (lhat - loo))).toBeLessThan(1e-12);
      }
    }
    // Replacing the tiny weight by the others' geometric mean raises the bound: that sample's signal is negative.
    expect(r.signal[1 * 2 + 1]).toBeLessThan(0);
  });

  it('is unbiased for the IWAE gradient (Gaussian: = reparameterization) and has lower variance than the plain score function', async () => {
    // 300 draws × K = 4; each estimator on its own noise stream.
    const cfg = small({ objective: 'iwae', samples: 4 });
    const r = await measureGradientVariance(ort, session, cfg, initialState(cfg, 3).params, synthBinary(4, 6, 1), 4, {
      draws: 300,
      seed: 2,
    });
    const by = Object.fromEntries(r.estimators.map((e) => [e.name, e]));
    expect(Object.keys(by)).toEqual(['reparam', 'score', 'score+moving-avg', 'score+vimco']);
    // Every element (110) within 4 SE of reparameterization's mean (a 4σ excess: ~2% over all comparisons).
    expect(worstZ(by.reparam, by['score+vimco'], r.draws)).toBeLessThan(4);
    expect(worstZ(by.reparam, by.score, r.draws)).toBeLessThan(4);
    // The plain IWAE score function shares one signal L̂ between all K samples; VIMCO's per-sample signals cut its
    // variance by orders of magnitude. Measured (seed 2), ratios to reparam: score 243, moving average 5.6, VIMCO 1.08.
    expect(by['score+vimco'].meanVariance).toBeLessThan(0.05 * by.score.meanVariance);
    expect(by['score+vimco'].meanVariance).toBeLessThan(by['score+moving-avg'].meanVariance);
  });

  it('is unbiased and lower-variance for Bernoulli latents (against the plain IWAE score function)', async () => {
    const cfg = small({ latentType: 'bernoulli', latent: 3, objective: 'iwae', samples: 4, baseline: 'vimco' });
    const r = await measureGradientVariance(ort, session, cfg, initialState(cfg, 3).params, synthBinary(4, 6, 1), 4, {
      draws: 400,
      seed: 1,
    });
    const by = Object.fromEntries(r.estimators.map((e) => [e.name, e]));
    expect(Object.keys(by)).toEqual(['score', 'score+moving-avg', 'score+vimco']);
    expect(worstZ(by.score, by['score+vimco'], r.draws)).toBeLessThan(4);
    expect(worstZ(by.score, by['score+moving-avg'], r.draws)).toBeLessThan(4);
    // Measured (seed 1), ratios to the plain score function: moving average 0.013, VIMCO 0.0034.
    expect(by['score+vimco'].meanVariance).toBeLessThan(0.05 * by.score.meanVariance);
    expect(by['score+vimco'].meanVariance).toBeLessThan(by['score+moving-avg'].meanVariance);
  });

  it("the train step's update is the gradient graph's VIMCO estimate, its loss −mean L̂, and it trains", async () => {
    const cfg = small({
      latentType: 'categorical',
      latent: 2,
      categories: 3,
      objective: 'iwae',
      samples: 3,
      baseline: 'vimco',
      optimizer: { type: 'sgd', momentum: 0 },
    });
    const st = initialState(cfg, 7);
    const B = 4;
    const x = tensorData('float64', [B, 6], Float64Array.from(synthBinary(B, 6, 1)));
    const eps = tensorData('float64', [3, B, 6], new Prng(5).fillUniform(new Float64Array(3 * B * 6)));
    const s = (v: number) => tensorData('float64', [], [v]);
    const train = await runGraph(ort, buildTrainStep(cfg), { x, eps, step: s(1), lr: s(1), beta: s(1), ...st.params });
    const grads = await runGraph(ort, buildGradientGraph(cfg, { name: 'vimco', estimator: 'score', baseline: 'vimco' }, 3), {
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
    expect(worst).toBeLessThan(1e-12);
    expect(Math.abs(train.loss[0] - grads.loss[0])).toBeLessThan(1e-12);

    // Float32 training with Adam on 4 noisy prototypes: the IWAE loss falls.
    const c32 = resolveConfig({
      inputShape: [16],
      hidden: [32],
      latentType: 'bernoulli',
      latent: 4,
      objective: 'iwae',
      samples: 4,
      baseline: 'vimco',
    });
    const st32 = initialState(c32, 1);
    const bundle = await createBundle(c32, st32);
    const t = new Trainer(ort, await ort.InferenceSession.create(bundle.files['train_step.onnx']), bundle.manifest, st32, { lr: 1e-2 });
    const data = synthBinary(256, 16, 4);
    const losses: number[] = [];
    for (let epoch = 0; epoch < 5; epoch++)
      for (let i = 0; i < 256; i += 32) losses.push((await t.trainStep(data.subarray(i * 16, (i + 32) * 16), 32)).loss);
    const avg = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
    expect(avg(losses.slice(-8))).toBeLessThan(0.85 * avg(losses.slice(0, 8)));
  });

  it('rejects configs that do not fit VIMCO, with the field and the reason', () => {
    expect(() => small({ latentType: 'bernoulli', baseline: 'vimco', samples: 4 })).toThrow(/'vimco' is the IWAE bound's estimator/);
    expect(() => small({ latentType: 'bernoulli', baseline: 'vimco', objective: 'iwae', samples: 1 })).toThrow(/'vimco' needs samples ≥ 2/);
    expect(() => small({ baseline: 'vimco', objective: 'iwae', samples: 4 })).toThrow(/baseline is a score-function option/);
    expect(() => small({ latentType: 'bernoulli', baseline: 'leave-one-out', objective: 'iwae', samples: 4 })).toThrow(
      /'leave-one-out' is an ELBO baseline; with objective 'iwae' use 'vimco'/,
    );
    expect(() => buildGradientGraph(small({ samples: 2 }), { name: 'v', estimator: 'score', baseline: 'vimco' }, 2)).toThrow(
      /VIMCO estimates the IWAE bound's gradient/,
    );
  });
});

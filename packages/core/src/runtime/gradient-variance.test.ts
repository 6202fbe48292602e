/**
 * The gradient-variance measurement (graphs: models/gradient-variance.ts): the score function agrees in expectation
 * with reparameterization, and its baselines cut its variance without bias.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { initialState } from '../artifacts/bundle.js';
import { resolveConfig } from '../models/config.js';
import { synthBinary } from '../testing/synthetic.js';
import { measureGradientVariance } from './gradient-variance.js';
import type { SessionFactory } from './runtime.js';

const small = (over: Parameters<typeof resolveConfig>[0] = {}) =>
  resolveConfig({ inputShape: [6], hidden: [5], latent: 2, activation: 'tanh', dtype: 'float64', ...over });

// Every session comes from the host's factory; this one also records the names it was asked for.
const opened: string[] = [];
const factory: SessionFactory = (bytes, name) => {
  opened.push(name);
  return ort.InferenceSession.create(bytes);
};

describe('gradient variance', () => {
  it('agrees in expectation with reparameterization, and its baselines cut the variance without bias', async () => {
    // 300 draws × M = 10 samples = 3000 samples per estimator, each estimator on its own noise stream.
    const cfg = small({ samples: 10 });
    const st = initialState(cfg, 3);
    const batch = 4;
    const r = await measureGradientVariance(ort, factory, cfg, st.params, synthBinary(batch, 6, 1), batch, { draws: 300, seed: 1 });
    expect(r.estimators.map((e) => e.name)).toEqual([
      'reparam',
      'score',
      'score+moving-avg',
      'score+leave-one-out',
      'score+nvil',
      'iwae-score',
      'score+vimco',
    ]);
    // The ELBO's rows (the IWAE bound's rows are checked in models/vimco.test.ts).
    const [reparam, ...score] = r.estimators.filter((e) => e.bound !== 'iwae');
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
    expect(r.reference).toBe('reparam');
  });

  it.each([
    ['the entropy form (Gaussian)', { objective: 'entropy' }],
    ['Bernoulli latents', { latentType: 'bernoulli', latent: 3 }],
    ['categorical latents', { latentType: 'categorical', latent: 2, categories: 3 }],
    // No analytic KL: the reward must carry log p(z₁, z₂) − log q(z₁, z₂|x) too, or the score rows are biased.
    ['two stochastic layers (Monte Carlo KL)', { hierarchical: { latent: 2, hidden: [3] as number[] } }],
    ['two stochastic layers, entropy form', { hierarchical: { latent: 2, hidden: [3] as number[] }, objective: 'entropy' }],
  ] as const)('is unbiased with and without baselines for %s', async (_, over) => {
    // The reference is reparameterization where it exists, else the baseline-free score function; 300 draws × M = 10.
    const cfg = small({ samples: 10, ...over });
    const r = await measureGradientVariance(ort, factory, cfg, initialState(cfg, 3).params, synthBinary(4, 6, 1), 4, {
      draws: 300,
      seed: 1,
    });
    // The ELBO's exact estimators: not the IWAE bound's rows (models/vimco.test.ts) nor the Concrete relaxation's,
    // which is biased for the ELBO (its mean is off by up to ~14 SE here at τ = 0.5).
    const [ref, ...rest] = r.estimators.filter((e) => e.bound !== 'iwae' && !e.relaxation);
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

  it('opens its sessions through the session factory', async () => {
    opened.length = 0;
    const cfg = small({ samples: 2 });
    const r = await measureGradientVariance(ort, factory, cfg, initialState(cfg, 3).params, synthBinary(2, 6, 1), 2, {
      draws: 2,
      warmup: 1,
    });
    expect(r.estimators.map((e) => e.name)).toEqual([
      'reparam',
      'score',
      'score+moving-avg',
      'score+leave-one-out',
      'score+nvil',
      'iwae-score',
      'score+vimco',
    ]);
    expect(opened).toEqual(r.estimators.map(() => 'gradients.onnx'));
  });
});

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
import { buildGradientGraph } from './gradient-variance.js';
import { buildEval, buildTrainStep, optimizerStateSpecs, parameterSpecs } from './graphs.js';
import { BASELINE_STATE } from './score-function.js';

const small = (over: Parameters<typeof resolveConfig>[0] = {}) =>
  resolveConfig({ inputShape: [6], hidden: [5], latent: 2, activation: 'tanh', dtype: 'float64', ...over });

describe('score-function estimator', () => {
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
    expect(() => small({ estimator: 'score', objective: 'iwae', baseline: 'leave-one-out', samples: 2 })).toThrow(
      /with objective 'iwae' use 'vimco'/,
    );
    expect(() => small({ estimator: 'score', baselineDecay: 1 })).toThrow(/baselineDecay must be in \[0, 1\)/);
    expect(() => small({ estimator: 'gumbel' as 'score' })).toThrow(/estimator must be 'reparam' or 'score'/);
    // The gradient-variance graphs take x and eps only: a conditional model (which also needs y) is refused by name.
    const reparam = { name: 'reparam', estimator: 'reparam', baseline: 'none' } as const;
    expect(() => buildGradientGraph(small({ conditional: { classes: 3, prior: 'standard' } }), reparam, 1)).toThrow(/takes y besides x/);
    expect(() => buildGradientGraph(small({ latentType: 'bernoulli' }), reparam, 1)).toThrow(
      /bernoulli latents have no reparameterization/,
    );
  });
});

/** The conditional VAE: gradients, the conditional KL, training on labeled data, and conditional sampling. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle, initialState, type ModelState } from '../artifacts/bundle.js';
import { serializeModel } from '../ir/serialize.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import type { OptimizerConfig } from '../optim/optimizer.js';
import { Prng } from '../random/prng.js';
import { measureAmortizationGap } from '../runtime/refiner.js';
import type { OrtModule } from '../runtime/runtime.js';
import { Sampler } from '../runtime/sampler.js';
import { toOrtTensor } from '../runtime/tensors.js';
import { Trainer } from '../runtime/trainer.js';
import { runGraph } from '../testing/run-graph.js';
import { synthBinary } from '../testing/synthetic.js';
import { classMeans, nearestClassMean, synthLabeled } from '../testing/synthetic-labeled.js';
import { conditionalPriorTable, oneHot } from './conditional.js';
import { resolveConfig, type VaeConfig } from './config.js';
import { buildEval, buildTrainStep, parameterSpecs } from './graphs.js';

const small = (over: Omit<Partial<VaeConfig>, 'optimizer'> & { optimizer?: Partial<OptimizerConfig> } = {}) =>
  resolveConfig({
    inputShape: [6],
    hidden: [5],
    latent: 2,
    activation: 'tanh',
    dtype: 'float64',
    conditional: { classes: 3, prior: 'learned' },
    ...over,
  } as Parameters<typeof resolveConfig>[0]);

/** Parameters with the learned prior moved away from its zero init, so its gradient and KL are not trivial. */
function perturbedState(cfg: VaeConfig, seed: number): ModelState {
  const st = initialState(cfg, seed);
  const r = new Prng(seed + 100);
  for (const [k, t] of Object.entries(st.params)) {
    if (k.startsWith('prior.'))
      st.params[k] = tensorData(
        t.dtype,
        t.shape,
        Array.from(t.data as Float64Array, () => 0.5 * r.normal()),
      );
  }
  return st;
}

describe('conditional VAE graphs', () => {
  it('adds y to every graph, widens the first layers by C, and has the prior p(z|y) as parameters', async () => {
    const cfg = small();
    const specs = Object.fromEntries(parameterSpecs(cfg).map((s) => [s.name, s.shape]));
    expect(specs['encoder.mlp.fc1.weight']).toEqual([6 + 3, 5]);
    expect(specs['decoder.mlp.fc1.weight']).toEqual([2 + 3, 5]);
    expect(specs['prior.mu.weight']).toEqual([3, 2]);
    expect(specs['prior.logvar.bias']).toEqual([2]);
    expect(
      Object.keys(Object.fromEntries(parameterSpecs(small({ conditional: { classes: 3, prior: 'standard' } })).map((s) => [s.name, 1]))),
    ).not.toContain('prior.mu.weight');
    const b = await createBundle(cfg, initialState(cfg, 1));
    for (const g of ['train_step', 'eval', 'encoder', 'decoder'] as const) {
      expect(b.manifest.graphs[g].inputs.find((i) => i.name === 'y')?.shape).toEqual(['batch', 3]);
    }
  });

  it("the train step's gradients equal central differences of the eval graph (learned prior, float64)", async () => {
    // SGD with lr = 1 and no momentum: p_new = p − ∇loss exposes the gradient exactly.
    const cfg = small({ optimizer: { type: 'sgd', momentum: 0 } });
    const st = perturbedState(cfg, 7);
    const B = 4;
    const x = tensorData('float64', [B, 6], Float64Array.from(synthBinary(B, 6, 1)));
    const y = tensorData('float64', [B, 3], oneHot([0, 2, 1, 2], 3, 'float64'));
    const eps = tensorData('float64', [1, B, 2], new Prng(5).fillNormal(new Float64Array(B * 2)));
    const s = (v: number) => tensorData('float64', [], [v]);
    const train = await runGraph(ort, buildTrainStep(cfg), { x, y, eps, step: s(1), lr: s(1), beta: s(1), ...st.params });
    // One session for the ~300 evaluations of the finite differences.
    const evalS = await ort.InferenceSession.create(serializeModel(buildEval(cfg)));
    const lossAt = async (params: Record<string, TensorData>) => {
      const feeds = Object.fromEntries(Object.entries({ x, y, eps, ...params }).map(([k, t]) => [k, toOrtTensor(ort, t)]));
      const r = await evalS.run(feeds);
      const rec = r.rec.data as Float64Array;
      const kl = r.kl.data as Float64Array;
      return rec.reduce((a, v, i) => a - v + kl[i], 0) / B;
    };
    const h = 1e-6;
    let worst = 0;
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
      }
    }
    // float64 central differences, h = 1e-6: truncation ~h², rounding ~1e-16/h ≈ 1e-10.
    expect(worst).toBeLessThan(1e-6);
  });

  it('the analytic KL(q(z|x,y) ‖ p(z|y)) matches its Monte Carlo estimate E_q[log q − log p(z|y)]', async () => {
    const cfg = small();
    const st = perturbedState(cfg, 3);
    const S = 4000;
    const x = tensorData('float64', [2, 6], Float64Array.from(synthBinary(2, 6, 2)));
    const y = tensorData('float64', [2, 3], oneHot([1, 2], 3, 'float64'));
    const eps = tensorData('float64', [S, 2, 2], new Prng(8).fillNormal(new Float64Array(S * 4)));
    const r = await runGraph(ort, buildEval(cfg), { x, y, eps, ...st.params });
    // E_q[log w] = E_q[log p(x|z,y)] − KL: the mean log-weight estimates the ELBO the analytic KL gives.
    for (let b = 0; b < 2; b++) {
      const lw = Array.from({ length: S }, (_, k) => r.log_w[k * 2 + b]);
      const m = lw.reduce((a, v) => a + v, 0) / S;
      const sd = Math.sqrt(lw.reduce((a, v) => a + (v - m) ** 2, 0) / (S - 1));
      expect(Math.abs(m - r.elbo[b])).toBeLessThan((5 * sd) / Math.sqrt(S));
      expect(r.kl[b]).toBeGreaterThan(0);
    }
  });

  it('the fused (Loop) train step feeds each step its own labels: K fused steps equal K single steps', async () => {
    const cfg = small({ dtype: 'float32' });
    const st = initialState(cfg, 2);
    const single = await createBundle(cfg, st);
    const fused = await createBundle(cfg, st, { fusedSteps: 3 });
    const data = synthLabeled(3 * 8, 6, 3, 1);
    const t1 = new Trainer(ort, await ort.InferenceSession.create(single.files['train_step.onnx']), single.manifest, st, { lr: 1e-2 });
    const t3 = new Trainer(ort, await ort.InferenceSession.create(fused.files['train_step.onnx']), fused.manifest, st, { lr: 1e-2 });
    const l1: number[] = [];
    for (let k = 0; k < 3; k++)
      l1.push((await t1.trainStep(data.x.subarray(k * 48, (k + 1) * 48), 8, data.labels.subarray(k * 8, (k + 1) * 8))).loss);
    const m3 = await t3.trainStep(data.x, 8, data.labels);
    // Same float32 kernels in the same order: rounding only.
    expect(Math.abs(m3.loss - l1.reduce((a, b) => a + b) / 3)).toBeLessThan(1e-5);
    await expect(t1.trainStep(data.x.subarray(0, 48), 8)).rejects.toThrow(/conditional \(3 classes\); pass the batch's labels y/);
  });

  it('a conv conditional VAE builds and trains a step (labels as extra input channels)', async () => {
    const cfg = resolveConfig({
      arch: 'conv',
      inputShape: [1, 8, 8],
      convChannels: [4],
      hidden: [8],
      latent: 2,
      conditional: { classes: 3, prior: 'learned' },
    });
    const st = initialState(cfg, 3);
    expect(st.params['encoder.conv1.weight'].shape).toEqual([4, 1 + 3, 4, 4]);
    const b = await createBundle(cfg, st, { evalSamples: 2 });
    const t = new Trainer(ort, await ort.InferenceSession.create(b.files['train_step.onnx']), b.manifest, st, { lr: 1e-3 });
    const data = synthLabeled(8, 64, 3, 2);
    expect(Number.isFinite((await t.trainStep(data.x, 8, data.labels)).loss)).toBe(true);
  });
});

describe('conditional VAE training and sampling', () => {
  for (const prior of ['standard', 'learned'] as const) {
    it(`trains on labeled data and its samples carry their label (${prior} prior, nearest class mean ≥ 80%)`, async () => {
      const C = 4;
      const D = 24;
      const cfg = resolveConfig({ inputShape: [D], hidden: [32], latent: 2, conditional: { classes: C, prior } });
      const st = initialState(cfg, 1);
      const bundle = await createBundle(cfg, st);
      const trainer = new Trainer(ort, await ort.InferenceSession.create(bundle.files['train_step.onnx']), bundle.manifest, st, {
        lr: 1e-2,
      });
      const data = synthLabeled(256, D, C, 4);
      const losses: number[] = [];
      for (let epoch = 0; epoch < 10; epoch++) {
        for (let i = 0; i < 256; i += 32) {
          losses.push((await trainer.trainStep(data.x.subarray(i * D, (i + 32) * D), 32, data.labels.subarray(i, i + 32))).loss);
        }
      }
      const avg = (a: number[]) => a.reduce((p, q) => p + q) / a.length;
      // 24 binary pixels start near 24·log 2 ≈ 17 nats; 8 prototypes with 5% flips are worth far less.
      expect(avg(losses.slice(-8))).toBeLessThan(0.6 * avg(losses.slice(0, 8)));

      const snap = await trainer.snapshot();
      const trained = await createBundle(cfg, snap);
      const sampler = new Sampler(ort, await ort.InferenceSession.create(trained.files['decoder.onnx']), undefined, {
        latent: 2,
        outputSize: D,
        classes: C,
        prior: conditionalPriorTable(cfg, snap.params),
      });
      const means = classMeans(data);
      const per = 50;
      let agree = 0;
      for (let c = 0; c < C; c++) {
        const { x } = await sampler.sample(per, { label: c, seed: 10 + c });
        agree += nearestClassMean(means, C, x, per).filter((p) => p === c).length;
      }
      // A decoder that ignored y would agree about 1/C = 25% of the time; 80% means the label steers the samples.
      expect(agree / (C * per)).toBeGreaterThanOrEqual(0.8);
      if (prior === 'learned') {
        // The learned prior moved away from its N(0, I) start.
        const t = conditionalPriorTable(cfg, snap.params);
        expect(Math.max(...Array.from(t.mu, Math.abs), ...Array.from(t.logvar, Math.abs))).toBeGreaterThan(0.05);
        // Per-datapoint refinement of q(z|x, y) with the labels: no example gets worse (3 standard errors, common ε).
        const n = 32;
        const held = synthLabeled(n, D, C, 4 + 1000);
        const gap = await measureAmortizationGap(
          ort as unknown as OrtModule,
          (b) => ort.InferenceSession.create(b),
          { ...trained, state: snap },
          held.x,
          n,
          {
            steps: 50,
            k: 64,
            y: held.labels,
          },
        );
        const { encoder: e, refined: r } = gap;
        const worse = Array.from(r.elbo).filter((v, i) => v < e.elbo[i] - 3 * Math.hypot(e.elboStdErr[i], r.elboStdErr[i]));
        expect(worse.length).toBe(0);
        const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
        expect(mean(gap.refined.iwae)).toBeGreaterThan(mean(gap.refined.elbo)); // log p(x) ≈ IWAE ≥ refined ELBO
      }
    });
  }
});

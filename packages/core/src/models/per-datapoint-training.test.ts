/**
 * Per-datapoint training ({"inference": "per-datapoint"}) on onnxruntime-node: the table rows' Adam step against
 * finite differences of each example's ELBO, per-row bias correction, rows outside the batch untouched, resume
 * through the checkpoint bit for bit, and q for a new x fitted by encoder.onnx and eval.onnx.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle, initialState, loadBundle, type ModelState } from '../artifacts/bundle.js';
import { serializeModel } from '../ir/serialize.js';
import { Prng } from '../random/prng.js';
import { Evaluator } from '../runtime/evaluator.js';
import { fit } from '../runtime/fit.js';
import { Trainer } from '../runtime/trainer.js';
import { synthBinary } from '../testing/synthetic.js';
import { resolveConfig, type VaeConfigInput } from './config.js';
import { fillLatentNoise } from './discrete.js';
import { parameterSpecs } from './graphs.js';
import { buildPosteriorEval } from './per-datapoint.js';
import { Q_UPDATES, tableTensorNames } from './per-datapoint-training.js';

const D = 12;
const N = 40;
const pd = (over: VaeConfigInput = {}) =>
  resolveConfig({ inputShape: [D], hidden: [16], latent: 3, inference: 'per-datapoint', examples: N, refineSteps: 60, ...over });

async function trainer(cfg: ReturnType<typeof pd>, st: ModelState, lr = 5e-3) {
  const b = await createBundle(cfg, st);
  return { b, t: new Trainer(ort, await ort.InferenceSession.create(b.files['train_step.onnx']), b.manifest, st, { lr }) };
}

/** ELBO_i of each example for given q rows and eps [1, n, L], θ embedded (posterior_eval, float64). */
async function elbos(
  cfg: ReturnType<typeof pd>,
  params: ModelState['params'],
  x: Float64Array,
  mu: Float64Array,
  logvar: Float64Array,
  eps: Float64Array,
) {
  const s = await ort.InferenceSession.create(serializeModel(buildPosteriorEval(cfg, { values: params, samples: 1 })));
  const n = mu.length / cfg.latent;
  const f64 = (a: Float64Array, dims: number[]) => new ort.Tensor('float64', a, dims);
  const out = await s.run({
    x: f64(x, [n, D]),
    'q.mu': f64(mu, [n, cfg.latent]),
    'q.logvar': f64(logvar, [n, cfg.latent]),
    eps: f64(eps, [1, n, cfg.latent]),
  });
  return out.elbo.data as Float64Array;
}

describe('per-datapoint training', () => {
  it('the config implies θ without an encoder plus the q table; bad options name the field', () => {
    const cfg = pd();
    const names = parameterSpecs(cfg).map((s) => s.name);
    expect(names.some((n) => n.startsWith('encoder.'))).toBe(false);
    expect(names.slice(-2)).toEqual(['q.mu', 'q.logvar']);
    expect(parameterSpecs(cfg).slice(-1)[0].shape).toEqual([N, 3]);
    expect(tableTensorNames(cfg)).toEqual([
      'q.mu',
      'q.logvar',
      'q.mu.adam_m',
      'q.mu.adam_v',
      'q.logvar.adam_m',
      'q.logvar.adam_v',
      Q_UPDATES,
    ]);
    expect(cfg.refineLr).toBe(1);
    expect(() => resolveConfig({ inference: 'per-datapoint' })).toThrow(/examples must be the number of training examples/);
    expect(() => resolveConfig({ examples: 10 })).toThrow(/examples is an option of per-datapoint and semi-amortized inference/);
    expect(() => pd({ latentType: 'bernoulli' })).toThrow(/optimizes Gaussian q_i/);
    expect(() => pd({ objective: 'iwae', samples: 2 })).toThrow(/not 'iwae'/);
    expect(() => resolveConfig({ inference: 'semi-amortized', examples: 5 })).toThrow(/examples is a per-datapoint option/);
    expect(resolveConfig({ inference: 'semi-amortized' }).refineSteps).toBe(10);
    expect(() => resolveConfig({ inference: 'lazy' as never })).toThrow(
      /inference must be 'amortized', 'per-datapoint' or 'semi-amortized'/,
    );
  });

  it("each row's update is Adam on the finite-difference gradient of its own ELBO, with the row's own step count", async () => {
    const cfg = pd({ dtype: 'float64' });
    const st = initialState(cfg, 2);
    // Rows that were updated before (t_i = 1, 4, 0 after this step's +1: 2, 5, 1), with nonzero moments.
    const L = cfg.latent;
    const prng = new Prng(9);
    for (const name of ['q.mu', 'q.logvar', 'q.mu.adam_m', 'q.logvar.adam_m']) {
      const t = (st.params[name] ?? st.optState[name]).data as Float64Array;
      for (let i = 0; i < t.length; i++) t[i] = 0.3 * prng.normal();
    }
    for (const name of ['q.mu.adam_v', 'q.logvar.adam_v']) {
      const t = st.optState[name].data as Float64Array;
      for (let i = 0; i < t.length; i++) t[i] = 0.01 + 0.05 * prng.uniform();
    }
    const counts = st.optState[Q_UPDATES].data as Float64Array;
    counts[7] = 1;
    counts[2] = 4;
    const before = structuredClone(st);
    const { t } = await trainer(cfg, st);
    const rows = [7, 2, 30];
    const B = rows.length;
    const x64 = Float64Array.from(synthBinary(B, D, 5));
    // The eps the trainer draws: the same PRNG state, the same fill.
    const eps = fillLatentNoise(cfg, Prng.fromState(before.training.prngState), new Float64Array(B * L));
    await t.trainStep(x64, B, undefined, rows);
    const after = await t.snapshot();
    const pick = (name: string, src: ModelState) => {
      const a = (src.params[name] ?? src.optState[name]).data as Float64Array;
      return Float64Array.from(rows.flatMap((r) => Array.from(a.subarray(r * L, (r + 1) * L))));
    };
    const mu = pick('q.mu', before);
    const lv = pick('q.logvar', before);
    // loss = mean_i (KL_i − rec_i) = −(1/B) Σ ELBO_i: ∂loss/∂q_ij = −(1/B) ∂ELBO_i/∂q_ij, central differences.
    const h = 1e-6;
    const grad = async (which: 'mu' | 'lv', k: number) => {
      const plus = (which === 'mu' ? mu : lv).slice();
      const minus = plus.slice();
      plus[k] += h;
      minus[k] -= h;
      const ep = await elbos(cfg, before.params, x64, which === 'mu' ? plus : mu, which === 'lv' ? plus : lv, eps);
      const em = await elbos(cfg, before.params, x64, which === 'mu' ? minus : mu, which === 'lv' ? minus : lv, eps);
      const i = Math.floor(k / L);
      return -(ep[i] - em[i]) / (2 * h) / B;
    };
    const lr = cfg.refineLr as number;
    for (const [which, name] of [
      ['mu', 'q.mu'],
      ['lv', 'q.logvar'],
    ] as const) {
      const p0 = pick(name, before);
      const m0 = pick(`${name}.adam_m`, before);
      const v0 = pick(`${name}.adam_v`, before);
      const p1 = pick(name, after);
      for (let k = 0; k < B * L; k++) {
        const g = await grad(which, k);
        const ti = counts[rows[Math.floor(k / L)]] + 1;
        const m = 0.9 * m0[k] + 0.1 * g;
        const v = 0.999 * v0[k] + 0.001 * g * g;
        const want = p0[k] - (lr * (m / (1 - 0.9 ** ti))) / (Math.sqrt(v / (1 - 0.999 ** ti)) + 1e-8);
        // float64 graph, central differences with h = 1e-6: the gradient is good to ~1e-9, the step to ~1e-10.
        expect(Math.abs(p1[k] - want), `${name}[${k}]`).toBeLessThan(1e-8);
        expect(Math.abs(p1[k] - p0[k])).toBeGreaterThan(1e-4); // it moved
      }
    }
    // Rows outside the batch are untouched, bit for bit; the counts moved by one for the batch's rows only.
    const mu0 = before.params['q.mu'].data as Float64Array;
    const mu1 = after.params['q.mu'].data as Float64Array;
    for (let r = 0; r < N; r++) if (!rows.includes(r)) expect(mu1.subarray(r * L, (r + 1) * L)).toEqual(mu0.subarray(r * L, (r + 1) * L));
    const c1 = after.optState[Q_UPDATES].data as Float64Array;
    expect([c1[7], c1[2], c1[30], c1[0]]).toEqual([2, 5, 1, 0]);
    // Bad indices are refused before anything runs.
    await expect(t.trainStep(x64, B, undefined, [1, 1, 2])).rejects.toThrow(/example index 1 appears twice/);
    await expect(t.trainStep(x64, B, undefined, [1, 2, N])).rejects.toThrow(new RegExp(`example index ${N} \\(position 2\\) is not a row`));
    await expect(t.trainStep(x64, B)).rejects.toThrow(/pass the batch's example indices/);
  });

  it('resumes through the checkpoint bit for bit (θ, the table, its Adam state and counts)', async () => {
    const cfg = pd();
    const data = synthBinary(N, D, 3);
    // Batches of 8 in a per-epoch order, the last 0 examples dropped: every row is visited once per epoch.
    const source = (epoch: number) => {
      const order = new Prng(100 + epoch).permutation(N);
      return Array.from({ length: N / 8 }, (_, b) => {
        const idx = Array.from(order.slice(b * 8, (b + 1) * 8));
        const x = new Float32Array(8 * D);
        idx.forEach((r, i) => {
          x.set(data.subarray(r * D, (r + 1) * D), i * D);
        });
        return { x, indices: idx };
      });
    };
    const straight = await trainer(cfg, initialState(cfg, 4));
    await fit(straight.t, source, { epochs: 3 });
    const want = await straight.t.snapshot();

    const first = await trainer(cfg, initialState(cfg, 4));
    await fit(first.t, source, { epochs: 2 });
    const saved = await createBundle(cfg, await first.t.snapshot());
    const loaded = await loadBundle(async (f) =>
      f === 'manifest.json' ? new TextEncoder().encode(JSON.stringify(saved.manifest)) : saved.files[f as keyof typeof saved.files],
    );
    const resumed = new Trainer(ort, await ort.InferenceSession.create(loaded.files['train_step.onnx']), loaded.manifest, loaded.state, {
      lr: 5e-3,
    });
    await fit(resumed, source, { epochs: 1 });
    const got = await resumed.snapshot();
    for (const [k, v] of [...Object.entries(want.params), ...Object.entries(want.optState)]) {
      const g = got.params[k] ?? got.optState[k];
      expect(
        Buffer.from(g.data.buffer, g.data.byteOffset, g.data.byteLength).equals(
          Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength),
        ),
        k,
      ).toBe(true);
    }
    expect((want.optState[Q_UPDATES].data as Float32Array).every((c) => c === 3)).toBe(true);
  });

  it('fits q for a new x by refinement in encoder.onnx and eval.onnx: better than the prior, the same q in both, IWAE ≥ ELBO', async () => {
    const cfg = pd({ refineSteps: 80 });
    const data = synthBinary(N + 16, D, 6);
    const { t } = await trainer(cfg, initialState(cfg, 5), 1e-2);
    const train = data.subarray(0, N * D);
    const source = () =>
      Array.from({ length: N / 8 }, (_, b) => ({
        x: train.slice(b * 8 * D, (b + 1) * 8 * D),
        indices: Array.from({ length: 8 }, (_, i) => b * 8 + i),
      }));
    await fit(t, source, { epochs: 80 });
    const snap = await t.snapshot();
    const b = await createBundle(cfg, snap);
    const test = data.slice(N * D);
    const n = 16;
    const enc = await ort.InferenceSession.create(b.files['encoder.onnx']);
    const q = await enc.run({ x: new ort.Tensor('float32', test, [n, D]) });
    const mu = q.mu.data as Float32Array;
    const logvar = q.logvar.data as Float32Array;
    // The refined q against the prior's N(0, I), on the same 64 draws of ε per example.
    const post = await ort.InferenceSession.create(serializeModel(buildPosteriorEval(cfg, { values: snap.params, samples: 64 })));
    const eps = new Prng(8).fillNormal(new Float32Array(64 * n * cfg.latent));
    const run = async (m: Float32Array, lv: Float32Array) =>
      (
        await post.run({
          x: new ort.Tensor('float32', test, [n, D]),
          'q.mu': new ort.Tensor('float32', m, [n, cfg.latent]),
          'q.logvar': new ort.Tensor('float32', lv, [n, cfg.latent]),
          eps: new ort.Tensor('float32', eps, [64, n, cfg.latent]),
        })
      ).elbo.data as Float32Array;
    const refined = await run(mu, logvar);
    const prior = await run(new Float32Array(n * cfg.latent), new Float32Array(n * cfg.latent));
    const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    console.info(`refined q: ELBO ${mean(refined).toFixed(3)}, prior q: ${mean(prior).toFixed(3)}`);
    expect(mean(refined)).toBeGreaterThan(mean(prior) + 0.5);
    // eval.onnx refines with the same embedded noise: its ELBO is posterior_eval's at the encoder's q (same eps).
    const evalS = await ort.InferenceSession.create(b.files['eval.onnx']);
    const params = Object.fromEntries(
      b.manifest.params
        .filter((e) => !e.name.startsWith('q.'))
        .map((e) => [e.name, new ort.Tensor('float32', snap.params[e.name].data as Float32Array, e.shape)]),
    );
    const ev = await evalS.run({
      x: new ort.Tensor('float32', test, [n, D]),
      eps: new ort.Tensor('float32', eps, [64, n, cfg.latent]),
      ...params,
    });
    const e2 = ev.elbo.data as Float32Array;
    for (let i = 0; i < n; i++) expect(Math.abs(e2[i] - refined[i])).toBeLessThan(1e-4);
    // The Evaluator over eval.onnx (θ only): IWAE ≥ ELBO, and k = 200 ≥ k = 10 (both with the one fitted q).
    const evaluator = new Evaluator(ort, evalS, b.manifest, t.parameterTensors);
    const r10 = await evaluator.evaluate(test, n, { k: 10, seed: 1 });
    const r200 = await evaluator.evaluate(test, n, { k: 200, seed: 1 });
    expect(r200.iwae).toBeGreaterThanOrEqual(r200.elbo);
    expect(r200.iwae).toBeGreaterThan(r10.iwae - 0.05);
    expect(Object.keys(t.parameterTensors).some((k) => k.startsWith('q.'))).toBe(false);
  });
});

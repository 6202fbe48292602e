/** Per-datapoint inference: the graphs' numbers and gradients (the refinement loop: runtime/refiner.test.ts). */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle, initialState } from '../artifacts/bundle.js';
import { serializeModel } from '../ir/serialize.js';
import { tensorData } from '../ir/tensor.js';
import { Prng } from '../random/prng.js';
import { toOrtTensor } from '../runtime/tensors.js';
import { runGraph } from '../testing/run-graph.js';
import { synthBinary } from '../testing/synthetic.js';
import { resolveConfig, type VaeConfig } from './config.js';
import { buildEval, updatedName } from './graphs.js';
import { buildPosteriorEval, buildRefineStep, generativeSpecs, Q_LOGVAR, Q_MU } from './per-datapoint.js';

const f64 = (shape: number[], data: ArrayLike<number>) => tensorData('float64', shape, Float64Array.from(data));
const normal = (n: number, seed: number) => new Prng(seed).fillNormal(new Float64Array(n));
const small = (over: Partial<VaeConfig> = {}) =>
  resolveConfig({ inputShape: [6], hidden: [5], latent: 2, activation: 'tanh', dtype: 'float64', ...over });

describe('per-datapoint graphs', () => {
  it("posterior_eval with the encoder's q gives eval.onnx's numbers (same ε)", async () => {
    const cfg = small();
    const st = initialState(cfg, 3);
    const B = 4;
    const S = 5;
    const x = f64([B, 6], synthBinary(B, 6, 1));
    const eps = f64([S, B, 2], normal(S * B * 2, 2));
    const ev = await runGraph(ort, buildEval(cfg), { x, eps, ...st.params });
    // The encoder's μ, log σ² come from the same parameters through encoder.onnx.
    const bundle = await createBundle(cfg, st);
    const enc = await (await ort.InferenceSession.create(bundle.files['encoder.onnx'])).run({
      x: new ort.Tensor('float64', x.data as Float64Array, [B, 6]),
    });
    const pe = await runGraph(ort, buildPosteriorEval(cfg, { values: st.params }), {
      x,
      eps,
      [Q_MU]: f64([B, 2], enc.mu.data as Float64Array),
      [Q_LOGVAR]: f64([B, 2], enc.logvar.data as Float64Array),
    });
    // The same float64 ops in the same order: equal to rounding.
    for (const k of ['elbo', 'rec', 'kl', 'log_w'])
      for (const [i, v] of ev[k].entries()) expect(Math.abs(v - pe[k][i])).toBeLessThan(1e-12);
    expect(generativeSpecs(cfg).every((s) => !s.name.startsWith('encoder.'))).toBe(true);
  });

  it("one refine step moves each q_i along its own ELBO's gradient (central differences, float64)", async () => {
    // SGD with lr = 1: q_new = q + ∇_q Σ_i ELBO_i, so the step exposes the gradient exactly.
    const cfg = small();
    const st = initialState(cfg, 5);
    const B = 3;
    const x = f64([B, 6], synthBinary(B, 6, 4));
    const eps = normal(2 * B * 2, 6);
    const mu = normal(B * 2, 7);
    const logvar = normal(B * 2, 8).map((v) => 0.3 * v);
    const g = buildRefineStep(cfg, { values: st.params, samples: 2, optimizer: { type: 'sgd', momentum: 0 } });
    const out = await runGraph(ort, g, {
      x,
      eps: f64([1, 2, B, 2], eps),
      step: f64([], [1]),
      lr: f64([], [1]),
      [Q_MU]: f64([B, 2], mu),
      [Q_LOGVAR]: f64([B, 2], logvar),
    });
    // The decoder fed as inputs instead of embedded: the same graph, the same numbers.
    const fed = await runGraph(ort, buildRefineStep(cfg, { samples: 2, optimizer: { type: 'sgd', momentum: 0 } }), {
      x,
      eps: f64([1, 2, B, 2], eps),
      step: f64([], [1]),
      lr: f64([], [1]),
      [Q_MU]: f64([B, 2], mu),
      [Q_LOGVAR]: f64([B, 2], logvar),
      ...Object.fromEntries(generativeSpecs(cfg).map((sp) => [sp.name, st.params[sp.name]])),
    });
    // Embedded weights may be constant-folded differently: float64 rounding only.
    for (const k of Object.keys(out)) for (const [i, v] of out[k].entries()) expect(Math.abs(fed[k][i] - v)).toBeLessThan(1e-12);
    const pe = await ort.InferenceSession.create(serializeModel(buildPosteriorEval(cfg, { values: st.params })));
    const elbo = async (m: Float64Array, lv: Float64Array) => {
      const feeds = { x, eps: f64([2, B, 2], eps), [Q_MU]: f64([B, 2], m), [Q_LOGVAR]: f64([B, 2], lv) };
      const r = await pe.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, toOrtTensor(ort, t)])));
      return Array.from(r.elbo.data as Float64Array);
    };
    const e0 = await elbo(mu, logvar);
    for (const [i, v] of out.elbo.entries()) expect(Math.abs(v - e0[i])).toBeLessThan(1e-12);
    const h = 1e-6;
    let worst = 0;
    for (const [name, base] of [
      [Q_MU, mu],
      [Q_LOGVAR, logvar],
    ] as const) {
      for (let j = 0; j < base.length; j++) {
        const plus = Float64Array.from(base);
        const minus = Float64Array.from(base);
        plus[j] += h;
        minus[j] -= h;
        const ep = name === Q_MU ? await elbo(plus, logvar) : await elbo(mu, plus);
        const em = name === Q_MU ? await elbo(minus, logvar) : await elbo(mu, minus);
        const ex = Math.floor(j / 2);
        // Only example ex's ELBO depends on row ex of q: the other rows' differences are zero.
        const num = ep.reduce((s, v, i) => s + v - em[i], 0) / (2 * h);
        expect(Math.abs(ep[(ex + 1) % B] - em[(ex + 1) % B])).toBe(0);
        worst = Math.max(worst, Math.abs(out[updatedName(name)][j] - base[j] - num) / Math.max(1, Math.abs(num)));
      }
    }
    // float64 central differences, h = 1e-6: truncation ~h², rounding ~1e-16/h ≈ 1e-10.
    expect(worst).toBeLessThan(1e-6);
  });

  it('joint mode (no encoder: free q_i and the decoder trained together) raises the ELBO', async () => {
    const cfg = small({ inputShape: [16], hidden: [16], dtype: 'float32' });
    const n = 64;
    const L = 2;
    const specs = generativeSpecs(cfg);
    const g = buildRefineStep(cfg, { decoder: 'joint' });
    const s = await ort.InferenceSession.create(serializeModel(g));
    const st = initialState(cfg, 1);
    const t = (shape: number[], data?: Float32Array) =>
      new ort.Tensor('float32', data ?? new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
    const feeds: Record<string, ort.Tensor> = {
      x: t([n, 16], synthBinary(n, 16, 2)),
      lr: t([], Float32Array.of(2e-2)),
      [Q_MU]: t([n, L]),
      [Q_LOGVAR]: t([n, L]),
    };
    for (const name of g.inputs.map((v) => v.name).filter((v) => v.startsWith('q.') && v !== Q_MU && v !== Q_LOGVAR))
      feeds[name] = t([n, L]);
    for (const sp of specs) {
      feeds[sp.name] = t(sp.shape, st.params[sp.name].data as Float32Array);
      feeds[`${sp.name}.adam_m`] = t(sp.shape);
      feeds[`${sp.name}.adam_v`] = t(sp.shape);
    }
    const prng = new Prng(3);
    const K = 100;
    const means: number[] = [];
    for (let run = 0; run < 4; run++) {
      const out = await s.run({
        ...feeds,
        eps: t([K, 1, n, L], prng.fillNormal(new Float32Array(K * n * L))),
        step: t([], Float32Array.of(run * K + 1)),
        decoder_step: t([], Float32Array.of(run * K + 1)),
      });
      for (const name of Object.keys(feeds)) if (out[updatedName(name)]) feeds[name] = out[updatedName(name)] as ort.Tensor;
      const el = out.elbo.data as Float32Array;
      means.push(el.slice(0, n).reduce((a, b) => a + b) / n, el.slice(-n).reduce((a, b) => a + b) / n);
    }
    // 16 binary pixels start near −16·log 2 ≈ −11 nats; 4 noisy prototypes are worth far less after 400 steps.
    expect(means[means.length - 1]).toBeGreaterThan(means[0] + 3);
  });
});

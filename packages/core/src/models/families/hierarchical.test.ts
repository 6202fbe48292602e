/**
 * The two-stochastic-layer family: its graphs and config; eval.onnx's terms against a float64 computation in
 * TypeScript from the same weights; the train step's gradients (ELBO and IWAE) against central differences of
 * eval.onnx; decoder.onnx's ancestral sample and encoder.onnx's coordinates; training and the IWAE bound in k.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle, initialState, type ModelState, parseManifest } from '../../artifacts/bundle.js';
import { serializeModel } from '../../ir/serialize.js';
import { type TensorData, tensorData } from '../../ir/tensor.js';
import type { OptimizerConfig } from '../../optim/optimizer.js';
import { Prng } from '../../random/prng.js';
import { Evaluator } from '../../runtime/evaluator.js';
import { openSampler } from '../../runtime/open-sampler.js';
import { toOrtTensor } from '../../runtime/tensors.js';
import { Trainer } from '../../runtime/trainer.js';
import { runGraph } from '../../testing/run-graph.js';
import { synthBinary } from '../../testing/synthetic.js';
import { resolveConfig, type VaeConfig } from '../config.js';
import { buildDecoder, buildEncoder, buildEval, buildTrainStep, parameterSpecs } from '../graphs.js';
import { latentFamily } from './index.js';

const D = 6;
const L1 = 3;
const L2 = 2;
const small = (over: Omit<Partial<VaeConfig>, 'optimizer'> & { optimizer?: Partial<OptimizerConfig> } = {}) =>
  resolveConfig({
    inputShape: [D],
    hidden: [5],
    latent: L1,
    activation: 'tanh',
    dtype: 'float64',
    hierarchical: { latent: L2, hidden: [4, 3] },
    ...over,
  });

// ---- an independent float64 reference: the model's densities written out from the weights ----------------------

type Params = Record<string, TensorData>;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** x·W + b for one example (W [in, out] as the graphs store it). */
function lin(ps: Params, name: string, x: readonly number[]): number[] {
  const w = ps[`${name}.weight`];
  const b = ps[`${name}.bias`].data as Float64Array;
  const [inF, outF] = w.shape as [number, number];
  expect(x.length).toBe(inF);
  return Array.from({ length: outF }, (_, j) => x.reduce((s, v, i) => s + v * Number(w.data[i * outF + j]), Number(b[j])));
}

/** `layers` linear layers, each followed by tanh (the trunk of a Gaussian layer). */
function trunk(ps: Params, prefix: string, x: readonly number[], layers: number): number[] {
  let h = [...x];
  for (let i = 1; i <= layers; i++) h = lin(ps, `${prefix}.mlp.fc${i}`, h).map(Math.tanh);
  return h;
}

function gaussianLayer(ps: Params, prefix: string, x: readonly number[], layers: number): { mu: number[]; logvar: number[] } {
  const h = trunk(ps, prefix, x, layers);
  return { mu: lin(ps, `${prefix}.mu`, h), logvar: lin(ps, `${prefix}.logvar`, h) };
}

/** Decoder logits: linear layers with tanh between them and none after the last. */
function decoderLogits(ps: Params, z1: readonly number[], layers: number): number[] {
  let h = [...z1];
  for (let i = 1; i <= layers; i++) {
    h = lin(ps, `decoder.mlp.fc${i}`, h);
    if (i < layers) h = h.map(Math.tanh);
  }
  return h;
}

const logNormal = (z: readonly number[], mu: readonly number[], lv: readonly number[]) =>
  z.reduce((s, v, i) => s - HALF_LOG_2PI - 0.5 * lv[i] - (v - mu[i]) ** 2 / (2 * Math.exp(lv[i])), 0);
const softplus = (l: number) => Math.max(l, 0) + Math.log1p(Math.exp(-Math.abs(l)));

/** log p(x|z₁) + log p(z₁|z₂) + log p(z₂) − log q(z₁|x) − log q(z₂|z₁) for one example and noise ε = [ε₁ | ε₂]. */
function referenceLogWeight(ps: Params, x: readonly number[], eps: readonly number[]) {
  const q1 = gaussianLayer(ps, 'encoder', x, 1);
  const z1 = q1.mu.map((m, i) => m + Math.exp(0.5 * q1.logvar[i]) * eps[i]);
  const q2 = gaussianLayer(ps, 'encoder.z2', z1, 2);
  const z2 = q2.mu.map((m, i) => m + Math.exp(0.5 * q2.logvar[i]) * eps[L1 + i]);
  const pz1 = gaussianLayer(ps, 'prior', z2, 2);
  const logits = decoderLogits(ps, z1, 2);
  const logpx = x.reduce((s, v, i) => s + v * logits[i] - softplus(logits[i]), 0);
  const logpz = logNormal(z1, pz1.mu, pz1.logvar) + logNormal(z2, [0, 0], [0, 0]);
  const logqz = logNormal(z1, q1.mu, q1.logvar) + logNormal(z2, q2.mu, q2.logvar);
  return { logpx, logw: logpx + logpz - logqz, kl: logqz - logpz };
}

const feeds = (t: Record<string, TensorData>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, toOrtTensor(ort, v)]));

describe('hierarchical latents: graphs and config', () => {
  it('has the parameters of both layers, noise [ε₁ | ε₂] and a decoder input [z₂ | e₁]', async () => {
    const cfg = small();
    const fam = latentFamily(cfg);
    expect(fam.name).toBe('hierarchical');
    expect(fam.noise).toEqual({ width: L1 + L2, distribution: 'normal' });
    expect(fam.decoderInput).toEqual({ width: L2 + L1 });
    const specs = Object.fromEntries(parameterSpecs(cfg).map((s) => [s.name, s.shape]));
    expect(specs['encoder.mu.weight']).toEqual([5, L1]);
    expect(specs['encoder.z2.mlp.fc1.weight']).toEqual([L1, 4]);
    expect(specs['encoder.z2.mu.weight']).toEqual([3, L2]);
    expect(specs['prior.mlp.fc1.weight']).toEqual([L2, 3]); // p(z₁|z₂)'s layers are q(z₂|z₁)'s reversed
    expect(specs['prior.logvar.weight']).toEqual([4, L1]);
    expect(specs['decoder.mlp.fc1.weight']).toEqual([L1, 5]);
    const b = await createBundle(cfg, initialState(cfg, 1));
    const io = (g: 'eval' | 'encoder' | 'decoder', dir: 'inputs' | 'outputs') =>
      Object.fromEntries(b.manifest.graphs[g][dir].filter((t) => !t.name.includes('.')).map((t) => [t.name, t.shape]));
    expect(io('eval', 'inputs').eps).toEqual(['samples', 'batch', L1 + L2]);
    expect(io('eval', 'outputs').log_w).toEqual(['samples', 'batch']);
    expect(io('decoder', 'inputs').z).toEqual(['batch', L2 + L1]);
    expect(io('encoder', 'outputs')).toEqual({
      mu: ['batch', L2 + L1],
      logvar: ['batch', L2 + L1],
      mu1: ['batch', L1],
      logvar1: ['batch', L1],
      mu2: ['batch', L2],
      logvar2: ['batch', L2],
    });
    // The manifest keeps the resolved field and reads it back.
    expect(parseManifest(JSON.stringify(b.manifest), 'manifest.json').config.hierarchical).toEqual({ latent: L2, hidden: [4, 3] });
  });

  it('refuses configs it cannot build, naming the field', () => {
    const h = { latent: 2, hidden: [] };
    expect(resolveConfig({ hierarchical: { latent: 2 } as never }).hierarchical).toEqual(h); // hidden defaults to []
    expect(() => resolveConfig({ hierarchical: { latent: 0, hidden: [] } })).toThrow(/hierarchical\.latent must be a positive integer/);
    expect(() => resolveConfig({ hierarchical: { latent: 2, hidden: [3, -1] } })).toThrow(/hierarchical\.hidden must be positive integers/);
    expect(() => resolveConfig({ hierarchical: 5 as never })).toThrow(/hierarchical must be \{latent, hidden\}/);
    expect(() => resolveConfig({ hierarchical: h, conditional: { classes: 3, prior: 'standard' } })).toThrow(/cannot be combined/);
    expect(() => resolveConfig({ hierarchical: h, estimator: 'score' })).toThrow(/reparameterization estimator/);
    expect(() => resolveConfig({ hierarchical: h, latentType: 'bernoulli' })).toThrow(/Gaussian latents/);
    const cfg = small();
    const manifestWith = async (hier: unknown) => {
      const m = (await createBundle(cfg, initialState(cfg, 1))).manifest;
      return JSON.stringify({ ...m, config: { ...m.config, hierarchical: hier } });
    };
    return Promise.all([
      manifestWith({ latent: 2.5, hidden: [4, 3] }).then((t) =>
        expect(() => parseManifest(t, 'm.json')).toThrow(/config\.hierarchical\.latent/),
      ),
      manifestWith({ latent: 2, hidden: [4, 3], extra: 1 }).then((t) => expect(() => parseManifest(t, 'm.json')).toThrow(/extra/)),
      // A consistent field with other widths does not describe the listed tensors.
      manifestWith({ latent: 3, hidden: [4, 3] }).then((t) => expect(() => parseManifest(t, 'm.json')).toThrow()),
    ]);
  });
});

describe('hierarchical latents: the bound', () => {
  it("eval.onnx's log_w, rec, kl and elbo equal a float64 computation from the same weights", async () => {
    const cfg = small();
    const st = initialState(cfg, 3);
    const B = 3;
    const S = 4;
    const xs = Float64Array.from(synthBinary(B, D, 2));
    const es = new Prng(9).fillNormal(new Float64Array(S * B * (L1 + L2)));
    const r = await runGraph(ort, buildEval(cfg), {
      x: tensorData('float64', [B, D], xs),
      eps: tensorData('float64', [S, B, L1 + L2], es),
      ...st.params,
    });
    for (let b = 0; b < B; b++) {
      const x = Array.from(xs.subarray(b * D, (b + 1) * D));
      const ref = Array.from({ length: S }, (_, s) =>
        referenceLogWeight(st.params, x, Array.from(es.subarray((s * B + b) * (L1 + L2), (s * B + b + 1) * (L1 + L2)))),
      );
      const mean = (f: (v: (typeof ref)[number]) => number) => ref.reduce((a, v) => a + f(v), 0) / S;
      // float64 throughout: the two computations differ by rounding only (~1e-15 relative on terms of a few nats).
      for (let s = 0; s < S; s++) expect(r.log_w[s * B + b]).toBeCloseTo(ref[s].logw, 10);
      expect(r.rec[b]).toBeCloseTo(
        mean((v) => v.logpx),
        10,
      );
      // No closed form for KL(q(z₁, z₂|x) ‖ p(z₁, z₂)): the KL form's Monte Carlo estimate E_q[log q − log p].
      expect(r.kl[b]).toBeCloseTo(
        mean((v) => v.kl),
        10,
      );
      expect(r.elbo[b]).toBeCloseTo(
        mean((v) => v.logw),
        10,
      );
    }
  });

  it("the train step's gradients equal central differences of eval.onnx, for the ELBO and for IWAE (k = 3)", async () => {
    const B = 3;
    for (const objective of ['kl', 'iwae'] as const) {
      const M = objective === 'iwae' ? 3 : 1;
      // SGD with lr = 1 and no momentum: p_new = p − ∇loss exposes the gradient exactly.
      const cfg = small({ objective, samples: M, optimizer: { type: 'sgd', momentum: 0 } });
      const st = initialState(cfg, 7);
      const x = tensorData('float64', [B, D], Float64Array.from(synthBinary(B, D, 1)));
      const eps = tensorData('float64', [M, B, L1 + L2], new Prng(5).fillNormal(new Float64Array(M * B * (L1 + L2))));
      const s = (v: number) => tensorData('float64', [], [v]);
      const train = await runGraph(ort, buildTrainStep(cfg), { x, eps, step: s(1), lr: s(1), beta: s(1), ...st.params });
      const evalS = await ort.InferenceSession.create(serializeModel(buildEval(cfg)));
      const lossAt = async (params: ModelState['params']) => {
        const r = await evalS.run(feeds({ x, eps, ...params }));
        const lw = r.log_w.data as Float64Array;
        let loss = 0;
        for (let b = 0; b < B; b++) {
          // −(log (1/M) Σ_m w_m); for M = 1 that is −log w = −(rec − kl) of the one sample.
          const col = Array.from({ length: M }, (_, m) => lw[m * B + b]);
          const mx = Math.max(...col);
          loss -= mx + Math.log(col.reduce((a, v) => a + Math.exp(v - mx), 0) / M);
        }
        return loss / B;
      };
      expect(train.loss[0]).toBeCloseTo(await lossAt(st.params), 12);
      const h = 1e-6;
      let worst = 0;
      for (const spec of parameterSpecs(cfg)) {
        const p = st.params[spec.name];
        for (let i = 0; i < p.data.length; i++) {
          const at = (d: number) => {
            const v = Float64Array.from(p.data as Float64Array);
            v[i] += d;
            return lossAt({ ...st.params, [spec.name]: tensorData('float64', p.shape, v) });
          };
          const num = ((await at(h)) - (await at(-h))) / (2 * h);
          const analytic = Number(p.data[i]) - train[`${spec.name}_new`][i];
          worst = Math.max(worst, Math.abs(num - analytic) / Math.max(1, Math.abs(num)));
        }
      }
      await evalS.release();
      // float64 central differences, h = 1e-6: truncation ~h², rounding ~1e-16/h ≈ 1e-10.
      expect(worst, objective).toBeLessThan(1e-6);
    }
  });
});

describe('hierarchical latents: decoder, encoder and sampler', () => {
  it('decoder.onnx maps [z₂ | e₁] through p(z₁|z₂) to E[x|z₁]; decoding the encoder’s mu reconstructs from q(z₁|x)’s mean', async () => {
    const cfg = small();
    const st = initialState(cfg, 4);
    const n = 3;
    const u = new Prng(2).fillNormal(new Float64Array(n * (L2 + L1)));
    const dec = await runGraph(ort, buildDecoder(cfg, st.params), { z: tensorData('float64', [n, L2 + L1], u) });
    const sigmoid = (l: number) => 1 / (1 + Math.exp(-l));
    for (let i = 0; i < n; i++) {
      const row = Array.from(u.subarray(i * (L2 + L1), (i + 1) * (L2 + L1)));
      const pz1 = gaussianLayer(st.params, 'prior', row.slice(0, L2), 2);
      const z1 = pz1.mu.map((m, j) => m + Math.exp(0.5 * pz1.logvar[j]) * row[L2 + j]);
      const want = decoderLogits(st.params, z1, 2).map(sigmoid);
      for (let d = 0; d < D; d++) expect(dec.x_mean[i * D + d]).toBeCloseTo(want[d], 12);
    }

    const xs = Float64Array.from(synthBinary(n, D, 3));
    const enc = await runGraph(ort, buildEncoder(cfg, st.params), { x: tensorData('float64', [n, D], xs) });
    const rec = await runGraph(ort, buildDecoder(cfg, st.params), { z: tensorData('float64', [n, L2 + L1], enc.mu) });
    for (let i = 0; i < n; i++) {
      const q1 = gaussianLayer(st.params, 'encoder', Array.from(xs.subarray(i * D, (i + 1) * D)), 1);
      const q2 = gaussianLayer(st.params, 'encoder.z2', q1.mu, 2);
      expect(
        enc.mu1
          .slice(i * L1, (i + 1) * L1)
          .map((v, j) => v - q1.mu[j])
          .every((d) => Math.abs(d) < 1e-12),
      ).toBe(true);
      expect(
        enc.mu
          .slice(i * (L2 + L1), i * (L2 + L1) + L2)
          .map((v, j) => v - q2.mu[j])
          .every((d) => Math.abs(d) < 1e-12),
      ).toBe(true);
      const want = decoderLogits(st.params, q1.mu, 2).map(sigmoid);
      // z₁ = μ_p + σ_p·(μ₁ − μ_p)/σ_p = μ₁ up to rounding.
      for (let d = 0; d < D; d++) expect(rec.x_mean[i * D + d]).toBeCloseTo(want[d], 10);
    }
  });

  it('openSampler draws, decodes and reconstructs a hierarchical bundle (float32, as hosts run it)', async () => {
    const cfg = small({ dtype: 'float32' });
    const st = initialState(cfg, 5);
    const b = await createBundle(cfg, st);
    const host = { ort, createSession: (bytes: Uint8Array) => ort.InferenceSession.create(bytes) };
    const sampler = await openSampler(host, { ...b, state: st });
    expect(sampler.latent).toBe(L2 + L1);
    const { z, x } = await sampler.sample(8, { seed: 1, temperature: 0.8 });
    expect(z.length).toBe(8 * (L2 + L1));
    expect(x.length).toBe(8 * D);
    expect(x.every((v) => v >= 0 && v <= 1)).toBe(true);
    const data = synthBinary(4, D, 6);
    const r = await sampler.reconstruct(data, 4);
    expect(r.length).toBe(4 * D);
    await sampler.release();
  });
});

describe('hierarchical latents: training and the IWAE bound', () => {
  it('trains with IWAE (k = 5): the loss falls, and on the trained model L_k rises with k and lies above the ELBO', async () => {
    const cfg = resolveConfig({
      inputShape: [16],
      hidden: [32],
      latent: 4,
      activation: 'tanh',
      hierarchical: { latent: 2, hidden: [16] },
      objective: 'iwae',
      samples: 5,
    });
    const st = initialState(cfg, 1);
    const bundle = await createBundle(cfg, st);
    const trainer = new Trainer(ort, await ort.InferenceSession.create(bundle.files['train_step.onnx']), bundle.manifest, st, { lr: 5e-3 });
    // 256 training and 64 held-out examples of the same 4 prototypes.
    const all = synthBinary(320, 16, 4);
    const data = all.subarray(0, 256 * 16);
    const losses: number[] = [];
    for (let epoch = 0; epoch < 15; epoch++) {
      for (let i = 0; i < 256; i += 32) losses.push((await trainer.trainStep(data.subarray(i * 16, (i + 32) * 16), 32)).loss);
    }
    const avg = (a: number[]) => a.reduce((p, q) => p + q) / a.length;
    // 16 binary pixels start near 16·log 2 ≈ 11 nats; 4 prototypes with 5% flips are worth far less.
    expect(avg(losses.slice(-8))).toBeLessThan(0.7 * avg(losses.slice(0, 8)));

    const ev = new Evaluator(ort, await ort.InferenceSession.create(bundle.files['eval.onnx']), bundle.manifest, trainer.parameterTensors);
    const test = all.subarray(256 * 16);
    const ks = [1, 5, 50, 500];
    const res = [];
    // One seed and one chunk per k: the first k samples of each example are shared across k (nested estimates).
    for (const k of ks) res.push(await ev.evaluate(test, 64, { k, chunk: 500, seed: 3 }));
    // E[log p̂_k] is non-decreasing in k (Burda et al. 2016, Thm 1); 0.02 nats covers the nested estimates' noise.
    for (let i = 1; i < ks.length; i++) expect(res[i].iwae).toBeGreaterThanOrEqual(res[i - 1].iwae - 0.02);
    // The ELBO averaged over 500 samples is a precise L_1; L_500 lies above it by the (positive) gap.
    const elbo = res[ks.length - 1].elbo;
    expect(Math.abs(res[0].iwae - elbo)).toBeLessThan(1); // L_1 from one sample: E[log w] = ELBO, noisy
    expect(res[ks.length - 1].iwae).toBeGreaterThan(elbo + 0.01);
  });
});

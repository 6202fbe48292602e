import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle, encodeCheckpoint, initialState, loadBundle } from '../artifacts/bundle.js';
import { tensorData } from '../ir/tensor.js';
import { Prng } from '../random/prng.js';
import { Evaluator } from '../runtime/evaluator.js';
import { Trainer } from '../runtime/trainer.js';
import { runGraph } from '../testing/run-graph.js';
import { synthBinary } from '../testing/synthetic.js';
import { resolveConfig } from './config.js';
import { buildEval, buildTrainStep, parameterSpecs } from './graphs.js';

const small = (over = {}) => resolveConfig({ inputShape: [6], hidden: [5], latent: 2, activation: 'tanh', ...over });

describe('train step', () => {
  it('its gradients equal central differences of the eval graph (float64)', async () => {
    // SGD with lr = 1 and no momentum makes p_new = p − ∇loss, so the train step exposes its gradient exactly.
    const cfg = small({ dtype: 'float64', optimizer: { type: 'sgd', momentum: 0 } });
    const st = initialState(cfg, 7);
    const B = 3;
    const x = synthBinary(B, 6, 1);
    const eps = new Float64Array(cfg.samples * B * cfg.latent);
    new Prng(5).fillNormal(eps);
    const xs = tensorData('float64', [B, 6], Float64Array.from(x));
    const epsT = tensorData('float64', [cfg.samples, B, cfg.latent], eps);
    const scalar = (v: number) => tensorData('float64', [], [v]);
    const train = await runGraph(ort, buildTrainStep(cfg), {
      x: xs,
      eps: epsT,
      step: scalar(1),
      lr: scalar(1),
      beta: scalar(1),
      ...st.params,
    });
    const evalG = buildEval(cfg);
    // loss = mean over the batch of −rec + β·KL (β = 1, analytic KL: the same terms eval reports).
    const lossAt = async (params: typeof st.params) => {
      const r = await runGraph(ort, evalG, { x: xs, eps: epsT, ...params });
      return r.rec.reduce((s, v, i) => s - v + r.kl[i], 0) / B;
    };
    const h = 1e-6;
    let worst = 0;
    for (const spec of parameterSpecs(cfg)) {
      const p = st.params[spec.name];
      const analytic = train[`${spec.name}_new`].map((v, i) => Number(p.data[i]) - v);
      for (let i = 0; i < p.data.length; i++) {
        const plus = Float64Array.from(p.data as Float64Array);
        const minus = Float64Array.from(p.data as Float64Array);
        plus[i] += h;
        minus[i] -= h;
        const num =
          ((await lossAt({ ...st.params, [spec.name]: tensorData('float64', p.shape, plus) })) -
            (await lossAt({ ...st.params, [spec.name]: tensorData('float64', p.shape, minus) }))) /
          (2 * h);
        worst = Math.max(worst, Math.abs(num - analytic[i]) / Math.max(1, Math.abs(num)));
      }
    }
    // Central differences in float64 with h = 1e-6: truncation ~h² and rounding ~1e-16/h ≈ 1e-10.
    expect(worst).toBeLessThan(1e-6);
  });

  it('the KL and entropy forms give the same expected ELBO', async () => {
    // Same parameters, many samples: the two estimates of the bound agree within Monte Carlo error.
    const cfgKl = small({ dtype: 'float64', samples: 4000 });
    const st = initialState(cfgKl, 3);
    const x = synthBinary(2, 6, 2);
    const eps = new Float64Array(4000 * 2 * 2);
    new Prng(8).fillNormal(eps);
    const feeds = { x: tensorData('float64', [2, 6], Float64Array.from(x)), eps: tensorData('float64', [4000, 2, 2], eps), ...st.params };
    const r = await runGraph(ort, buildEval(cfgKl), feeds);
    // Entropy form per sample: log p(x|z) + log p(z) + H(q) = log_w + log q + H; E[log q] = −H, so compare with
    // the mean of log_w (whose expectation is the ELBO) — the identity E_q[log w] = ELBO.
    for (let b = 0; b < 2; b++) {
      const lw = Array.from({ length: 4000 }, (_, s) => r.log_w[s * 2 + b]);
      const mean = lw.reduce((a, v) => a + v, 0) / lw.length;
      const sd = Math.sqrt(lw.reduce((a, v) => a + (v - mean) ** 2, 0) / (lw.length - 1));
      expect(Math.abs(mean - r.elbo[b])).toBeLessThan((5 * sd) / Math.sqrt(lw.length));
    }
  });
});

describe('training and evaluation', () => {
  it('a small VAE trains: the loss falls, and the IWAE bound rises with K and stays above the ELBO', async () => {
    const cfg = resolveConfig({ inputShape: [16], hidden: [32], latent: 2 });
    const st = initialState(cfg, 1);
    const bundle = await createBundle(cfg, st);
    const trainer = new Trainer(ort, await ort.InferenceSession.create(bundle.files['train_step.onnx']), bundle.manifest, st, { lr: 5e-3 });
    const data = synthBinary(256, 16, 4);
    const losses: number[] = [];
    for (let epoch = 0; epoch < 15; epoch++) {
      for (let i = 0; i < 256; i += 32) losses.push((await trainer.trainStep(data.subarray(i * 16, (i + 32) * 16), 32)).loss);
    }
    const first = losses.slice(0, 8).reduce((a, b) => a + b) / 8;
    const last = losses.slice(-8).reduce((a, b) => a + b) / 8;
    // 16 binary pixels start near 16·log 2 ≈ 11 nats; 4 prototypes with 5% flips are worth far less.
    expect(last).toBeLessThan(first * 0.7);

    const ev = new Evaluator(ort, await ort.InferenceSession.create(bundle.files['eval.onnx']), bundle.manifest, trainer.parameterTensors);
    const test = synthBinary(64, 16, 9);
    const ks = [1, 5, 50, 500];
    const res = [];
    for (const k of ks) res.push(await ev.evaluate(test, 64, { k, chunk: 64, seed: 3 }));
    // E[log p̂_K] is non-decreasing in K; with 64 examples the estimates' noise is far below these gaps.
    for (let i = 1; i < ks.length; i++) expect(res[i].iwae).toBeGreaterThanOrEqual(res[i - 1].iwae - 0.02);
    expect(res[3].iwae).toBeGreaterThan(res[3].elbo);
    expect(res[3].iwae).toBeLessThan(0);
  });

  it('fused K-step graph (ONNX Loop) equals K single steps', async () => {
    const cfg = small();
    const st = initialState(cfg, 2);
    const single = await createBundle(cfg, st);
    const fused = await createBundle(cfg, st, { fusedSteps: 4 });
    const x = synthBinary(4 * 8, 6, 3);
    const t1 = new Trainer(ort, await ort.InferenceSession.create(single.files['train_step.onnx']), single.manifest, st, { lr: 1e-2 });
    const t4 = new Trainer(ort, await ort.InferenceSession.create(fused.files['train_step.onnx']), fused.manifest, st, { lr: 1e-2 });
    const l1: number[] = [];
    for (let k = 0; k < 4; k++) l1.push((await t1.trainStep(x.subarray(k * 8 * 6, (k + 1) * 8 * 6), 8)).loss);
    const m4 = await t4.trainStep(x, 8);
    expect(m4.step).toBe(4);
    expect(Math.abs(m4.loss - l1.reduce((a, b) => a + b) / 4)).toBeLessThan(1e-5);
    const a = await t1.snapshot();
    const b = await t4.snapshot();
    // Same float32 kernels in the same order: differences are rounding only (1e-6 absolute on O(1) weights).
    for (const k of Object.keys(a.params)) {
      const pa = a.params[k].data as Float32Array;
      const pb = b.params[k].data as Float32Array;
      for (let i = 0; i < pa.length; i++) expect(Math.abs(pa[i] - pb[i])).toBeLessThan(1e-6);
    }
  });
});

describe('bundle', () => {
  it('round-trips bit for bit and rejects tampering, truncation and mixed files', async () => {
    const cfg = small();
    const st = initialState(cfg, 4);
    const b = await createBundle(cfg, st);
    const files: Record<string, Uint8Array> = { ...b.files, 'manifest.json': new TextEncoder().encode(JSON.stringify(b.manifest)) };
    const read = async (f: string) => files[f];
    const loaded = await loadBundle(read, 'mem');
    for (const [k, t] of Object.entries(st.params))
      expect(Buffer.from(loaded.state.params[k].data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true);
    expect(Buffer.from(encodeCheckpoint(loaded.state)).equals(Buffer.from(b.files['checkpoint.safetensors']))).toBe(true);

    const bad = (f: string, bytes: Uint8Array) => loadBundle(async (n) => (n === f ? bytes : files[n]), 'mem');
    const flipped = files['decoder.onnx'].slice();
    flipped[100] ^= 1;
    await expect(bad('decoder.onnx', flipped)).rejects.toThrow(/decoder\.onnx: sha256 .* does not match/);
    await expect(bad('eval.onnx', files['eval.onnx'].subarray(0, 50))).rejects.toThrow(/eval\.onnx: 50 bytes, the manifest says/);
    await expect(bad('manifest.json', new TextEncoder().encode('{"format": "x"'))).rejects.toThrow(/manifest\.json: not valid JSON/);
    const v2 = { ...b.manifest, formatVersion: 99 };
    await expect(bad('manifest.json', new TextEncoder().encode(JSON.stringify(v2)))).rejects.toThrow(/format version 99 is not supported/);
    const later = { ...st, training: { ...st.training, step: 5 } };
    await expect(bad('checkpoint.safetensors', encodeCheckpoint(later))).rejects.toThrow(/checkpoint.safetensors: \d+ bytes|sha256/);
  });
});

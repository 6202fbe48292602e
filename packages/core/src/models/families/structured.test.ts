/**
 * Structured-output models (Sohn et al. 2015) on onnxruntime-node: the masks, the train step's gradient against
 * finite differences of the conditional ELBO (float64), the analytic KL against its Monte Carlo estimate, the
 * conditional log-likelihood estimate ≥ the conditional ELBO and non-decreasing in k, GSNN's KL = 0, the baseline's
 * exact log p(y|x), and decoder.onnx's completions (the given pixels kept, diverse draws for the CVAE, one for the
 * baseline).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle, initialState, type ModelState } from '../../artifacts/bundle.js';
import { serializeModel } from '../../ir/serialize.js';
import { type TensorData, tensorData } from '../../ir/tensor.js';
import { Prng } from '../../random/prng.js';
import { Evaluator } from '../../runtime/evaluator.js';
import { openSampler } from '../../runtime/open-sampler.js';
import type { SessionHost } from '../../runtime/runtime.js';
import { Trainer } from '../../runtime/trainer.js';
import { synthBinary } from '../../testing/synthetic.js';
import { resolveConfig, type StructuredConfig } from '../config.js';
import { buildEval } from '../graphs.js';
import { observedMask } from './structured.js';

const host: SessionHost = { ort, createSession: (bytes: Uint8Array) => ort.InferenceSession.create(bytes) } as unknown as SessionHost;
const D = 16; // 4 × 4 images
const cfgOf = (
  observed: StructuredConfig['observed'],
  model: StructuredConfig['model'] = 'cvae',
  dtype: 'float32' | 'float64' = 'float32',
) => resolveConfig({ inputShape: [D], hidden: [12], latent: 2, structured: { observed, model }, dtype });
const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;

async function trained(cfg: ReturnType<typeof cfgOf>, epochs: number, data: Float32Array): Promise<ModelState> {
  const st = initialState(cfg, 1);
  const b = await createBundle(cfg, st);
  const t = new Trainer(ort, await ort.InferenceSession.create(b.files['train_step.onnx']), b.manifest, st, { lr: 1e-2 });
  const n = data.length / D;
  for (let e = 0; e < epochs; e++) for (let i = 0; i + 32 <= n; i += 32) await t.trainStep(data.subarray(i * D, (i + 32) * D), 32);
  return t.snapshot();
}

describe('structured-output models', () => {
  it('masks: the observed part of each task', () => {
    const count = (o: StructuredConfig['observed']) => observedMask(cfgOf(o)).reduce((a, v) => a + v, 0);
    expect([count('top-half'), count('left-half'), count('quadrant'), count('three-quadrants')]).toEqual([8, 8, 4, 12]);
    // Sohn et al.'s one-quadrant task gives the bottom-left quadrant; three quadrants: all but the bottom right.
    expect(Array.from(observedMask(cfgOf('quadrant')))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0]);
    expect(Array.from(observedMask(cfgOf('three-quadrants')))).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0]);
    expect(() => resolveConfig({ inputShape: [15], structured: { observed: 'top-half' } as StructuredConfig })).toThrow(
      /square one-channel images/,
    );
    expect(() => resolveConfig({ inputShape: [16], structured: { observed: 'middle' } as never })).toThrow(
      /structured.observed must be one of/,
    );
    expect(() => resolveConfig({ inputShape: [16], structured: { observed: 'quadrant' }, conditional: { classes: 3 } } as never)).toThrow(
      /cannot be combined with conditional/,
    );
    expect(resolveConfig({ inputShape: [16], structured: { observed: 'quadrant' } as StructuredConfig }).structured?.model).toBe('cvae');
    // The hybrid's α: default 0.5, in [0, 1], with the hybrid only; unknown fields are named.
    expect(resolveConfig({ inputShape: [16], structured: { observed: 'quadrant', model: 'hybrid' } }).structured?.alpha).toBe(0.5);
    expect(() => resolveConfig({ inputShape: [16], structured: { observed: 'quadrant', model: 'hybrid', alpha: 1.5 } })).toThrow(
      /structured.alpha must be a number in \[0, 1\]/,
    );
    expect(() => resolveConfig({ inputShape: [16], structured: { observed: 'quadrant', model: 'cvae', alpha: 0.5 } })).toThrow(
      /structured.alpha goes with model 'hybrid' only/,
    );
    expect(() => resolveConfig({ inputShape: [16], structured: { observed: 'quadrant', mode: 'cvae' } as never })).toThrow(
      /structured has unknown field\(s\) mode/,
    );
  });

  // The loss the train step differentiates, as a function of the parameters: −mean ELBO of the CVAE, or for the
  // hybrid α·(−mean ELBO_CVAE) + (1 − α)·(−mean ELBO_GSNN) (the GSNN's eval.onnx with the same ε: its ELBO is the
  // GSNN term E_{p(z|x)}[log p(y|x, z)], KL = 0).
  for (const model of ['cvae', 'hybrid'] as const) {
    it(`${model}: the train step's gradient is that of its loss (SGD step against central differences, float64)`, async () => {
      const alpha = 0.3;
      const base = cfgOf('top-half', model, 'float64');
      const cfg = resolveConfig({
        ...base,
        structured: model === 'hybrid' ? { observed: 'top-half', model, alpha } : base.structured,
        optimizer: { type: 'sgd', momentum: 0 },
      });
      const st = initialState(cfg, 2);
      const before = structuredClone(st.params);
      const b = await createBundle(cfg, st);
      const t = new Trainer(ort, await ort.InferenceSession.create(b.files['train_step.onnx']), b.manifest, st, { lr: 0.1 });
      const B = 4;
      const x = Float64Array.from(synthBinary(B, D, 3));
      // The eps the trainer draws: the same PRNG state, the same fill.
      const epsTrainer = Prng.fromState(st.training.prngState).fillNormal(new Float64Array(B * 2));
      await t.trainStep(x, B);
      const after = (await t.snapshot()).params;
      const negElbo = async (m: 'cvae' | 'gsnn') => {
        const s = await ort.InferenceSession.create(
          serializeModel(buildEval(resolveConfig({ ...cfg, structured: { observed: 'top-half', model: m } }))),
        );
        return async (params: Record<string, TensorData>) => {
          const feeds: Record<string, ort.Tensor> = {
            x: new ort.Tensor('float64', x, [B, D]),
            eps: new ort.Tensor('float64', epsTrainer, [1, B, 2]),
          };
          for (const n of s.inputNames)
            if (params[n]) feeds[n] = new ort.Tensor('float64', params[n].data as Float64Array, [...params[n].shape]);
          return -mean((await s.run(feeds)).elbo.data as Float64Array);
        };
      };
      const cvae = await negElbo('cvae');
      const gsnn = await negElbo('gsnn');
      const loss = async (params: Record<string, TensorData>) =>
        model === 'cvae' ? cvae(params) : alpha * (await cvae(params)) + (1 - alpha) * (await gsnn(params));
      const h = 1e-6;
      let checked = 0;
      let gsnnOnly = 0;
      for (const name of Object.keys(before)) {
        for (const k of [0, 3]) {
          if (k >= before[name].data.length) continue;
          const shift = (d: number) => {
            const c = Float64Array.from(before[name].data as Float64Array);
            c[k] += d;
            return { ...before, [name]: tensorData('float64', before[name].shape, c) };
          };
          const fd = ((await loss(shift(h))) - (await loss(shift(-h)))) / (2 * h);
          const g = ((before[name].data as Float64Array)[k] - (after[name].data as Float64Array)[k]) / 0.1;
          expect(Math.abs(g - fd), `${name}[${k}]`).toBeLessThan(1e-6 + 1e-6 * Math.abs(fd));
          if (model === 'hybrid' && name.startsWith('prior.')) {
            // The prior network's gradient differs from the CVAE's alone: the GSNN term reaches it through z.
            const fdCvae = ((await cvae(shift(h))) - (await cvae(shift(-h)))) / (2 * h);
            if (Math.abs(alpha * fdCvae - fd) > 1e-4) gsnnOnly++;
          }
          checked++;
        }
      }
      // Encoder (recognition), prior network and decoder (generation) all get gradients.
      expect(Object.keys(before).some((n) => n.startsWith('prior.'))).toBe(true);
      expect(Object.keys(before).some((n) => n.startsWith('encoder.'))).toBe(true);
      expect(checked).toBeGreaterThan(15);
      if (model === 'hybrid') expect(gsnnOnly).toBeGreaterThan(2);
    });
  }

  it('log p(y|x) by importance sampling: ≥ the conditional ELBO, non-decreasing in k; the KL is analytic', async () => {
    const cfg = cfgOf('left-half');
    const data = synthBinary(512, D, 4, 6);
    const snap = await trained(cfg, 15, data);
    const b = await createBundle(cfg, snap);
    const ev = new Evaluator(ort, await ort.InferenceSession.create(b.files['eval.onnx']), b.manifest, snap.params);
    const test = synthBinary(64, D, 9, 6);
    const r1 = await ev.evaluate(test, 64, { k: 1, seed: 3 });
    const r10 = await ev.evaluate(test, 64, { k: 10, seed: 3 });
    const r200 = await ev.evaluate(test, 64, { k: 200, seed: 3 });
    expect(r200.iwae).toBeGreaterThanOrEqual(r200.elbo);
    expect(r10.iwae).toBeGreaterThan(r1.iwae - 0.05);
    expect(r200.iwae).toBeGreaterThan(r10.iwae - 0.05);
    // The analytic KL(q(z|x, y) ‖ p(z|x)) against its Monte Carlo estimate E_q[log q − log p] = rec − mean_s log w_s,
    // per example over S = 4000 draws (sd of log q − log p is ~1 nat here: the estimate is good to ~0.05).
    const S = 4000;
    const s = await ort.InferenceSession.create(b.files['eval.onnx']);
    const feeds: Record<string, ort.Tensor> = {
      x: new ort.Tensor('float32', test.slice(0, 8 * D), [8, D]),
      eps: new ort.Tensor('float32', new Prng(11).fillNormal(new Float32Array(S * 8 * 2)), [S, 8, 2]),
    };
    for (const n of s.inputNames)
      if (snap.params[n]) feeds[n] = new ort.Tensor('float32', snap.params[n].data as Float32Array, [...snap.params[n].shape]);
    const o = await s.run(feeds);
    const kl = o.kl.data as Float32Array;
    const rec = o.rec.data as Float32Array;
    const lw = o.log_w.data as Float32Array;
    for (let i = 0; i < 8; i++) {
      let m = 0;
      for (let k = 0; k < S; k++) m += lw[k * 8 + i] / S;
      expect(Math.abs(rec[i] - m - kl[i]), `example ${i}: analytic ${kl[i]}, Monte Carlo ${rec[i] - m}`).toBeLessThan(0.08);
    }
    expect(mean(kl)).toBeGreaterThan(0.05);
  });

  it('GSNN: q is the prior network (KL = 0); the baseline: log p(y|x) exact and one completion', async () => {
    const data = synthBinary(256, D, 4, 6);
    for (const model of ['gsnn', 'baseline'] as const) {
      const cfg = cfgOf('top-half', model);
      const snap = await trained(cfg, 5, data);
      const b = await createBundle(cfg, snap);
      const ev = new Evaluator(ort, await ort.InferenceSession.create(b.files['eval.onnx']), b.manifest, snap.params);
      const r = await ev.evaluate(data.slice(0, 32 * D), 32, { k: 20, seed: 1 });
      expect(r.kl, model).toBe(0);
      if (model === 'baseline') expect(Math.abs(r.iwae - r.elbo)).toBeLessThan(1e-4); // no z: every weight equal
      const sampler = await openSampler(host, { manifest: b.manifest, files: b.files }, { encoder: false });
      const c = data.slice(0, 2 * D);
      const out = await sampler.complete(c, 2, { samples: 4, seed: 5 });
      const m = observedMask(cfg);
      const first = out.x.subarray(0, D);
      for (let j = 0; j < 4; j++) {
        const img = out.x.subarray(j * D, (j + 1) * D);
        for (let p = 0; p < D; p++) if (m[p]) expect(img[p]).toBe(c[p]); // the given pixels, exactly
        if (model === 'baseline') expect(Array.from(img)).toEqual(Array.from(first));
      }
    }
  });

  it('CVAE completions keep the given pixels and differ between draws where the output is uncertain', async () => {
    const cfg = cfgOf('quadrant');
    const data = synthBinary(512, D, 4, 6);
    const snap = await trained(cfg, 10, data);
    const b = await createBundle(cfg, snap);
    const sampler = await openSampler(host, { manifest: b.manifest, files: b.files }, { encoder: false });
    const c = data.slice(0, 3 * D);
    const out = await sampler.complete(c, 3, { samples: 6, seed: 2 });
    expect(out.x.length).toBe(3 * 6 * D);
    const m = observedMask(cfg);
    let spread = 0;
    for (let i = 0; i < 3; i++) {
      for (let p = 0; p < D; p++) {
        const vals = Array.from({ length: 6 }, (_, j) => out.x[(i * 6 + j) * D + p]);
        if (m[p]) for (const v of vals) expect(v).toBe(c[i * D + p]);
        else spread = Math.max(spread, Math.max(...vals) - Math.min(...vals));
      }
    }
    expect(spread).toBeGreaterThan(1e-3);
    await expect(sampler.sample(2)).rejects.toThrow(/use complete\(observed, n\)/);
  });
});

import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { gradients } from '../autodiff/gradients.js';
import { Graph } from '../ir/graph.js';
import '../ops/builder.js';
import { tensorData } from '../ir/tensor.js';
import { Prng } from '../random/prng.js';
import { runGraph } from '../testing/run-graph.js';
import {
  bernoulliLogProb,
  gaussianEntropy,
  gaussianLogProb,
  klGaussiansPerDim,
  klStandardNormalPerDim,
  reparamLogProb,
  standardNormalLogProb,
} from './distributions.js';

// All graphs here run in float64, so closed forms must match to ~1e-12 relative; 1e-10 leaves room for libm.
const TOL = 1e-10;
const f64 = (shape: number[], vals: number[]) => tensorData('float64', shape, vals);
const close = (a: number, b: number, tol = TOL) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));

describe('distributions against closed forms', () => {
  it('Bernoulli log-likelihood equals Σ x log σ(l) + (1−x) log(1−σ(l)), stable for large logits', async () => {
    const x = [1, 0, 1, 0, 0.3, 1, 1, 0, 1];
    const l = [2.5, -1.2, -40, 40, 0.7, 0, 200, -200, -1e-9];
    const g = new Graph('b');
    const xv = g.input('x', 'float64', [3, 3]);
    const lv = g.input('l', 'float64', [3, 3]);
    g.output(bernoulliLogProb(g, xv, lv), 'lp');
    const { lp } = await runGraph(ort, g, { x: f64([3, 3], x), l: f64([3, 3], l) });
    // log σ(l) = −log1p(e^−l) computed stably in float64 JS.
    const logSig = (v: number) => (v > 0 ? -Math.log1p(Math.exp(-v)) : v - Math.log1p(Math.exp(v)));
    for (let r = 0; r < 3; r++) {
      let want = 0;
      for (let c = 0; c < 3; c++) want += x[r * 3 + c] * logSig(l[r * 3 + c]) + (1 - x[r * 3 + c]) * logSig(-l[r * 3 + c]);
      close(lp[r], want);
    }
  });

  it('the Bernoulli log-likelihood in float32 is within its stated error over logits ±100, and its gradient is x − σ(l), at 0 too', async () => {
    // 784 pixels per row. The bound on the error: one ulp of 1 (6e-8) per pixel from σ(|l|)'s rounding, plus float32
    // summation of 784 terms, at most 784·6e-8 of the terms' absolute sum.
    const n = 4;
    const d = 784;
    const rng = new Prng(3);
    const l = Float32Array.from({ length: n * d }, (_, i) => (i % 97 === 0 ? 0 : (rng.uniform() - 0.5) * 200));
    const x = Float32Array.from({ length: n * d }, () => (rng.uniform() < 0.5 ? 1 : 0));
    const g = new Graph('b');
    const lv = g.input('l', 'float32', [n, d]);
    const lp = bernoulliLogProb(g, g.input('x', 'float32', [n, d]), lv);
    g.output(lp, 'lp');
    g.output(gradients(g, g.ReduceSum(lp, [0]), [lv])[0], 'dl');
    const out = await runGraph(ort, g, { x: tensorData('float32', [n, d], x), l: tensorData('float32', [n, d], l) });
    for (let r = 0; r < n; r++) {
      let want = 0;
      let mass = 0;
      for (let c = 0; c < d; c++) {
        const v = l[r * d + c];
        const sp = Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
        want += x[r * d + c] * v - sp;
        mass += Math.abs(x[r * d + c] * v) + sp;
      }
      expect(Math.abs(out.lp[r] - want)).toBeLessThanOrEqual(d * 6e-8 * (1 + mass));
    }
    // d/dl = x − σ(l) within float32 rounding (4 ulps of 1: the backward pass rounds Div, Mul, Sub and Mul once each),
    // including at the l = 0 entries (every 97th).
    for (let i = 0; i < n * d; i++) expect(Math.abs(out.dl[i] - (x[i] - 1 / (1 + Math.exp(-l[i]))))).toBeLessThanOrEqual(2.4e-7);
    expect(out.dl[0]).toBe(x[0] - 0.5);
  });

  it('Gaussian log-density, standard normal, reparameterized log q, KL and entropy', async () => {
    const g = new Graph('d');
    const x = g.input('x', 'float64', [2, 3]);
    const m = g.input('m', 'float64', [2, 3]);
    const lv = g.input('lv', 'float64', [2, 3]);
    const m2 = g.input('m2', 'float64', [2, 3]);
    const lv2 = g.input('lv2', 'float64', [2, 3]);
    g.output(gaussianLogProb(g, x, m, lv), 'lp');
    g.output(standardNormalLogProb(g, x), 'lpz');
    g.output(reparamLogProb(g, x, lv), 'lq');
    g.output(klStandardNormalPerDim(g, m, lv), 'kl');
    g.output(klGaussiansPerDim(g, m, lv, m2, lv2), 'kl2');
    g.output(gaussianEntropy(g, lv), 'h');
    const rnd = new Prng(3);
    const vals = () => Array.from({ length: 6 }, () => rnd.normal());
    const X = vals();
    const M = vals();
    const LV = vals();
    const M2 = vals();
    const LV2 = vals();
    const r = await runGraph(ort, g, {
      x: f64([2, 3], X),
      m: f64([2, 3], M),
      lv: f64([2, 3], LV),
      m2: f64([2, 3], M2),
      lv2: f64([2, 3], LV2),
    });
    const logN = (v: number, mu: number, var_: number) => -0.5 * Math.log(2 * Math.PI * var_) - (v - mu) ** 2 / (2 * var_);
    for (let row = 0; row < 2; row++) {
      let lp = 0;
      let lpz = 0;
      let lq = 0;
      let h = 0;
      for (let c = 0; c < 3; c++) {
        const i = row * 3 + c;
        lp += logN(X[i], M[i], Math.exp(LV[i]));
        lpz += logN(X[i], 0, 1);
        // log q(μ + σε) = log N(μ + σε; μ, σ²) with ε = X.
        lq += logN(M[i] + Math.exp(LV[i] / 2) * X[i], M[i], Math.exp(LV[i]));
        h += 0.5 * Math.log(2 * Math.PI * Math.E * Math.exp(LV[i]));
      }
      close(r.lp[row], lp);
      close(r.lpz[row], lpz);
      close(r.lq[row], lq);
      close(r.h[row], h);
    }
    for (let i = 0; i < 6; i++) {
      const s1 = Math.exp(LV[i]);
      const s2 = Math.exp(LV2[i]);
      close(r.kl[i], 0.5 * (M[i] ** 2 + s1 - 1 - LV[i]));
      close(r.kl2[i], 0.5 * (Math.log(s2 / s1) + (s1 + (M[i] - M2[i]) ** 2) / s2 - 1));
    }
  });

  it('the entropy form of the KL, −E_q[log p(z)] − H(q), agrees with the analytic KL in expectation', async () => {
    // One posterior, S samples of ε: the Monte Carlo estimate must sit within 5 standard errors of the closed form.
    const S = 20000;
    const L = 4;
    const mu = [0.5, -1, 0.2, 1.5];
    const lv = [-0.5, 0.3, -1.2, 0];
    const g = new Graph('e');
    const eps = g.input('eps', 'float64', [S, L]);
    const m = g.input('mu', 'float64', [1, L]);
    const l = g.input('lv', 'float64', [1, L]);
    const z = g.Add(m, g.Mul(g.Exp(g.Mul(l, 0.5)), eps));
    g.output(g.Sub(g.Neg(standardNormalLogProb(g, z)), gaussianEntropy(g, l)), 'klmc');
    g.output(g.ReduceSum(klStandardNormalPerDim(g, m, l), [-1]), 'kl');
    const rnd = new Prng(11);
    const e = new Float64Array(S * L);
    rnd.fillNormal(e);
    const r = await runGraph(ort, g, { eps: tensorData('float64', [S, L], e), mu: f64([1, L], mu), lv: f64([1, L], lv) });
    const mean = r.klmc.reduce((a, b) => a + b, 0) / S;
    const sd = Math.sqrt(r.klmc.reduce((a, b) => a + (b - mean) ** 2, 0) / (S - 1));
    expect(Math.abs(mean - r.kl[0])).toBeLessThan((5 * sd) / Math.sqrt(S));
  });
});

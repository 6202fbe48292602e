/**
 * The bound written once for every latent family: a family without an analytic KL or entropy (as a hierarchical
 * family will be) gets Monte Carlo estimates, and they agree with the closed forms of one that has them.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { initialState } from '../artifacts/bundle.js';
import { Graph } from '../ir/graph.js';
import { tensorData } from '../ir/tensor.js';
import { ParamBinder } from '../nn/params.js';
import { Prng } from '../random/prng.js';
import { runGraph } from '../testing/run-graph.js';
import { synthBinary } from '../testing/synthetic.js';
import { elboTerms } from './bound.js';
import { resolveConfig } from './config.js';
import { gaussianFamily } from './families/gaussian.js';

describe('elboTerms', () => {
  it('estimates KL as E_q[log q − log p] (both forms) where the family has no closed form', async () => {
    const cfg = resolveConfig({ inputShape: [6], hidden: [5], latent: 2, activation: 'tanh', dtype: 'float64' });
    const analytic = gaussianFamily(cfg);
    const { klPerDim: _k, entropy: _h, ...rest } = analytic;
    const monteCarlo = { ...rest, name: 'gaussian-without-closed-forms' };
    const B = 3;
    const M = 4000;
    const g = new Graph('kl');
    const p = ParamBinder.inputs('float64');
    const x = g.input('x', 'float64', ['batch', 6]);
    const eps = g.input('eps', 'float64', [M, 'batch', 2]);
    const exact = elboTerms(g, p, cfg, analytic, x, eps, {});
    const mcKl = elboTerms(g, p, cfg, monteCarlo, x, eps, {});
    const mcEntropy = elboTerms(g, p, cfg, monteCarlo, x, eps, {}, { form: 'entropy' });
    expect(mcKl.klPerDim).toBeUndefined();
    g.output(exact.kl, 'exact');
    g.output(mcKl.kl, 'mc');
    g.output(mcEntropy.kl, 'mc_entropy');
    g.output(g.Sub(mcKl.logqz, mcKl.logpz), 'd');
    const r = await runGraph(ort, g, {
      x: tensorData('float64', [B, 6], Float64Array.from(synthBinary(B, 6, 1))),
      eps: tensorData('float64', [M, B, 2], new Prng(3).fillNormal(new Float64Array(M * B * 2))),
      ...initialState(cfg, 5).params,
    });
    for (let b = 0; b < B; b++) {
      const d = Array.from({ length: M }, (_, s) => r.d[s * B + b]);
      const m = d.reduce((s, v) => s + v, 0) / M;
      const sd = Math.sqrt(d.reduce((s, v) => s + (v - m) ** 2, 0) / (M - 1));
      // The estimator is the sample mean of log q − log p, in either form (−E[log p] − (−E[log q]) is the same sum);
      // float64 sums of 4000 terms of size ~1 agree to ~1e-12.
      expect(Math.abs(r.mc[b] - m)).toBeLessThan(1e-10);
      expect(Math.abs(r.mc_entropy[b] - m)).toBeLessThan(1e-10);
      // …and it is unbiased: within 4 standard errors of the analytic KL.
      expect(Math.abs(m - r.exact[b])).toBeLessThan((4 * sd) / Math.sqrt(M));
    }
  });
});

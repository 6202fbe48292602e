import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Graph } from '../ir/graph.js';
import '../ops/builder.js';
import { tensorData } from '../ir/tensor.js';
import { runGraph } from '../testing/run-graph.js';
import { applyOptimizer, type OptimizerConfig, oneMinusPow, stateNames } from './optimizer.js';

const base: OptimizerConfig = { type: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, momentum: 0 };

/** Runs `steps` optimizer updates in float64 on ORT, feeding each step's outputs back in. */
async function runSteps(cfg: OptimizerConfig, p0: number[], grads: number[][], lr: number) {
  const n = p0.length;
  const g = new Graph('opt');
  const p = g.input('p', 'float64', [n]);
  const gr = g.input('g', 'float64', [n]);
  const names = stateNames(cfg, 'p');
  const st = names.map((s) => g.input(s, 'float64', [n]));
  const lrv = g.input('lr', 'float64', []);
  const t = g.input('t', 'float64', []);
  const { updated } = applyOptimizer(g, cfg, [{ name: 'p', value: p, grad: gr, state: st }], lrv, t);
  g.output(updated[0].value, 'p_new');
  for (const [i, s] of updated[0].state.entries()) g.output(s, `${names[i]}_new`);
  let pv = p0;
  let sv = names.map(() => new Array(n).fill(0));
  for (let k = 0; k < grads.length; k++) {
    const feeds: Record<string, ReturnType<typeof tensorData>> = {
      p: tensorData('float64', [n], pv),
      g: tensorData('float64', [n], grads[k]),
      lr: tensorData('float64', [], [lr]),
      t: tensorData('float64', [], [k + 1]),
    };
    names.forEach((s, i) => {
      feeds[s] = tensorData('float64', [n], sv[i]);
    });
    const r = await runGraph(ort, g, feeds);
    pv = r.p_new;
    sv = names.map((s) => r[`${s}_new`]);
  }
  return pv;
}

const P0 = [0.5, -1.2, 2.0];
const GRADS = [
  [0.1, -0.3, 1.5],
  [-0.2, 0.4, 0.9],
  [0.05, 0.01, -2.0],
];

// float64 on both sides: agreement to 1e-12 relative is rounding.
const expectClose = (a: number[], b: number[]) => {
  for (const [i, v] of a.entries()) expect(Math.abs(v - b[i])).toBeLessThan(1e-12 * Math.max(1, Math.abs(b[i])));
};

describe('optimizers against reference formulas', () => {
  it('Adam with bias correction', async () => {
    const lr = 0.01;
    const m = [0, 0, 0];
    const v = [0, 0, 0];
    const p = [...P0];
    GRADS.forEach((gr, k) => {
      const t = k + 1;
      for (let i = 0; i < 3; i++) {
        m[i] = 0.9 * m[i] + 0.1 * gr[i];
        v[i] = 0.999 * v[i] + 0.001 * gr[i] ** 2;
        const mh = m[i] / (1 - 0.9 ** t);
        const vh = v[i] / (1 - 0.999 ** t);
        p[i] -= (lr * mh) / (Math.sqrt(vh) + 1e-8);
      }
    });
    expectClose(await runSteps(base, P0, GRADS, lr), p);
  });

  it('AdamW decouples weight decay', async () => {
    const lr = 0.01;
    const wd = 0.1;
    const m = [0, 0, 0];
    const v = [0, 0, 0];
    const p = [...P0];
    GRADS.forEach((gr, k) => {
      const t = k + 1;
      for (let i = 0; i < 3; i++) {
        m[i] = 0.9 * m[i] + 0.1 * gr[i];
        v[i] = 0.999 * v[i] + 0.001 * gr[i] ** 2;
        const mh = m[i] / (1 - 0.9 ** t);
        const vh = v[i] / (1 - 0.999 ** t);
        p[i] -= lr * (mh / (Math.sqrt(vh) + 1e-8) + wd * p[i]);
      }
    });
    expectClose(await runSteps({ ...base, type: 'adamw', weightDecay: wd }, P0, GRADS, lr), p);
  });

  it('Adam with weight decay is L2, like torch.optim.Adam: g ← g + λ·p before the moments', async () => {
    const lr = 0.01;
    const wd = 0.1;
    const m = [0, 0, 0];
    const v = [0, 0, 0];
    const p = [...P0];
    GRADS.forEach((gr, k) => {
      const t = k + 1;
      for (let i = 0; i < 3; i++) {
        const d = gr[i] + wd * p[i];
        m[i] = 0.9 * m[i] + 0.1 * d;
        v[i] = 0.999 * v[i] + 0.001 * d ** 2;
        const mh = m[i] / (1 - 0.9 ** t);
        const vh = v[i] / (1 - 0.999 ** t);
        p[i] -= (lr * mh) / (Math.sqrt(vh) + 1e-8);
      }
    });
    expectClose(await runSteps({ ...base, weightDecay: wd }, P0, GRADS, lr), p);
  });

  it('SGD with momentum (PyTorch form) and plain SGD', async () => {
    const lr = 0.1;
    const b = [0, 0, 0];
    const p = [...P0];
    for (const gr of GRADS) {
      for (let i = 0; i < 3; i++) {
        b[i] = 0.9 * b[i] + gr[i];
        p[i] -= lr * b[i];
      }
    }
    expectClose(await runSteps({ ...base, type: 'sgd', momentum: 0.9 }, P0, GRADS, lr), p);
    const q = P0.map((v, i) => v - lr * GRADS.reduce((s, gr) => s + gr[i], 0));
    expectClose(await runSteps({ ...base, type: 'sgd', momentum: 0 }, P0, GRADS, lr), q);
  });

  it('global-norm clipping scales the gradient to the threshold', async () => {
    const gr = [3, 4, 0]; // norm 5
    const out = await runSteps({ ...base, type: 'sgd', clipNorm: 1 }, [0, 0, 0], [gr], 1);
    // p = −g·min(1, 1/(5 + 1e-6))
    expectClose(
      out,
      gr.map((v) => (-v * 1) / (5 + 1e-6)),
    );
    const small = await runSteps({ ...base, type: 'sgd', clipNorm: 10 }, [0, 0, 0], [gr], 1);
    expectClose(
      small,
      gr.map((v) => -v),
    );
  });
});

describe('Adam in float32', () => {
  it('1 − βᵗ is within a few float32 roundings of its double value, for t from 1 to 2·10⁶', async () => {
    const betas = [0.9, 0.999, 0.99, 0.9999, 0.5, 0];
    const ts: number[] = [];
    for (let t = 1; t <= 3000; t++) ts.push(t);
    for (let t = 3000; t < 2e6; t = Math.ceil(t * 1.05)) ts.push(t);
    const g = new Graph('one_minus_pow');
    const t = g.input('t', 'float32', [ts.length, 1]);
    g.output(oneMinusPow(g, betas, t), 'c');
    const c = (await runGraph(ort, g, { t: tensorData('float32', [ts.length, 1], ts) })).c;
    const u = 2 ** -24;
    for (const [j, b] of betas.entries()) {
      const worst = Math.max(...ts.map((tv, i) => Math.abs(c[i * betas.length + j] - (1 - b ** tv)) / (1 - b ** tv)));
      // Measured ≤ 2.6u on onnxruntime-node CPU and WASM, 4.7u on WebGPU (its Exp is less accurate); 1 − fl32(β)ᵗ in
      // float32, as before, was off by up to 445u for β = 0.999 (δ/(1 − β) ≈ 215u of it from fl32(β), optimizer.ts).
      expect(worst / u, `β = ${b}`).toBeLessThan(8);
    }
  });

  it('its bias corrections are those of float64 (as torch.optim.Adam computes them), at every step number', async () => {
    // One step from p = 0, m = v = 0 with gradient g at step t: p' = −lr·m̂/(√v̂ + ε), m̂ = 0.1·g/(1 − 0.9ᵗ),
    // v̂ = 0.001·g²/(1 − 0.999ᵗ). Starting from p = 0 makes p' itself the update, so its relative error is float32
    // rounding: ~7 operations of u = 2⁻²⁴ ≈ 6e-8 each, < 1e-6. With 1 − βᵗ computed in float32 it is 4e-6 to 6e-6,
    // from fl32(0.999) = 0.999 + 1.3e-8 (optimizer.ts).
    const n = 3;
    const g = new Graph('adam32');
    const names = stateNames(base, 'p');
    const p = g.input('p', 'float32', [n]);
    const gr = g.input('g', 'float32', [n]);
    const st = names.map((s) => g.input(s, 'float32', [n]));
    const lrv = g.input('lr', 'float32', []);
    const t = g.input('t', 'float32', []);
    const { updated } = applyOptimizer(g, base, [{ name: 'p', value: p, grad: gr, state: st }], lrv, t);
    g.output(updated[0].value, 'p_new');
    const grad = [0.5, -2, 0.125]; // exact in float32
    const lr = 2 ** -10;
    for (const step of [1, 2, 10, 100, 1000, 10000]) {
      const feeds: Record<string, ReturnType<typeof tensorData>> = {
        p: tensorData('float32', [n], [0, 0, 0]),
        g: tensorData('float32', [n], grad),
        lr: tensorData('float32', [], [lr]),
        t: tensorData('float32', [], [step]),
      };
      for (const s of names) feeds[s] = tensorData('float32', [n], [0, 0, 0]);
      const out = (await runGraph(ort, g, feeds)).p_new;
      for (const [i, gi] of grad.entries()) {
        const mh = (0.1 * gi) / (1 - 0.9 ** step);
        const vh = (0.001 * gi * gi) / (1 - 0.999 ** step);
        const want = (-lr * mh) / (Math.sqrt(vh) + 1e-8);
        expect(Math.abs(out[i] - want) / Math.abs(want), `step ${step}, g = ${gi}`).toBeLessThan(1e-6);
      }
    }
  });
});

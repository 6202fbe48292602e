import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { DType } from '../ir/dtype.js';
import { Graph, type Value } from '../ir/graph.js';
import { lookupOp, registerOp } from '../ir/op-registry.js';
import { serializeModel } from '../ir/serialize.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { need } from '../ops/common.js';
import { fromOrtTensor, toOrtTensor } from '../runtime/tensors.js';
import { mulberry32 } from '../testing/op-check.js';
import { GradientError, gradients } from './gradients.js';

/** Runs g on onnxruntime-node CPU and returns every graph output by name. */
async function run(g: Graph, feeds: Record<string, TensorData>): Promise<Record<string, TensorData>> {
  const s = await ort.InferenceSession.create(serializeModel(g));
  const f: Record<string, ReturnType<typeof toOrtTensor>> = {};
  for (const [k, t] of Object.entries(feeds)) f[k] = toOrtTensor(ort, t);
  const r = await s.run(f);
  const out: Record<string, TensorData> = {};
  for (const [k, t] of Object.entries(r)) out[k] = fromOrtTensor(t);
  return out;
}

function f64(shape: number[], values: number[]): TensorData {
  return tensorData('float64', shape, values);
}

function randomF64(shape: number[], rand: () => number, lo = -1, hi = 1): TensorData {
  const n = shape.reduce((a, b) => a * b, 1);
  return f64(
    shape,
    Array.from({ length: n }, () => lo + (hi - lo) * rand()),
  );
}

const nums = (t: TensorData) => Array.from(t.data as ArrayLike<number>, Number);

// The graphs below compute in float64 what the JS formulas compute; their results agree to a few ulps.
const F64_TOL = 1e-12;
function expectClose(got: number[], want: number[], tol = F64_TOL): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    expect(Math.abs(g - want[i]), `element ${i}: ${g} vs ${want[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i])));
  });
}

describe('gradients()', () => {
  it('sums the contributions of a value used three times: d/dx Σ(x·x + exp(x)) = 2x + exp(x)', async () => {
    const g = new Graph('fanout');
    const x = g.input('x', 'float64', [2, 3]);
    const loss = g.ReduceSum(g.Add(g.Mul(x, x), g.Exp(x)));
    const [dx] = gradients(g, loss, [x]);
    g.output(dx);
    const xv = [0.5, -1.5, 2, 0, -0.25, 1];
    const r = await run(g, { x: f64([2, 3], xv) });
    expectClose(
      nums(r[dx.name]),
      xv.map((v) => 2 * v + Math.exp(v)),
    );
  });

  it.each([3, 5])('undoes broadcasting of a bias [4] over a symbolic batch (fed %i rows): gradient [4] = column sums', async (rows) => {
    // L = Σ (x + b)·x, so ∂L/∂b = Σ_rows x, the column sums of x.
    const g = new Graph('bias');
    const x = g.input('x', 'float64', ['batch', 4]);
    const b = g.input('b', 'float64', [4]);
    const loss = g.ReduceSum(g.Mul(g.Add(x, b), x));
    const [db] = gradients(g, loss, [b]);
    expect(db.shape).toEqual([4]);
    g.output(db);
    const xv = randomF64([rows, 4], mulberry32(rows));
    const r = await run(g, { x: xv, b: f64([4], [0.1, 0.2, 0.3, 0.4]) });
    expect(r[db.name].shape).toEqual([4]);
    const colSums = [0, 1, 2, 3].map((c) => nums(xv).reduce((s, v, i) => (i % 4 === c ? s + v : s), 0));
    expectClose(nums(r[db.name]), colSums);
  });

  it('blocks the flow at stopGradient: d/dx Σ x·stop(x) = stop(x)', async () => {
    const g = new Graph('stop');
    const x = g.input('x', 'float64', [4]);
    const loss = g.ReduceSum(g.Mul(x, g.stopGradient(x)));
    const [dx] = gradients(g, loss, [x]);
    g.output(dx);
    const xv = [1.5, -2, 0.25, 3];
    const r = await run(g, { x: f64([4], xv) });
    // Without the stop it would be 2x.
    expectClose(nums(r[dx.name]), xv);
  });

  it('gives zeros to a value with no path to the loss, static and symbolic shapes alike', async () => {
    const g = new Graph('nopath');
    const x = g.input('x', 'float64', [3]);
    const zs = g.input('z_static', 'float64', [2, 3]);
    const zb = g.input('z_sym', 'float64', ['batch', 3]);
    const loss = g.ReduceSum(g.Mul(x, x));
    const [ds, db] = gradients(g, loss, [zs, zb]);
    expect(ds.shape).toEqual([2, 3]);
    expect(db.shape).toEqual(['batch', 3]);
    g.output(ds, 'ds');
    g.output(db, 'db');
    const r = await run(g, { x: f64([3], [1, 2, 3]), z_static: randomF64([2, 3], mulberry32(1)), z_sym: randomF64([4, 3], mulberry32(2)) });
    expect(r.ds.shape).toEqual([2, 3]);
    expect(nums(r.ds)).toEqual(new Array(6).fill(0));
    expect(r.db.shape).toEqual([4, 3]);
    expect(nums(r.db)).toEqual(new Array(12).fill(0));
  });

  it('refuses a non-scalar y without a seed, with a clear GradientError', () => {
    const g = new Graph('vec');
    const x = g.input('x', 'float64', [3]);
    const y = g.Mul(x, x);
    expect(() => gradients(g, y, [x])).toThrow(GradientError);
    expect(() => gradients(g, y, [x])).toThrow(/Mul_out: float64\[3\] is not a scalar; pass a seed gradient of its shape/);
  });

  it('computes the vector–Jacobian product with a seed: seedᵀ·∂(x·x)/∂x = 2x·seed', async () => {
    const g = new Graph('vjp');
    const x = g.input('x', 'float64', [3]);
    const seed = g.input('seed', 'float64', [3]);
    const [dx] = gradients(g, g.Mul(x, x), [x], { seed });
    g.output(dx);
    const xv = [0.5, -1, 2];
    const sv = [3, 0.25, -2];
    const r = await run(g, { x: f64([3], xv), seed: f64([3], sv) });
    expectClose(
      nums(r[dx.name]),
      xv.map((v, i) => 2 * v * sv[i]),
    );
    expect(() => gradients(g, g.Mul(x, x), [x], { seed: g.input('bad_seed', 'float64', [2]) })).toThrow(/seed .* must match/);
  });

  it('names an op without a gradient rule, and the node, when it lies between the loss and wrt', () => {
    // A throwaway op in a private domain (the registry is per test file process; ai.onnx stays untouched).
    const domain = 'test.onnxvae.gradients';
    if (!lookupOp('NoGradRule', domain)) {
      registerOp({
        opType: 'NoGradRule',
        domain,
        sinceVersion: 1,
        inputs: [1, 1],
        attrs: {},
        infer: (ctx) => [{ dtype: need(ctx, 0).dtype, shape: need(ctx, 0).shape }],
      });
    }
    const g = new Graph('nograd');
    const x = g.input('x', 'float64', [3]);
    const w = g.input('w', 'float64', [3]);
    const hidden = g.op1('NoGradRule', [x], {}, { domain, name: 'mystery' });
    const loss = g.ReduceSum(g.Mul(hidden, w));
    expect(() => gradients(g, loss, [x])).toThrow(GradientError);
    expect(() => gradients(g, loss, [x])).toThrow(/operator NoGradRule has no gradient rule \(node 'mystery', inputs x\[3\]\)/);
    // Off the path to wrt, the op is no obstacle: ∂L/∂w = hidden needs no rule for NoGradRule.
    expect(() => gradients(g, loss, [w])).not.toThrow();
  });

  it('names the results <value>_grad', () => {
    const g = new Graph('names');
    const x = g.input('x', 'float64', [3]);
    const w = g.input('layer.w', 'float64', [3]);
    const [dx, dw] = gradients(g, g.ReduceSum(g.Mul(g.Mul(x, w), x)), [x, w]);
    expect(dx.name).toBe('x_grad');
    expect(dw.name).toBe('layer.w_grad');
    // A second gradient of the same values keeps working (the names are taken, so generated ones are kept).
    const [dx2] = gradients(g, g.ReduceSum(g.Exp(x)), [x]);
    expect(dx2.name).not.toBe('x_grad');
  });

  it('differentiates a gradient graph again: d²/dx² Σ x³ = 6x', async () => {
    const g = new Graph('second');
    const x = g.input('x', 'float64', [4]);
    const y = g.ReduceSum(g.Mul(g.Mul(x, x), x));
    const [dx] = gradients(g, y, [x]);
    // Σᵢ ∂y/∂xᵢ = Σ 3xᵢ², whose gradient is 6x (the Hessian is diagonal).
    const [ddx] = gradients(g, g.ReduceSum(dx), [x], { scope: 'grad2' });
    g.output(dx, 'dx');
    g.output(ddx, 'ddx');
    const xv = [0.5, -1.5, 2, -0.1];
    const r = await run(g, { x: f64([4], xv) });
    expectClose(
      nums(r.dx),
      xv.map((v) => 3 * v * v),
    );
    expectClose(
      nums(r.ddx),
      xv.map((v) => 6 * v),
    );
  });
});

describe('a 2-layer MLP with a Bernoulli negative log-likelihood', () => {
  // x[batch,5] → MatMul+Add → Tanh → MatMul+Add → logits a; loss = mean(softplus(a) − t·a) = mean −log Bern(t | σ(a)).
  const shapes: Record<string, number[]> = { w1: [5, 4], b1: [4], w2: [4, 2], b2: [2] };
  function build(): { g: Graph; params: Value[]; loss: Value } {
    const g = new Graph('mlp');
    const x = g.input('x', 'float64', ['batch', 5]);
    const t = g.input('t', 'float64', ['batch', 2]);
    const params = Object.entries(shapes).map(([n, s]) => g.input(n, 'float64' as DType, s));
    const [w1, b1, w2, b2] = params;
    const h = g.Tanh(g.Add(g.MatMul(x, w1), b1));
    const a = g.Add(g.MatMul(h, w2), b2);
    const loss = g.ReduceMean(g.Sub(g.Softplus(a), g.Mul(t, a)));
    return { g, params, loss };
  }

  it('gets every weight gradient right against central differences in float64', async () => {
    const rand = mulberry32(7);
    const rows = 3;
    const feeds: Record<string, TensorData> = {
      x: randomF64([rows, 5], rand, -2, 2),
      t: f64(
        [rows, 2],
        Array.from({ length: rows * 2 }, () => (rand() < 0.5 ? 0 : 1)),
      ),
    };
    for (const [n, s] of Object.entries(shapes)) feeds[n] = randomF64(s, rand);

    const { g, params, loss } = build();
    const grads = gradients(g, loss, params);
    g.output(loss, 'loss');
    grads.forEach((gv, i) => {
      expect(gv.shape).toEqual(params[i].shape);
      g.output(gv);
    });
    const fwd = build();
    fwd.g.output(fwd.loss, 'loss');
    const fwdSession = await ort.InferenceSession.create(serializeModel(fwd.g));
    const lossAt = async (fs: Record<string, TensorData>) => {
      const f: Record<string, ReturnType<typeof toOrtTensor>> = {};
      for (const [k, v] of Object.entries(fs)) f[k] = toOrtTensor(ort, v);
      return Number((await fwdSession.run(f)).loss.data[0]);
    };
    const r = await run(g, feeds);

    // h = 1e-6: truncation h²·f''' ≈ 1e-12, rounding ε·|L|/h ≈ 2e-16/1e-6 = 2e-10; 1e-8 leaves 50× margin.
    const h = 1e-6;
    const tol = 1e-8;
    let checked = 0;
    for (const [i, p] of params.entries()) {
      const analytic = nums(r[grads[i].name]);
      const base = feeds[p.name];
      for (let e = 0; e < base.data.length; e++) {
        const plus = new Float64Array(base.data as Float64Array);
        const minus = new Float64Array(base.data as Float64Array);
        plus[e] += h;
        minus[e] -= h;
        const lp = await lossAt({ ...feeds, [p.name]: f64([...base.shape], Array.from(plus)) });
        const lm = await lossAt({ ...feeds, [p.name]: f64([...base.shape], Array.from(minus)) });
        const numeric = (lp - lm) / (2 * h);
        expect(Math.abs(analytic[e] - numeric), `${p.name}[${e}]: ${analytic[e]} vs ${numeric}`).toBeLessThanOrEqual(
          tol * Math.max(1, Math.abs(numeric)),
        );
        checked++;
      }
    }
    expect(checked).toBe(5 * 4 + 4 + 4 * 2 + 2);
  });
});

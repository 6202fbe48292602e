import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { GradientError, gradients } from '../autodiff/gradients.js';
import { Graph, type Value } from '../ir/graph.js';
import { parseModel, serializeModel } from '../ir/serialize.js';
import { tensorData } from '../ir/tensor.js';
import type { OrtModule } from '../runtime/runtime.js';
import { fromOrtTensor, toOrtTensor } from '../runtime/tensors.js';

ortWeb.env.wasm.numThreads = 1;

/**
 * K steps of gradient descent on L(x) = Σ x², fused in one Loop: x ← x − lr·∂L/∂x, the gradient built by
 * gradients() inside the body; lr is an input of the outer graph that the body reads by name.
 */
function descentModel(steps: number | 'input'): Graph {
  const g = new Graph('descent');
  const x0 = g.input('x', 'float64', [3]);
  const lr = g.input('lr', 'float64', []);
  const m = steps === 'input' ? g.input('steps', 'int64', []) : steps;
  const [xK, losses] = g.Loop(m, [x0], (body, _iter, [x]) => {
    const loss = body.ReduceSum(body.Mul(x, x));
    const [dx] = gradients(body, loss, [x]);
    return { carried: [body.Sub(x, body.Mul(lr, dx))], scans: [loss] };
  });
  g.output(xK, 'x_final');
  g.output(losses, 'losses');
  return g;
}

function descentInJs(x: number[], lr: number, steps: number): { x: number[]; losses: number[] } {
  let v = [...x];
  const losses: number[] = [];
  for (let k = 0; k < steps; k++) {
    losses.push(v.reduce((s, e) => s + e * e, 0));
    v = v.map((e) => e - lr * (2 * e));
  }
  return { x: v, losses };
}

const X0 = [0.7, -1.3, 2.1];

async function runDescent(ort: OrtModule, bytes: Uint8Array, feedsExtra: Record<string, ReturnType<typeof toOrtTensor>> = {}) {
  const s = await ort.InferenceSession.create(bytes);
  const r = await s.run({
    x: toOrtTensor(ort, tensorData('float64', [3], X0)),
    lr: toOrtTensor(ort, tensorData('float64', [], [0.1])),
    ...feedsExtra,
  });
  return { x: Array.from(fromOrtTensor(r.x_final).data as Float64Array), losses: fromOrtTensor(r.losses) };
}

// The body does in float64 what the JS loop does (x − 0.1·(x + x)); allow a few ulps for a different summation order.
const F64_TOL = 1e-14;

describe('Loop: 5 fused gradient-descent steps', () => {
  const want = descentInJs(X0, 0.1, 5);
  for (const [name, ort] of [
    ['onnxruntime-node', ortNode],
    ['onnxruntime-web (wasm)', ortWeb],
  ] as const) {
    it(`equals 5 steps in JS on ${name}`, async () => {
      const g = descentModel(5);
      const got = await runDescent(ort, serializeModel(g));
      for (let i = 0; i < 3; i++) expect(got.x[i]).toBeCloseTo(want.x[i], 14);
      expect(got.losses.shape).toEqual([5]);
      Array.from(got.losses.data as Float64Array).forEach((l, k) => {
        expect(Math.abs(l - want.losses[k])).toBeLessThanOrEqual(F64_TOL * Math.max(1, want.losses[k]));
      });
    });
  }

  it('has the shapes the rule promises: carried as the initial value, scan with a static leading dim for a constant M', () => {
    const g = descentModel(5);
    const [xK, losses] = g.outputs;
    expect(xK.shape).toEqual([3]);
    expect(losses.shape).toEqual([5]);
  });

  it('takes the trip count at run time (scan dim becomes symbolic)', async () => {
    const g = descentModel('input');
    expect(typeof g.outputs[1].shape[0]).toBe('string');
    const got = await runDescent(ortNode, serializeModel(g), { steps: toOrtTensor(ortNode, tensorData('int64', [], [BigInt(3)])) });
    const want = descentInJs(X0, 0.1, 3);
    for (let i = 0; i < 3; i++) expect(got.x[i]).toBeCloseTo(want.x[i], 14);
    expect(got.losses.shape).toEqual([3]);
  });

  it('survives serialize → parse → serialize byte for byte (the body reads lr from the outer graph by name)', async () => {
    const bytes = serializeModel(descentModel(5));
    const parsed = parseModel(bytes, 'descent.onnx');
    expect(serializeModel(parsed.graph)).toEqual(bytes);
    const got = await runDescent(ortNode, serializeModel(parsed.graph));
    expect(got.x).toEqual((await runDescent(ortNode, bytes)).x);
  });
});

describe('Loop shape rule', () => {
  function loopWith(bodyOut: (b: Graph, v: Value) => Value): () => void {
    return () => {
      const g = new Graph('bad');
      const x = g.input('x', 'float64', [2, 3]);
      g.Loop(2, [x], (b, _i, [v]) => [bodyOut(b, v)]);
    };
  }
  it('rejects a body output whose rank differs from the initial value', () => {
    expect(loopWith((b, v) => b.ReduceSum(v, [0]))).toThrow(/loop-carried value 0 starts as x: float64\[2, 3\].*rank must agree/);
  });
  it('rejects a body output whose dtype differs from the initial value', () => {
    expect(loopWith((b, v) => b.Cast(v, 'float32'))).toThrow(/loop-carried value 0 .*float32\[2, 3\].*dtype and rank must agree/);
  });
  it('rejects a wrong number of body inputs and a non-int64 trip count', () => {
    const g = new Graph('bad');
    const x = g.input('x', 'float64', [2]);
    const body = new Graph('body', g);
    body.input('body.i', 'int64', []);
    const c = body.input('body.c', 'bool', []);
    body.output(body.Identity(c));
    expect(() => g.op('Loop', [g.scalar(2, 'int64'), undefined, x], { body })).toThrow(/has 2 inputs; it needs 3/);
    expect(() => g.op('Loop', [g.scalar(2, 'float64'), undefined, x], { body })).toThrow(/trip count M must be an int64 scalar/);
  });
  it('gives a changing static dim a fresh symbolic name instead of a wrong size', () => {
    const g = new Graph('grow');
    const x = g.input('x', 'float64', [2]);
    const out = g.op('Loop', [g.scalar(2, 'int64'), undefined, x], { body: growBody(g) }, { outputs: 1 });
    expect(typeof out[0].shape[0]).toBe('string');
  });
});

/** A body whose carried value is declared [2] but comes out [4] (a Concat-free doubling via Expand of rank 2). */
function growBody(g: Graph): Graph {
  const b = g.subgraph('grow_body');
  b.input('grow_body.i', 'int64', []);
  const c = b.input('grow_body.c', 'bool', []);
  const v = b.input('grow_body.v', 'float64', [2]);
  b.output(b.Identity(c));
  b.output(b.Reshape(b.Expand(b.Unsqueeze(v, [0]), [2, 2]), [4]));
  return b;
}

describe('Loop and autodiff', () => {
  it('has no gradient rule: differentiating through it names the op and the node', () => {
    const g = new Graph('through');
    const x = g.input('x', 'float64', [3]);
    const [y] = g.Loop(2, [x], (b, _i, [v]) => [b.Mul(v, v)]);
    const loss = g.ReduceSum(y);
    expect(() => gradients(g, loss, [x])).toThrow(GradientError);
    expect(() => gradients(g, loss, [x])).toThrow(/operator Loop has no gradient rule \(node 'Loop/);
  });

  it('does not return a silent zero when the body reads a value being differentiated', () => {
    const g = new Graph('captured');
    const w = g.input('w', 'float64', [3]);
    const x = g.input('x', 'float64', [3]);
    const [y] = g.Loop(2, [x], (b, _i, [v]) => [b.Mul(v, w)]);
    expect(() => gradients(g, g.ReduceSum(y), [w])).toThrow(/reads 'w' inside its body/);
  });

  it('differentiates inside a body through values of the enclosing graph (w → outer Exp → body)', async () => {
    // Per iteration: L(v) = Σ v·exp(w), so ∂L/∂w = v·exp(w); the carried sum accumulates it over 3 iterations.
    const g = new Graph('outer_path');
    const w = g.input('w', 'float64', [2]);
    const v0 = g.input('v', 'float64', [2]);
    const ew = g.Exp(w);
    const acc0 = g.Constant(tensorData('float64', [2]));
    const [, acc] = g.Loop(3, [v0, acc0], (b, _i, [v, a]) => {
      const [dw] = gradients(b, b.ReduceSum(b.Mul(v, ew)), [w]);
      return [b.Mul(v, b.scalar(2, 'float64')), b.Add(a, dw)];
    });
    g.output(acc, 'acc');
    const s = await ortNode.InferenceSession.create(serializeModel(g));
    const wv = [0.3, -0.4];
    const vv = [1.5, -2];
    const r = await s.run({
      w: toOrtTensor(ortNode, tensorData('float64', [2], wv)),
      v: toOrtTensor(ortNode, tensorData('float64', [2], vv)),
    });
    // Σ over iterations of v_k·exp(w) with v_k = 2ᵏ·v0: (1 + 2 + 4)·v0·exp(w).
    const got = Array.from(r.acc.data as Float64Array);
    got.forEach((e, i) => {
      expect(e).toBeCloseTo(7 * vv[i] * Math.exp(wv[i]), 12);
    });
  });
});

import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { gradients } from '../autodiff/gradients.js';
import { Graph, type Value } from '../ir/graph.js';
import { serializeModel } from '../ir/serialize.js';
import type { Dim } from '../ir/shape.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { fromOrtTensor, toOrtTensor } from '../runtime/tensors.js';
import { mulberry32 } from '../testing/op-check.js';

/**
 * The shape and gradient rules with a symbolic batch dim: each graph is built once with x: ['batch', 3, 4] and once
 * with x: [2, 3, 4]. The symbolic build must infer the stated output shape and give a gradient of exactly x's
 * (symbolic) shape; both builds must compute the same numbers on ORT (the static one is checked against finite
 * differences in ops.test.ts).
 */
const X_SHAPE = [2, 3, 4];
const rand = mulberry32(7);
const X = tensorData(
  'float64',
  X_SHAPE,
  Array.from({ length: 24 }, () => rand() * 2 - 1),
);
const W = (shape: number[]) =>
  tensorData(
    'float64',
    shape,
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1),
  );
const W42 = W([4, 2]);
const W3 = W([3]);
const W12 = W([2, 12]);
const C2 = W([2]);
const IDX = tensorData('int64', [2, 2], [0n, 3n, -1n, 3n]);
const INT_MAX = 2 ** 31 - 1;

interface Entry {
  name: string;
  y: (g: Graph, x: Value) => Value;
  /** The output shape the rules must infer with x: ['batch', 3, 4]. */
  shape: Dim[];
}

const entries: Entry[] = [
  { name: 'MatMul N-D · 2-D', y: (g, x) => g.MatMul(x, g.Constant(W42)), shape: ['batch', 3, 2] },
  { name: 'MatMul 1-D · N-D', y: (g, x) => g.MatMul(g.Constant(W3), x), shape: ['batch', 4] },
  {
    name: 'Gemm after Flatten',
    y: (g, x) => g.Gemm(g.Flatten(x, 1), g.Constant(W12), g.Constant(C2), { alpha: 0.5, transB: 1 }),
    shape: ['batch', 2],
  },
  { name: 'Softmax', y: (g, x) => g.Softmax(x, 1), shape: ['batch', 3, 4] },
  { name: 'LogSoftmax on the batch axis', y: (g, x) => g.LogSoftmax(x, 0), shape: ['batch', 3, 4] },
  { name: 'Flatten axis 0', y: (g, x) => g.Flatten(x, 0), shape: [1, '12*batch'] },
  { name: 'Flatten axis 2', y: (g, x) => g.Flatten(x, 2), shape: ['3*batch', 4] },
  { name: 'Transpose', y: (g, x) => g.Transpose(x, [2, 0, 1]), shape: [4, 'batch', 3] },
  { name: 'Concat on the batch axis', y: (g, x) => g.Concat([x, g.Neg(x)], 0), shape: ['batch+batch', 3, 4] },
  { name: 'Concat on a static axis', y: (g, x) => g.Concat([x, g.Slice(x, [0], [1], [1])], 1), shape: ['batch', 4, 4] },
  {
    name: 'Slice, whole batch axis and step -2',
    y: (g, x) => g.Slice(x, [0, 3], [INT_MAX, 0], [0, 2], [1, -2]),
    shape: ['batch', 3, 2],
  },
  { name: 'Slice, batch axis reversed', y: (g, x) => g.Slice(x, [-1, 1], [-INT_MAX, 3], [0, 1], [-1, 1]), shape: ['batch', 2, 4] },
  { name: 'Pad constant on the batch axis', y: (g, x) => g.op1('Pad', [x, g.ints([1, 0, 0, 1, 0, 2])]), shape: ['batch+2', 3, 6] },
  {
    name: 'Pad edge',
    y: (g, x) => g.op1('Pad', [x, g.ints([0, 1, 0, 0, 1, 1])], { mode: 'edge' }),
    shape: ['batch', 5, 5],
  },
  { name: 'Split, one output used', y: (g, x) => g.Split(x, 1, [1, 2])[1], shape: ['batch', 2, 4] },
  {
    name: 'Split num_outputs on the batch axis',
    y: (g, x) => g.op('Split', [x], { axis: 0, num_outputs: 2 }, { outputs: 2 })[1],
    shape: ['split_*', 3, 4],
  },
  { name: 'Tile the batch axis', y: (g, x) => g.Tile(x, [2, 1, 2]), shape: ['2*batch', 3, 8] },
  { name: 'Gather, 2-D indices', y: (g, x) => g.Gather(x, g.Constant(IDX), 2), shape: ['batch', 3, 2, 2] },
  { name: 'Gather on the batch axis', y: (g, x) => g.Gather(x, g.ints([-1, 0, 0]), 0), shape: [3, 3, 4] },
];

async function run(e: Entry, shape: Dim[]): Promise<{ y: TensorData; dx: TensorData; inferred: Dim[]; gradShape: Dim[] }> {
  const g = new Graph('sym');
  const x = g.input('x', 'float64', shape);
  const y = e.y(g, x);
  const [dx] = gradients(g, g.ReduceSumSquare(y), [x]);
  g.output(y, 'y');
  g.output(dx, 'dx');
  const s = await ort.InferenceSession.create(serializeModel(g));
  const r = await s.run({ x: toOrtTensor(ort, X) });
  return { y: fromOrtTensor(r.y), dx: fromOrtTensor(r.dx), inferred: [...y.shape], gradShape: [...dx.shape] };
}

describe('shape and gradient rules with a symbolic batch dim', () => {
  it.each(entries.map((e) => [e.name, e] as const))('%s', async (_n, e) => {
    const sym = await run(e, ['batch', 3, 4]);
    const fixed = await run(e, X_SHAPE);
    // Fresh dims (data-dependent sizes) get a counter suffix: compare their prefix only.
    expect(sym.inferred.map((d) => (typeof d === 'string' && /^split_\d+$/.test(d) ? 'split_*' : d))).toEqual(e.shape);
    expect(sym.gradShape).toEqual(['batch', 3, 4]);
    expect(sym.y.shape).toEqual(fixed.y.shape);
    // The same kernels run on the same numbers in both builds, so the results agree exactly.
    expect(Array.from(sym.y.data as Float64Array)).toEqual(Array.from(fixed.y.data as Float64Array));
    expect(Array.from(sym.dx.data as Float64Array)).toEqual(Array.from(fixed.dx.data as Float64Array));
  });
});

describe('Split with an output no gradient reaches', () => {
  it('gives zeros there: d/dx Σ Split(x)[1]² is 2x on that part and 0 on the others', async () => {
    const e = entries.find((k) => k.name === 'Split, one output used') as Entry;
    for (const shape of [['batch', 3, 4], X_SHAPE]) {
      const { dx } = await run(e, shape);
      const want = Array.from(X.data as Float64Array, (v, i) => (Math.floor(i / 4) % 3 >= 1 ? 2 * v : 0));
      expect(Array.from(dx.data as Float64Array)).toEqual(want);
    }
  });
});

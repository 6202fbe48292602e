import type { Graph, Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import { broadcastShapes, type Dim, formatShape, ShapeError } from '../ir/shape.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { need, ravel, sameDType, unifyDim, unravel } from './common.js';

/** numpy.matmul's output shape: a 1-D A is a row [1, K], a 1-D B a column [K, 1], and the added dim is dropped. */
export function matMulShape(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  if (a.length === 0 || b.length === 0)
    throw new ShapeError(`MatMul needs inputs of rank ≥ 1, got ${formatShape(a)} and ${formatShape(b)}`);
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  unifyDim(
    a2[a2.length - 1],
    b2[b2.length - 2],
    () => `inner dims differ: A ${formatShape(a)} has ${a2[a2.length - 1]} columns but B ${formatShape(b)} has ${b2[b2.length - 2]} rows`,
  );
  const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
  return [...batch, ...(a.length === 1 ? [] : [a2[a2.length - 2]]), ...(b.length === 1 ? [] : [b2[b2.length - 1]])];
}

/** X with its last two axes swapped. */
function swapLast(g: Graph, x: Value): Value {
  const r = x.rank;
  return g.Transpose(x, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
}

/** g.MatMul(a, b) */
function matMul(g: Graph, a: Value, b: Value): Value {
  return g.op1('MatMul', [a, b]);
}

export const MatMul: Op<typeof matMul> = {
  opType: 'MatMul',
  sinceVersion: 13,
  inputs: [2, 2],
  attrs: {},
  build: matMul,
  infer(ctx) {
    const a = need(ctx, 0);
    const b = need(ctx, 1);
    return [{ dtype: sameDType([a, b]), shape: matMulShape(a.shape, b.shape) }];
  },
  // dA = dY · Bᵀ, dB = Aᵀ · dY, with 1-D operands promoted to [1, K] / [K, 1] and dY given the dropped dim back;
  // the results have the broadcast batch dims, which autodiff sums down to each input's shape.
  grad: ({ g, inputs: [a, b], dy: [d], needs }) => {
    if (!a || !b || !d) return [];
    if (a.rank === 1 && b.rank === 1) return [needs[0] ? g.Mul(d, b) : undefined, needs[1] ? g.Mul(d, a) : undefined];
    // dY with the dims that 1-D promotion dropped put back: [..., M, N].
    let d2 = d;
    if (a.rank === 1) d2 = g.Unsqueeze(d2, [-2]);
    if (b.rank === 1) d2 = g.Unsqueeze(d2, [-1]);
    let da: Value | undefined;
    let db: Value | undefined;
    if (needs[0]) {
      // [..., M, N] · [..., N, K]; a 1-D B is the row [1, K] and is its own transpose.
      da = b.rank === 1 ? g.Mul(d2, g.Unsqueeze(b, [0])) : g.MatMul(d2, swapLast(g, b));
      if (a.rank === 1) da = g.Squeeze(da, [da.rank - 2]);
    }
    if (needs[1]) {
      // [..., K, M] · [..., M, N]; a 1-D A is the column [K, 1].
      db = a.rank === 1 ? g.Mul(g.Unsqueeze(a, [1]), d2) : g.MatMul(swapLast(g, a), d2);
      if (b.rank === 1) db = g.Squeeze(db, [db.rank - 1]);
    }
    return [da, db];
  },
  reference: ([a, b]) => [matMulRef(a, b)],
  cases: [
    { name: '1-D · 1-D', inputs: [{ shape: [4] }, { shape: [4] }] },
    { name: '1-D · 2-D', inputs: [{ shape: [3] }, { shape: [3, 4] }] },
    { name: '2-D · 1-D', inputs: [{ shape: [2, 3] }, { shape: [3] }] },
    { name: '2-D · 2-D', inputs: [{ shape: [2, 3] }, { shape: [3, 4] }] },
    { name: '3-D · 2-D', inputs: [{ shape: [2, 2, 3] }, { shape: [3, 4] }] },
    { name: '2-D · 3-D', inputs: [{ shape: [2, 3] }, { shape: [2, 3, 2] }] },
    { name: '1-D · 3-D', inputs: [{ shape: [3] }, { shape: [2, 3, 2] }] },
    { name: '3-D · 1-D', inputs: [{ shape: [2, 2, 3] }, { shape: [3] }] },
    { name: 'batch broadcast [2,1,2,3]·[3,3,2]', inputs: [{ shape: [2, 1, 2, 3] }, { shape: [3, 3, 2] }] },
    { name: 'batch broadcast [1,2,3]·[2,3,2]', inputs: [{ shape: [1, 2, 3] }, { shape: [2, 3, 2] }] },
  ],
};

function matMulRef(a: TensorData, b: TensorData): TensorData {
  const as = a.shape.length === 1 ? [1, a.shape[0]] : [...a.shape];
  const bs = b.shape.length === 1 ? [b.shape[0], 1] : [...b.shape];
  const out = matMulShape(a.shape, b.shape) as number[];
  const [m, k, n] = [as[as.length - 2], as[as.length - 1], bs[bs.length - 1]];
  const batch = broadcastShapes(as.slice(0, -2), bs.slice(0, -2)) as number[];
  const nb = batch.reduce((p, q) => p * q, 1);
  const y = new Float64Array(nb * m * n);
  // Index of a batch element in an operand's own (right-aligned, size-1 broadcast) batch dims.
  const batchIndex = (bi: number[], own: number[]) => {
    const off = bi.length - own.length;
    return ravel(
      own.map((s, i) => (s === 1 ? 0 : bi[i + off])),
      own,
    );
  };
  for (let t = 0; t < nb; t++) {
    const bi = unravel(t, batch);
    const ao = batchIndex(bi, as.slice(0, -2)) * m * k;
    const bo = batchIndex(bi, bs.slice(0, -2)) * k * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += Number(a.data[ao + i * k + p]) * Number(b.data[bo + p * n + j]);
        y[t * m * n + i * n + j] = s;
      }
  }
  return tensorData('float64', out, y);
}

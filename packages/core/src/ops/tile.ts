import type { Graph, Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import { type Dim, dimProduct, formatShape, ShapeError } from '../ir/shape.js';
import { tensorData } from '../ir/tensor.js';
import { constInts, need, ravel, shapeValue, unravel } from './common.js';

/** g.Tile(x, repeats): one static repeat count per axis. */
function tile(g: Graph, x: Value, repeats: readonly number[]): Value {
  return g.op1('Tile', [x, g.ints(repeats)]);
}

export const Tile: Op<typeof tile> = {
  opType: 'Tile',
  sinceVersion: 13,
  inputs: [2, 2],
  attrs: {},
  build: tile,
  differentiable: [0],
  infer(ctx) {
    const x = need(ctx, 0);
    const reps = constInts(need(ctx, 1), 'repeats') ?? [];
    if (reps.length !== x.rank)
      throw new ShapeError(`repeats ${formatShape(reps)} must have one entry per axis of ${formatShape(x.shape)}`);
    if (reps.some((r) => r < 0)) throw new ShapeError(`repeats ${formatShape(reps)} must not be negative`);
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (reps[i] === 1 ? d : dimProduct([reps[i], d]))) }];
  },
  // dX = Σ over the copies: Reshape dY [r₀·d₀, r₁·d₁, …] to [r₀, d₀, r₁, d₁, …] and ReduceSum the r axes
  grad: ({ g, inputs: [x, repsIn], dy: [d] }) => {
    if (!x || !d) return [];
    const reps = constInts(repsIn, 'repeats') ?? [];
    if (reps.every((r) => r === 1)) return [d];
    // Axes repeated once need no split: [r₀, d₀] only where rᵢ ≠ 1.
    const dims: Dim[] = [];
    const sumAxes: number[] = [];
    x.shape.forEach((s, i) => {
      if (reps[i] !== 1) {
        sumAxes.push(dims.length);
        dims.push(reps[i]);
      }
      dims.push(s);
    });
    return [g.ReduceSum(g.Reshape(d, shapeValue(g, dims, [x])), sumAxes, false)];
  },
  reference: ([x, repsT]) => {
    const reps = Array.from(repsT.data as BigInt64Array, Number);
    const shape = x.shape.map((d, i) => d * reps[i]);
    const n = shape.reduce((p, q) => p * q, 1);
    const out = new Float64Array(n);
    for (let k = 0; k < n; k++)
      out[k] = Number(
        x.data[
          ravel(
            unravel(k, shape).map((j, i) => j % x.shape[i]),
            x.shape,
          )
        ],
      );
    return [tensorData('float64', shape, out)];
  },
  cases: [
    { name: 'repeat rows', inputs: [{ shape: [2, 3] }, { shape: [2], dtype: 'int64', values: [2, 1], constant: true }] },
    { name: 'repeat columns', inputs: [{ shape: [2, 3] }, { shape: [2], dtype: 'int64', values: [1, 3], constant: true }] },
    { name: 'both axes', inputs: [{ shape: [2, 3] }, { shape: [2], dtype: 'int64', values: [2, 2], constant: true }] },
    { name: '3-D', inputs: [{ shape: [1, 2, 3] }, { shape: [3], dtype: 'int64', values: [2, 1, 2], constant: true }] },
    { name: '1-D', inputs: [{ shape: [4] }, { shape: [1], dtype: 'int64', values: [3], constant: true }] },
    { name: 'no repetition', inputs: [{ shape: [2, 2] }, { shape: [2], dtype: 'int64', values: [1, 1], constant: true }] },
  ],
};

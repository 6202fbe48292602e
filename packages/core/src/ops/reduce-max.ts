import type { Graph, Value } from '../ir/graph.js';
import { reduceOp } from './reduce.js';

/** dX = dY·[X = Y]/count: ties share the gradient evenly (as PyTorch's amax does). */
export function extremumGrad(g: Graph, x: Value, y: Value, dy: Value, axes: number[], keep: boolean): Value {
  const yk = keep ? y : g.Unsqueeze(y, axes);
  const mask = g.Cast(g.Equal(x, yk), x.dtype);
  const count = g.ReduceSum(mask, axes, true);
  return g.Mul(g.Div(mask, count), dy);
}

const cases = [
  { name: 'axis 1', inputs: [{ shape: [2, 3, 2] }, { shape: [1], dtype: 'int64' as const, values: [1], constant: true }] },
  { name: 'all axes, no keepdims', attrs: { keepdims: 0 }, inputs: [{ shape: [3, 4] }] },
  {
    name: 'last axis, no keepdims',
    attrs: { keepdims: 0 },
    inputs: [{ shape: [3, 4] }, { shape: [1], dtype: 'int64' as const, values: [-1], constant: true }],
  },
];

export const ReduceMax = reduceOp({
  opType: 'ReduceMax',
  grad: ({ g, inputs: [x], outputs: [y], attrs }, dy, axes) => extremumGrad(g, x as Value, y, dy, axes, attrs.int('keepdims') === 1),
  ref: (xs) => Math.max(...xs),
  cases,
});

export const ReduceMin = reduceOp({
  opType: 'ReduceMin',
  grad: ({ g, inputs: [x], outputs: [y], attrs }, dy, axes) => extremumGrad(g, x as Value, y, dy, axes, attrs.int('keepdims') === 1),
  ref: (xs) => Math.min(...xs),
  cases,
});

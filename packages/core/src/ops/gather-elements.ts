import type { OpDef } from '../ir/op-schema.js';
import { formatShape, normAxis, ShapeError } from '../ir/shape.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { need, ravel, unravel, zerosLike } from './common.js';
import { checkIndexRange, requireIndices } from './gather.js';

export const GatherElements: OpDef = {
  opType: 'GatherElements',
  sinceVersion: 13,
  inputs: [2, 2],
  attrs: { axis: { type: 'int', default: 0 } },
  differentiable: [0],
  infer(ctx) {
    const x = need(ctx, 0);
    const ind = need(ctx, 1);
    requireIndices(ind);
    if (x.rank === 0 || ind.rank !== x.rank) {
      throw new ShapeError(`data ${formatShape(x.shape)} and indices ${formatShape(ind.shape)} must have one rank ≥ 1`);
    }
    const axis = normAxis(ctx.attrs.int('axis'), x.rank);
    checkIndexRange(ind, x.shape[axis], `axis ${axis} of ${formatShape(x.shape)}`);
    return [{ dtype: x.dtype, shape: ind.shape }];
  },
  // dX = ScatterElements(0, indices, dY, reduction 'add'): repeated indices add up
  grad: ({ g, inputs: [x, ind], dy: [d], attrs }) => {
    if (!x || !ind || !d) return [];
    return [g.op1('ScatterElements', [zerosLike(g, x), ind, d], { axis: attrs.int('axis'), reduction: 'add' })];
  },
  reference: ([x, ind], attrs) => {
    const axis = normAxis(attrs.int('axis'), x.shape.length);
    return [
      tensorData(
        'float64',
        ind.shape,
        elementsAlong(x, ind, axis, (xi) => Number(x.data[ravel(xi, x.shape)])),
      ),
    ];
  },
  cases: [
    { name: 'axis 0', inputs: [{ shape: [3, 2] }, { shape: [2, 2], dtype: 'int64', values: [0, 2, 1, 0] }] },
    {
      name: 'axis 1, repeated and negative indices',
      attrs: { axis: 1 },
      inputs: [{ shape: [2, 3] }, { shape: [2, 4], dtype: 'int64', values: [2, 2, -1, 0, 1, -3, 1, 0] }],
    },
    {
      name: 'axis -1, 3-D',
      attrs: { axis: -1 },
      inputs: [{ shape: [2, 2, 3] }, { shape: [2, 2, 1], dtype: 'int64', values: [0, 2, 1, -1] }],
    },
  ],
};

/**
 * For each element of `ind` (same rank as x): f at x's multi-index with the axis coordinate replaced by the index
 * (negative ones counted from the end). Shared by the GatherElements and ScatterElements references.
 */
export function elementsAlong(x: TensorData, ind: TensorData, axis: number, f: (xi: number[], k: number) => number): number[] {
  const size = x.shape[axis];
  return Array.from({ length: ind.data.length }, (_, k) => {
    const xi = unravel(k, ind.shape);
    const v = Number(ind.data[k]);
    xi[axis] = v < 0 ? v + size : v;
    return f(xi, k);
  });
}

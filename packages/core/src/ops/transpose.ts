import type { Graph, Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import { formatShape, ShapeError } from '../ir/shape.js';
import { tensorData } from '../ir/tensor.js';
import { need, ravel, unravel } from './common.js';

/** g.Transpose(x, perm?): the axes reversed when no perm is given. */
function transpose(g: Graph, x: Value, perm?: readonly number[]): Value {
  return g.op1('Transpose', [x], { perm });
}

/** The node's permutation: the attribute, or the reversed axes by default. */
function permOf(perm: number[] | undefined, rank: number): number[] {
  return perm ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
}

export const Transpose: Op<typeof transpose> = {
  opType: 'Transpose',
  sinceVersion: 13,
  inputs: [1, 1],
  // perm defaults to the reversed axes.
  attrs: { perm: 'ints' },
  build: transpose,
  infer(ctx) {
    const x = need(ctx, 0);
    const perm = permOf(ctx.attrs.has('perm') ? ctx.attrs.ints('perm') : undefined, x.rank);
    const sorted = [...perm].sort((a, b) => a - b);
    if (perm.length !== x.rank || sorted.some((p, i) => p !== i)) {
      throw new ShapeError(`perm ${formatShape(perm)} is not a permutation of the ${x.rank} axes of ${formatShape(x.shape)}`);
    }
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
  },
  // dX = Transpose(dY, perm⁻¹)
  grad: ({ g, inputs: [x], dy: [d], attrs }) => {
    if (!x || !d) return [];
    const perm = permOf(attrs.has('perm') ? attrs.ints('perm') : undefined, x.rank);
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => {
      inv[p] = i;
    });
    return [g.Transpose(d, inv)];
  },
  reference: ([x], attrs) => {
    const perm = permOf(attrs.has('perm') ? attrs.ints('perm') : undefined, x.shape.length);
    const shape = perm.map((p) => x.shape[p]);
    const out = new Float64Array(x.data.length);
    for (let i = 0; i < out.length; i++) {
      const yi = unravel(i, shape);
      const xi = new Array<number>(perm.length);
      perm.forEach((p, k) => {
        xi[p] = yi[k];
      });
      out[i] = Number(x.data[ravel(xi, x.shape)]);
    }
    return [tensorData('float64', shape, out)];
  },
  cases: [
    { name: 'default reverses', inputs: [{ shape: [2, 3, 4] }] },
    { name: 'perm [1, 0, 2]', attrs: { perm: [1, 0, 2] }, inputs: [{ shape: [2, 3, 4] }] },
    { name: 'perm [2, 0, 1]', attrs: { perm: [2, 0, 1] }, inputs: [{ shape: [2, 3, 4] }] },
    { name: '2-D default', inputs: [{ shape: [3, 4] }] },
    { name: 'perm [0, 2, 3, 1]', attrs: { perm: [0, 2, 3, 1] }, inputs: [{ shape: [1, 2, 3, 2] }] },
  ],
};

import { type Graph, Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import { broadcastShapes, ShapeError } from '../ir/shape.js';
import { tensorData } from '../ir/tensor.js';
import { mapN, need, shapeDims } from './common.js';

/** g.Expand(x, shape): static dims or an int64 Value. */
function expand(g: Graph, x: Value, shape: readonly number[] | Value): Value {
  return g.op1('Expand', [x, shape instanceof Value ? shape : g.ints(shape)]);
}

export const Expand: Op<typeof expand> = {
  opType: 'Expand',
  sinceVersion: 13,
  inputs: [2, 2],
  attrs: {},
  build: expand,
  differentiable: [0],
  infer(ctx) {
    const x = need(ctx, 0);
    const dims = shapeDims(ctx.inputs[1], 'shape');
    if (!dims) throw new ShapeError('shape input is required');
    return [{ dtype: x.dtype, shape: broadcastShapes(x.shape, dims) }];
  },
  // dX = dY, which is in the broadcast shape; autodiff sums it back down to X's shape.
  grad: ({ dy: [d] }) => [d],
  reference: (ins) => {
    const shape = Array.from(ins[1].data as BigInt64Array, Number);
    const n = shape.reduce((a, b) => a * b, 1);
    return [mapN([ins[0], tensorData('float64', shape, new Array(n).fill(0))], (a) => a)];
  },
  cases: [
    { inputs: [{ shape: [3, 1] }, { shape: [3], dtype: 'int64', values: [2, 3, 4], constant: true }] },
    { name: 'same rank', inputs: [{ shape: [1, 4] }, { shape: [2], dtype: 'int64', values: [3, 4], constant: true }] },
  ],
};

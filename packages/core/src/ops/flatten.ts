import type { Graph, Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import { dimProduct, ShapeError } from '../ir/shape.js';
import { tensorData } from '../ir/tensor.js';
import { need, shapeOf } from './common.js';

/** g.Flatten(x, axis?): axis defaults to the schema's 1. */
function flatten(g: Graph, x: Value, axis?: number): Value {
  return g.op1('Flatten', [x], { axis });
}

export const Flatten: Op<typeof flatten> = {
  opType: 'Flatten',
  sinceVersion: 13,
  inputs: [1, 1],
  attrs: { axis: { type: 'int', default: 1 } },
  build: flatten,
  infer(ctx) {
    const x = need(ctx, 0);
    const raw = ctx.attrs.int('axis');
    // Unlike most axes, Flatten's may equal the rank (everything goes to the first dim): the range is [-r, r].
    const axis = raw < 0 ? raw + x.rank : raw;
    if (axis < 0 || axis > x.rank) throw new ShapeError(`axis ${raw} is out of range [${-x.rank}, ${x.rank}] for rank ${x.rank}`);
    return [{ dtype: x.dtype, shape: [dimProduct(x.shape.slice(0, axis)), dimProduct(x.shape.slice(axis))] }];
  },
  // dX = Reshape(dY, shape(X))
  grad: ({ g, inputs: [x], dy: [d] }) => (x && d ? [g.Reshape(d, shapeOf(g, x))] : []),
  reference: ([x], attrs) => {
    const r = x.shape.length;
    const raw = attrs.int('axis');
    const axis = raw < 0 ? raw + r : raw;
    const prod = (s: readonly number[]) => s.reduce((p, q) => p * q, 1);
    return [tensorData('float64', [prod(x.shape.slice(0, axis)), prod(x.shape.slice(axis))], Array.from(x.data as Float64Array))];
  },
  cases: [
    { name: 'default axis 1', inputs: [{ shape: [2, 3, 4] }] },
    { name: 'axis 0', attrs: { axis: 0 }, inputs: [{ shape: [2, 3, 4] }] },
    { name: 'axis 2', attrs: { axis: 2 }, inputs: [{ shape: [2, 3, 4] }] },
    { name: 'axis = rank', attrs: { axis: 3 }, inputs: [{ shape: [2, 3, 2] }] },
    { name: 'axis -1', attrs: { axis: -1 }, inputs: [{ shape: [2, 3, 4] }] },
  ],
};

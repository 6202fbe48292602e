import type { Graph, Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import { normAxis, ShapeError } from '../ir/shape.js';
import { tensorData } from '../ir/tensor.js';
import { constInts, need } from './common.js';

/** g.Squeeze(x, axes?): every size-1 axis when none are given. */
function squeeze(g: Graph, x: Value, axes?: readonly number[]): Value {
  return g.op1('Squeeze', [x, axes ? g.ints(axes) : undefined]);
}

export const Squeeze: Op<typeof squeeze> = {
  opType: 'Squeeze',
  sinceVersion: 13,
  inputs: [1, 2],
  attrs: {},
  build: squeeze,
  differentiable: [0],
  infer(ctx) {
    const x = need(ctx, 0);
    const raw = constInts(ctx.inputs[1], 'axes');
    const axes = raw ? raw.map((a) => normAxis(a, x.rank)) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    for (const a of axes) {
      if (x.shape[a] !== 1) throw new ShapeError(`cannot squeeze axis ${a} of size ${x.shape[a]}`);
    }
    const shape = x.shape.filter((_, i) => !axes.includes(i));
    const c = x.constValue;
    return [{ dtype: x.dtype, shape, ...(c ? { constValue: tensorData(c.dtype, shape as number[], c.data) } : {}) }];
  },
  // dX = Unsqueeze(dY, axes), with the axes the forward pass removed
  grad: ({ g, inputs: [x, axesIn], dy: [d] }) => {
    if (!d || !x) return [];
    const raw = constInts(axesIn, 'axes');
    const axes = raw ? raw.map((a) => normAxis(a, x.rank)) : x.shape.flatMap((dim, i) => (dim === 1 ? [i] : []));
    return [axes.length ? g.Unsqueeze(d, axes) : d];
  },
  reference: (ins) => {
    const axes = ins[1]
      ? Array.from(ins[1].data as BigInt64Array, (a) => (Number(a) < 0 ? Number(a) + ins[0].shape.length : Number(a)))
      : null;
    const shape = ins[0].shape.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
    return [tensorData('float64', shape, Array.from(ins[0].data as Float64Array))];
  },
  cases: [
    { inputs: [{ shape: [2, 1, 3] }, { shape: [1], dtype: 'int64', values: [1], constant: true }] },
    { name: 'all size-1 axes', inputs: [{ shape: [1, 3, 1] }] },
  ],
};

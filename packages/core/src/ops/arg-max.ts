import type { Graph, Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import { normAxis, ShapeError } from '../ir/shape.js';
import { tensorData } from '../ir/tensor.js';
import { need, ravel, unravel } from './common.js';

/** g.ArgMax(x, axis?, keepdims?): keepdims defaults to false here, not to ONNX's 1, so the builder always writes it. */
function argMax(g: Graph, x: Value, axis?: number, keepdims = false): Value {
  return g.op1('ArgMax', [x], { axis, keepdims: keepdims ? 1 : 0 });
}

export const ArgMax: Op<typeof argMax> = {
  opType: 'ArgMax',
  sinceVersion: 13,
  inputs: [1, 1],
  attrs: {
    axis: { type: 'int', default: 0 },
    keepdims: { type: 'int', default: 1 },
    select_last_index: { type: 'int', default: 0 },
  },
  build: argMax,
  infer(ctx) {
    const x = need(ctx, 0);
    if (x.rank === 0) throw new ShapeError(`ArgMax needs an input of rank ≥ 1, got the scalar '${x.name}'`);
    const axis = normAxis(ctx.attrs.int('axis'), x.rank);
    const keep = ctx.attrs.int('keepdims') !== 0;
    return [{ dtype: 'int64', shape: x.shape.flatMap((d, i) => (i !== axis ? [d] : keep ? [1] : [])) }];
  },
  // An index is piecewise constant in X: no gradient.
  grad: 'none',
  reference: ([x], attrs) => {
    const rank = x.shape.length;
    const axis = normAxis(attrs.int('axis'), rank);
    const last = attrs.int('select_last_index') !== 0;
    const keepShape = x.shape.map((d, i) => (i === axis ? 1 : d));
    const n = keepShape.reduce((p, q) => p * q, 1);
    const out = new Array<bigint>(n);
    for (let k = 0; k < n; k++) {
      const idx = unravel(k, keepShape);
      let best = 0;
      let bestV = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < x.shape[axis]; j++) {
        idx[axis] = j;
        const v = Number(x.data[ravel(idx, x.shape)]);
        if (v > bestV || (last && v === bestV)) {
          best = j;
          bestV = v;
        }
      }
      out[k] = BigInt(best);
    }
    const keep = attrs.int('keepdims') !== 0;
    return [tensorData('int64', keep ? keepShape : keepShape.filter((_, i) => i !== axis), out)];
  },
  cases: [
    { name: 'default axis 0, keepdims', inputs: [{ shape: [3, 4] }] },
    { name: 'axis -1, no keepdims', attrs: { axis: -1, keepdims: 0 }, inputs: [{ shape: [2, 3, 4] }] },
    { name: 'axis 1', attrs: { axis: 1 }, inputs: [{ shape: [2, 3, 2] }] },
    {
      name: 'ties: first index',
      attrs: { axis: 1, keepdims: 0 },
      inputs: [{ shape: [2, 4], values: [1, 3, 3, 0, 2, 2, -1, 2] }],
    },
    {
      name: 'ties: select_last_index',
      attrs: { axis: 1, keepdims: 0, select_last_index: 1 },
      inputs: [{ shape: [2, 4], values: [1, 3, 3, 0, 2, 2, -1, 2] }],
    },
  ],
};

import type { Graph, Operand, Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import { ShapeError } from '../ir/shape.js';
import { mapN, need, requireFloat } from './common.js';

/** g.Clip(x, min?, max?): a number bound becomes a scalar of x's dtype. */
function clip(g: Graph, x: Value, min?: Operand, max?: Operand): Value {
  return g.op1('Clip', [x, min === undefined ? undefined : g.lift(min, x), max === undefined ? undefined : g.lift(max, x)]);
}

export const Clip: Op<typeof clip> = {
  opType: 'Clip',
  sinceVersion: 13,
  inputs: [1, 3],
  attrs: {},
  build: clip,
  differentiable: [0],
  infer(ctx) {
    const x = need(ctx, 0);
    requireFloat(x);
    for (const b of [ctx.inputs[1], ctx.inputs[2]]) {
      if (b && (b.rank !== 0 || b.dtype !== x.dtype)) throw new ShapeError(`bound '${b.name}' must be a ${x.dtype} scalar, got ${b}`);
    }
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  // dX = dY·[min ≤ X ≤ max]; the bounds are treated as constants.
  grad: ({ g, inputs: [x, lo, hi], dy: [d] }) => {
    if (!d || !x) return [];
    let inside = lo ? g.GreaterOrEqual(x, lo) : undefined;
    if (hi) inside = inside ? g.And(inside, g.LessOrEqual(x, hi)) : g.LessOrEqual(x, hi);
    return [inside ? g.Where(inside, d, 0) : d];
  },
  reference: (ins) => {
    const lo = ins[1] ? Number(ins[1].data[0]) : Number.NEGATIVE_INFINITY;
    const hi = ins[2] ? Number(ins[2].data[0]) : Number.POSITIVE_INFINITY;
    return [mapN([ins[0]], (x) => Math.min(hi, Math.max(lo, x)))];
  },
  cases: [
    {
      inputs: [
        { shape: [2, 3], values: [-1.5, -0.7, -0.2, 0.3, 0.9, 1.4] },
        { shape: [], values: [-0.5] },
        { shape: [], values: [1] },
      ],
    },
    {
      name: 'min only',
      inputs: [
        { shape: [2, 3], values: [-1.5, -0.7, -0.2, 0.3, 0.9, 1.4] },
        { shape: [], values: [0] },
      ],
    },
  ],
};

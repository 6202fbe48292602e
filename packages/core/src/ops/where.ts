import type { Graph, Operand, Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import { broadcastShapes, ShapeError } from '../ir/shape.js';
import { mapN, need, sameDType } from './common.js';

/** g.Where(cond, a, b): a number on either side becomes a scalar of the other side's dtype. */
function where(g: Graph, cond: Value, a: Operand, b: Operand): Value {
  const like = typeof a !== 'number' ? a : typeof b !== 'number' ? b : 'float32';
  return g.op1('Where', [cond, g.lift(a, like), g.lift(b, like)]);
}

export const Where: Op<typeof where> = {
  opType: 'Where',
  sinceVersion: 16,
  inputs: [3, 3],
  attrs: {},
  build: where,
  differentiable: [1, 2],
  infer(ctx) {
    const [c, a, b] = [0, 1, 2].map((i) => need(ctx, i));
    if (c.dtype !== 'bool') throw new ShapeError(`condition '${c.name}' must be bool, got ${c.dtype}`);
    return [{ dtype: sameDType([a, b]), shape: broadcastShapes(c.shape, a.shape, b.shape) }];
  },
  // dA = dY·[C], dB = dY·[¬C]
  grad: ({ g, inputs: [c], dy: [d], needs }) => {
    if (!d || !c) return [];
    return [undefined, needs[1] ? g.Where(c, d, 0) : undefined, needs[2] ? g.Where(c, 0, d) : undefined];
  },
  reference: (ins) => [mapN(ins, (c, a, b) => (c ? a : b))],
  cases: [
    {
      inputs: [{ shape: [2, 3], dtype: 'bool', values: [1, 0, 1, 0, 0, 1] }, { shape: [2, 3] }, { shape: [2, 3] }],
    },
    { name: 'broadcast', inputs: [{ shape: [3], dtype: 'bool', values: [1, 0, 1] }, { shape: [2, 3] }, { shape: [] }] },
  ],
};

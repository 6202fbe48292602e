import type { Graph, Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import { unaryOp } from './common.js';

/** g.LeakyRelu(x, alpha?): alpha defaults to the schema's 0.01. */
function leakyRelu(g: Graph, x: Value, alpha?: number): Value {
  return g.op1('LeakyRelu', [x], { alpha });
}

export const LeakyRelu: Op<typeof leakyRelu> = {
  ...unaryOp({
    opType: 'LeakyRelu',
    sinceVersion: 16,
    attrs: { alpha: { type: 'float', default: 0.01 } },
    // dX = dY·(X > 0 ? 1 : α)
    grad: ({ g, inputs: [x], dy: [d], attrs }) => [d && x ? g.Where(g.Greater(x, 0), d, g.Mul(d, attrs.float('alpha'))) : undefined],
    ref: (x, attr) => (x > 0 ? x : attr('alpha') * x),
    cases: [
      { inputs: [{ shape: [2, 3], values: [-1.5, -0.7, -0.2, 0.3, 0.9, 1.4] }] },
      { name: 'alpha 0.2', attrs: { alpha: 0.2 }, inputs: [{ shape: [2, 3], values: [-1.5, -0.7, -0.2, 0.3, 0.9, 1.4] }] },
    ],
  }),
  build: leakyRelu,
};

import type { Graph, Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import { unaryOp } from './common.js';

/** g.Elu(x, alpha?): alpha defaults to the schema's 1. */
function elu(g: Graph, x: Value, alpha?: number): Value {
  return g.op1('Elu', [x], { alpha });
}

export const Elu: Op<typeof elu> = {
  ...unaryOp({
    opType: 'Elu',
    sinceVersion: 6,
    attrs: { alpha: { type: 'float', default: 1 } },
    // dX = dY·(X > 0 ? 1 : Y + α)
    grad: ({ g, inputs: [x], outputs: [y], dy: [d], attrs }) => [
      d && x ? g.Where(g.Greater(x, 0), d, g.Mul(d, g.Add(y, attrs.float('alpha')))) : undefined,
    ],
    ref: (x, attr) => (x > 0 ? x : attr('alpha') * (Math.exp(x) - 1)),
    cases: [
      { inputs: [{ shape: [2, 3], values: [-1.5, -0.7, -0.2, 0.3, 0.9, 1.4] }] },
      { name: 'alpha 0.5', attrs: { alpha: 0.5 }, inputs: [{ shape: [2, 3], values: [-1.5, -0.7, -0.2, 0.3, 0.9, 1.4] }] },
    ],
  }),
  build: elu,
};

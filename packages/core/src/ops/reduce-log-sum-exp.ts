import type { Value } from '../ir/graph.js';
import { reduceOp } from './reduce.js';

export const ReduceLogSumExp = reduceOp({
  opType: 'ReduceLogSumExp',
  // dX = dY·exp(X − Y)  (the softmax of X over the reduced axes)
  grad: ({ g, inputs: [x], outputs: [y], attrs }, dy, axes) => {
    const yk = attrs.int('keepdims') === 1 ? y : g.Unsqueeze(y, axes);
    return g.Mul(dy, g.Exp(g.Sub(x as Value, yk)));
  },
  ref: (xs) => {
    const m = Math.max(...xs);
    return m + Math.log(xs.reduce((a, b) => a + Math.exp(b - m), 0));
  },
});

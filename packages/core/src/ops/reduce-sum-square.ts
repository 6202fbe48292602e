import type { Value } from '../ir/graph.js';
import { reduceOp } from './reduce.js';

export const ReduceSumSquare = reduceOp({
  opType: 'ReduceSumSquare',
  // dX = 2·X·dY
  grad: ({ g, inputs: [x] }, dy) => g.Mul(g.Mul(x as Value, 2), dy),
  ref: (xs) => xs.reduce((a, b) => a + b * b, 0),
});

import { unaryOp } from './common.js';

export const Sqrt = unaryOp({
  opType: 'Sqrt',
  sinceVersion: 13,
  // dX = dY/(2Y)
  grad: ({ g, outputs: [y], dy: [d] }) => [d ? g.Div(d, g.Mul(y, 2)) : undefined],
  ref: Math.sqrt,
  cases: [{ inputs: [{ shape: [2, 3], domain: [0.2, 3] }] }],
});

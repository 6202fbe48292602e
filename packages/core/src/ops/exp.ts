import { unaryOp } from './common.js';

export const Exp = unaryOp({
  opType: 'Exp',
  sinceVersion: 13,
  // dX = dY·Y
  grad: ({ g, outputs: [y], dy: [d] }) => [d ? g.Mul(d, y) : undefined],
  ref: Math.exp,
  cases: [{ inputs: [{ shape: [2, 3], domain: [-2, 2] }] }],
});

import { unaryOp } from './common.js';

export const Neg = unaryOp({
  opType: 'Neg',
  sinceVersion: 13,
  // dX = −dY
  grad: ({ g, dy: [d] }) => [d ? g.Neg(d) : undefined],
  ref: (x) => -x,
  cases: [{ inputs: [{ shape: [2, 3] }] }],
});

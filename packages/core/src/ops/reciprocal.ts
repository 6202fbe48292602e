import { unaryOp } from './common.js';

export const Reciprocal = unaryOp({
  opType: 'Reciprocal',
  sinceVersion: 13,
  // dX = −dY·Y²
  grad: ({ g, outputs: [y], dy: [d] }) => [d ? g.Neg(g.Mul(d, g.Mul(y, y))) : undefined],
  ref: (x) => 1 / x,
  cases: [{ inputs: [{ shape: [2, 3], domain: [0.5, 2] }] }],
});

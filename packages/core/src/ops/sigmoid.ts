import { unaryOp } from './common.js';

export const Sigmoid = unaryOp({
  opType: 'Sigmoid',
  sinceVersion: 13,
  // dX = dY·Y·(1 − Y)
  grad: ({ g, outputs: [y], dy: [d] }) => [d ? g.Mul(d, g.Mul(y, g.Sub(1, y))) : undefined],
  ref: (x) => 1 / (1 + Math.exp(-x)),
  cases: [{ inputs: [{ shape: [2, 3], domain: [-3, 3] }] }],
});

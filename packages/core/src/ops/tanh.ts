import { unaryOp } from './common.js';

export const Tanh = unaryOp({
  opType: 'Tanh',
  sinceVersion: 13,
  // dX = dY·(1 − Y²)
  grad: ({ g, outputs: [y], dy: [d] }) => [d ? g.Mul(d, g.Sub(1, g.Mul(y, y))) : undefined],
  ref: Math.tanh,
  cases: [{ inputs: [{ shape: [2, 3], domain: [-2, 2] }] }],
});

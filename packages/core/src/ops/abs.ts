import { unaryOp } from './common.js';

export const Abs = unaryOp({
  opType: 'Abs',
  sinceVersion: 13,
  // dX = dY·sign(X)
  grad: ({ g, inputs: [x], dy: [d] }) => [d && x ? g.Mul(d, g.Sign(x)) : undefined],
  ref: Math.abs,
  // Inputs are kept away from the kink at 0 so central differences are valid.
  cases: [{ inputs: [{ shape: [2, 3], values: [-1.5, -0.7, -0.2, 0.3, 0.9, 1.4] }] }],
});

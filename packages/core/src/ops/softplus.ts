import { unaryOp } from './common.js';

export const Softplus = unaryOp({
  opType: 'Softplus',
  sinceVersion: 1,
  // dX = dY·σ(X)
  grad: ({ g, inputs: [x], dy: [d] }) => [d && x ? g.Mul(d, g.Sigmoid(x)) : undefined],
  ref: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  cases: [{ inputs: [{ shape: [2, 3], domain: [-3, 3] }] }],
});

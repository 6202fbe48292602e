import { unaryOp } from './common.js';

export const Relu = unaryOp({
  opType: 'Relu',
  sinceVersion: 14,
  // dX = dY·[X > 0]
  grad: ({ g, inputs: [x], dy: [d] }) => [d && x ? g.Where(g.Greater(x, 0), d, 0) : undefined],
  ref: (x) => Math.max(0, x),
  // Values away from the kink at 0.
  cases: [{ inputs: [{ shape: [2, 3], values: [-1.5, -0.7, -0.2, 0.3, 0.9, 1.4] }] }],
});

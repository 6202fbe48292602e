import { unaryOp } from './common.js';

export const Log = unaryOp({
  opType: 'Log',
  sinceVersion: 13,
  // dX = dY/X
  grad: ({ g, inputs: [x], dy: [d] }) => [d && x ? g.Div(d, x) : undefined],
  ref: Math.log,
  cases: [{ inputs: [{ shape: [2, 3], domain: [0.2, 3] }] }],
});

import { binaryOp, broadcastCases } from './common.js';

export const Sub = binaryOp({
  opType: 'Sub',
  sinceVersion: 14,
  // dA = dY, dB = −dY
  grad: ({ g, dy, needs }) => [needs[0] ? dy[0] : undefined, needs[1] && dy[0] ? g.Neg(dy[0]) : undefined],
  ref: (a, b) => a - b,
  cases: broadcastCases(),
});

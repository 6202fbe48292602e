import { binaryOp, broadcastCases } from './common.js';

export const Mul = binaryOp({
  opType: 'Mul',
  sinceVersion: 14,
  // dA = dY·B, dB = dY·A
  grad: ({ g, inputs: [a, b], dy: [d], needs }) => [
    needs[0] && d && b ? g.Mul(d, b) : undefined,
    needs[1] && d && a ? g.Mul(d, a) : undefined,
  ],
  ref: (a, b) => a * b,
  cases: broadcastCases(),
});

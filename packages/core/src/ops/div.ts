import { binaryOp, broadcastCases } from './common.js';

export const Div = binaryOp({
  opType: 'Div',
  sinceVersion: 14,
  // dA = dY/B, dB = −dY·A/B² = −dY·Y/B
  grad: ({ g, inputs: [, b], outputs: [y], dy: [d], needs }) => {
    if (!d || !b) return [];
    const dA = g.Div(d, b);
    return [needs[0] ? dA : undefined, needs[1] ? g.Neg(g.Mul(dA, y)) : undefined];
  },
  ref: (a, b) => a / b,
  cases: broadcastCases([-1, 1], [0.5, 2]),
});

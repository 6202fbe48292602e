import { binaryOp, broadcastCases } from './common.js';

export const Add = binaryOp({
  opType: 'Add',
  sinceVersion: 14,
  // dA = dY, dB = dY
  grad: ({ dy, needs }) => [needs[0] ? dy[0] : undefined, needs[1] ? dy[0] : undefined],
  ref: (a, b) => a + b,
  cases: broadcastCases(),
});

import { binaryOp } from './common.js';

export const GreaterOrEqual = binaryOp({
  opType: 'GreaterOrEqual',
  sinceVersion: 16,
  outDType: 'bool',
  // A comparison: its boolean output carries no gradient.
  grad: 'none',
  ref: (a, b) => (a >= b ? 1 : 0),
  cases: [
    {
      inputs: [
        { shape: [2, 3], values: [-1, 0, 1, 2, 3, 4] },
        { shape: [3], values: [0, 0, 3] },
      ],
    },
  ],
});

import { unaryOp } from './common.js';

export const Sign = unaryOp({
  opType: 'Sign',
  sinceVersion: 13,
  // Piecewise constant: its derivative is zero wherever it exists, so no gradient flows.
  grad: 'none',
  ref: Math.sign,
  cases: [{ inputs: [{ shape: [4], values: [-2, -0.5, 0, 3] }] }],
});

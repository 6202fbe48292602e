import { unaryOp } from './common.js';

export const Floor = unaryOp({
  opType: 'Floor',
  sinceVersion: 13,
  // Piecewise constant: no gradient flows.
  grad: 'none',
  ref: Math.floor,
  cases: [{ inputs: [{ shape: [4], values: [-2.5, -0.5, 0.2, 3.7] }] }],
});

import { expandTo, reduceOp } from './reduce.js';

export const ReduceSum = reduceOp({
  opType: 'ReduceSum',
  // dX = expand(dY)
  grad: ({ g, inputs: [x] }, dy) => expandTo(g, dy, x as NonNullable<typeof x>),
  ref: (xs) => xs.reduce((a, b) => a + b, 0),
});

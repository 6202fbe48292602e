import { unaryOp } from './common.js';

export const LeakyRelu = unaryOp({
  opType: 'LeakyRelu',
  sinceVersion: 16,
  attrs: { alpha: 'float' },
  // dX = dY·(X > 0 ? 1 : α)
  grad: ({ g, inputs: [x], dy: [d], attrs }) => [d && x ? g.Where(g.Greater(x, 0), d, g.Mul(d, attrs.float('alpha', 0.01))) : undefined],
  ref: (x, attr) => (x > 0 ? x : attr('alpha', 0.01) * x),
  cases: [
    { inputs: [{ shape: [2, 3], values: [-1.5, -0.7, -0.2, 0.3, 0.9, 1.4] }] },
    { name: 'alpha 0.2', attrs: { alpha: 0.2 }, inputs: [{ shape: [2, 3], values: [-1.5, -0.7, -0.2, 0.3, 0.9, 1.4] }] },
  ],
});

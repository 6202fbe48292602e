import { unaryOp } from './common.js';

export const Elu = unaryOp({
  opType: 'Elu',
  sinceVersion: 6,
  attrs: { alpha: 'float' },
  // dX = dY·(X > 0 ? 1 : Y + α)
  grad: ({ g, inputs: [x], outputs: [y], dy: [d], attrs }) => [
    d && x ? g.Where(g.Greater(x, 0), d, g.Mul(d, g.Add(y, attrs.float('alpha', 1)))) : undefined,
  ],
  ref: (x, attr) => (x > 0 ? x : attr('alpha', 1) * (Math.exp(x) - 1)),
  cases: [
    { inputs: [{ shape: [2, 3], values: [-1.5, -0.7, -0.2, 0.3, 0.9, 1.4] }] },
    { name: 'alpha 0.5', attrs: { alpha: 0.5 }, inputs: [{ shape: [2, 3], values: [-1.5, -0.7, -0.2, 0.3, 0.9, 1.4] }] },
  ],
});

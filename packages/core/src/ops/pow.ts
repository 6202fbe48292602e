import { binaryOp } from './common.js';

export const Pow = binaryOp({
  opType: 'Pow',
  sinceVersion: 15,
  // dA = dY·B·A^(B−1), dB = dY·Y·log A (A > 0)
  grad: ({ g, inputs: [a, b], outputs: [y], dy: [d], needs }) => {
    if (!d || !a || !b) return [];
    return [needs[0] ? g.Mul(d, g.Mul(b, g.Pow(a, g.Sub(b, 1)))) : undefined, needs[1] ? g.Mul(d, g.Mul(y, g.Log(a))) : undefined];
  },
  ref: (a, b) => a ** b,
  cases: [
    {
      name: 'same shape',
      inputs: [
        { shape: [2, 3], domain: [0.5, 2] },
        { shape: [2, 3], domain: [-2, 2] },
      ],
    },
    {
      name: 'scalar exponent',
      inputs: [
        { shape: [3, 4], domain: [0.5, 2] },
        { shape: [], values: [3] },
      ],
    },
    {
      name: 'broadcast',
      inputs: [
        { shape: [3, 1], domain: [0.5, 2] },
        { shape: [1, 4], domain: [-1, 1] },
      ],
    },
  ],
});

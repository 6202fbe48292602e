import { expandTo, reduceOp } from './reduce.js';

export const ReduceMean = reduceOp({
  opType: 'ReduceMean',
  // dX = expand(dY)/N, N = number of elements reduced into each output
  grad: ({ g, inputs: [x] }, dy, axes) => {
    const xv = x as NonNullable<typeof x>;
    const dims = axes.map((a) => xv.shape[a]);
    const n = dims.every((d) => typeof d === 'number')
      ? g.scalar(
          (dims as number[]).reduce((a, b) => a * b, 1),
          xv.dtype,
        )
      : g.Div(g.Cast(g.Size(xv), xv.dtype), g.Cast(g.Size(dy), xv.dtype));
    return g.Div(expandTo(g, dy, xv), n);
  },
  ref: (xs) => xs.reduce((a, b) => a + b, 0) / xs.length,
});

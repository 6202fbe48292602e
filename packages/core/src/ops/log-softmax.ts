import type { Op } from '../ir/op-schema.js';
import {
  alongAxis,
  inferSoftmax,
  logSoftmaxRef,
  type SoftmaxBuild,
  softmaxAttrs,
  softmaxAxis,
  softmaxBuild,
  softmaxCases,
} from './softmax.js';

export const LogSoftmax: Op<SoftmaxBuild> = {
  opType: 'LogSoftmax',
  sinceVersion: 13,
  inputs: [1, 1],
  attrs: softmaxAttrs,
  build: softmaxBuild('LogSoftmax'),
  infer: inferSoftmax,
  // dX = dY − softmax(X)·Σ_axis dY, with softmax(X) = exp(Y)
  grad: ({ g, outputs: [y], dy: [d], attrs }) => {
    if (!d) return [];
    const axis = softmaxAxis(attrs, y.rank);
    return [g.Sub(d, g.Mul(g.Exp(y), g.ReduceSum(d, [axis], true)))];
  },
  reference: ([x], attrs) => [alongAxis(x, softmaxAxis(attrs, x.shape.length), logSoftmaxRef)],
  cases: softmaxCases,
};

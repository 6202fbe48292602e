import type { Attrs, Graph, InferContext, OutType, Value } from '../ir/graph.js';
import type { Op, OpCase } from '../ir/op-schema.js';
import { normAxis } from '../ir/shape.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { need, requireFloat, strides } from './common.js';

/** The Softmax family's attribute schema (opset 13): one axis, default -1. */
export const softmaxAttrs = { axis: { type: 'int', default: -1 } } as const;

/** g.Softmax(x, axis?) and g.LogSoftmax(x, axis?): axis defaults to the schema's -1. */
export type SoftmaxBuild = (g: Graph, x: Value, axis?: number) => Value;

export function softmaxBuild(opType: 'Softmax' | 'LogSoftmax'): SoftmaxBuild {
  return (g, x, axis) => g.op1(opType, [x], { axis });
}

/** Softmax-family shape rule: output of the input's shape. */
export function inferSoftmax(ctx: InferContext): OutType[] {
  const x = need(ctx, 0);
  requireFloat(x);
  normAxis(ctx.attrs.int('axis'), x.rank);
  return [{ dtype: x.dtype, shape: x.shape }];
}

/** The axis a node normalizes over, as a non-negative index. */
export function softmaxAxis(attrs: Attrs, rank: number): number {
  return normAxis(attrs.int('axis'), rank);
}

/** Applies f to every 1-D fibre of x along the axis (the float64 references). */
export function alongAxis(x: TensorData, axis: number, f: (xs: number[]) => number[]): TensorData {
  const rank = x.shape.length;
  const a = axis < 0 ? axis + rank : axis;
  const n = x.shape[a];
  const st = strides(x.shape)[a];
  const out = new Float64Array(x.data.length);
  for (let base = 0; base < x.data.length; base++) {
    // A fibre starts at each index whose coordinate along the axis is 0.
    if (Math.floor(base / st) % n !== 0) continue;
    const xs = Array.from({ length: n }, (_, i) => Number(x.data[base + i * st]));
    f(xs).forEach((v, i) => {
      out[base + i * st] = v;
    });
  }
  return tensorData('float64', x.shape, out);
}

export function logSoftmaxRef(xs: number[]): number[] {
  const m = Math.max(...xs);
  const lse = m + Math.log(xs.reduce((s, v) => s + Math.exp(v - m), 0));
  return xs.map((v) => v - lse);
}

export const softmaxCases: OpCase[] = [
  { name: 'default axis (-1)', inputs: [{ shape: [2, 3, 4], domain: [-2, 2] }] },
  { name: 'axis 1', attrs: { axis: 1 }, inputs: [{ shape: [2, 3, 4], domain: [-2, 2] }] },
  { name: 'axis 0', attrs: { axis: 0 }, inputs: [{ shape: [3, 4], domain: [-2, 2] }] },
  { name: 'axis -2', attrs: { axis: -2 }, inputs: [{ shape: [2, 3, 2], domain: [-2, 2] }] },
  { name: '1-D', inputs: [{ shape: [5], domain: [-3, 3] }] },
];

export const Softmax: Op<SoftmaxBuild> = {
  opType: 'Softmax',
  sinceVersion: 13,
  inputs: [1, 1],
  attrs: softmaxAttrs,
  build: softmaxBuild('Softmax'),
  infer: inferSoftmax,
  // dX = Y·(dY − Σ_axis dY·Y)
  grad: ({ g, outputs: [y], dy: [d], attrs }) => {
    if (!d) return [];
    const axis = softmaxAxis(attrs, y.rank);
    return [g.Mul(y, g.Sub(d, g.ReduceSum(g.Mul(d, y), [axis], true)))];
  },
  reference: ([x], attrs) => [alongAxis(x, softmaxAxis(attrs, x.shape.length), (xs) => logSoftmaxRef(xs).map(Math.exp))],
  cases: softmaxCases,
};

/** Shared shape rule, reference and gradient plumbing for the Reduce* ops (opset 18: axes is an input). */
import type { Graph, Value } from '../ir/graph.js';
import type { GradContext, Op, OpCase } from '../ir/op-schema.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { need, reduceAxes, requireFloat, strides } from './common.js';

export interface ReduceSpec {
  opType: string;
  /** Gradient given dY with the reduced axes kept (size 1), so it broadcasts against X. */
  grad: (ctx: GradContext, dyKeep: Value, axes: number[]) => Value;
  /** Reference over the elements of one reduction group. */
  ref: (xs: number[]) => number;
  cases?: OpCase[];
}

/** dY with the reduced axes re-inserted as size-1 dims. */
function keepDims(g: Graph, dy: Value, axes: number[], keepdims: boolean): Value {
  return keepdims ? dy : g.Unsqueeze(dy, axes);
}

/**
 * g.ReduceSum(x, axes?, keepdims?): all axes when none are given. keepdims defaults to false here (numpy's
 * default), not to ONNX's 1, so the builder always writes it.
 */
export type ReduceBuild = (g: Graph, x: Value, axes?: readonly number[], keepdims?: boolean) => Value;

function reduceBuild(opType: string): ReduceBuild {
  return (g, x, axes, keepdims = false) => g.op1(opType, [x, axes ? g.ints(axes) : undefined], { keepdims: keepdims ? 1 : 0 });
}

export function reduceOp(spec: ReduceSpec): Op<ReduceBuild> {
  return {
    opType: spec.opType,
    sinceVersion: 18,
    inputs: [1, 2],
    attrs: { keepdims: { type: 'int', default: 1 }, noop_with_empty_axes: { type: 'int', default: 0 } },
    differentiable: [0],
    infer(ctx) {
      const x = need(ctx, 0);
      requireFloat(x);
      const axes = reduceAxes(x, ctx.inputs[1]);
      const keep = ctx.attrs.int('keepdims') === 1;
      const shape = x.shape.flatMap((d, i) => (axes.includes(i) ? (keep ? [1] : []) : [d]));
      return [{ dtype: x.dtype, shape }];
    },
    grad: (ctx) => {
      const [x, axesIn] = ctx.inputs;
      const d = ctx.dy[0];
      if (!x || !d) return [];
      const axes = reduceAxes(x, axesIn);
      const dk = keepDims(ctx.g, d, axes, ctx.attrs.int('keepdims') === 1);
      return [spec.grad(ctx, dk, axes)];
    },
    reference: (ins, attrs) => [reduceRef(ins[0], ins[1], attrs.int('keepdims') === 1, spec.ref)],
    build: reduceBuild(spec.opType),
    cases: spec.cases ?? [
      { name: 'axis 1', inputs: [{ shape: [2, 3, 2] }, { shape: [1], dtype: 'int64', values: [1], constant: true }] },
      { name: 'axes 0,2 keepdims', inputs: [{ shape: [2, 3, 2] }, { shape: [2], dtype: 'int64', values: [0, -1], constant: true }] },
      { name: 'all axes, no keepdims', attrs: { keepdims: 0 }, inputs: [{ shape: [3, 4] }] },
      {
        name: 'last axis, no keepdims',
        attrs: { keepdims: 0 },
        inputs: [{ shape: [3, 4] }, { shape: [1], dtype: 'int64', values: [-1], constant: true }],
      },
    ],
  };
}

function reduceRef(x: TensorData, axesT: TensorData | undefined, keep: boolean, f: (xs: number[]) => number): TensorData {
  const rank = x.shape.length;
  let axes = axesT ? Array.from(axesT.data as BigInt64Array, (v) => ((Number(v) % rank) + rank) % rank) : [];
  if (axes.length === 0) axes = x.shape.map((_, i) => i);
  const outShapeKeep = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const nOut = outShapeKeep.reduce((a, b) => a * b, 1);
  const groups: number[][] = Array.from({ length: nOut }, () => []);
  const xs = strides(x.shape);
  const os = strides(outShapeKeep);
  for (let i = 0; i < x.data.length; i++) {
    let rem = i;
    let o = 0;
    for (let d = 0; d < rank; d++) {
      const c = Math.floor(rem / xs[d]);
      rem -= c * xs[d];
      if (!axes.includes(d)) o += c * os[d];
    }
    groups[o].push(Number(x.data[i]));
  }
  const out = groups.map(f);
  const shape = keep ? outShapeKeep : x.shape.filter((_, i) => !axes.includes(i));
  return tensorData('float64', shape, out);
}

/** Broadcasts v (reduced dims of size 1) up to x's shape, symbolic dims included. */
export function expandTo(g: Graph, v: Value, x: Value): Value {
  return g.Expand(v, g.Shape(x));
}

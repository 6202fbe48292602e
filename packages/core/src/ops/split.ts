import { freshDim, type Graph, type Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import { type Dim, formatShape, normAxis, ShapeError } from '../ir/shape.js';
import { tensorData } from '../ir/tensor.js';
import { asShapeOf, need, ravel, shapeDims, unravel, zerosLike } from './common.js';

/** Sizes of num_outputs near-equal parts of d (opset 18): ceil(d/n) each, the last one smaller if need be. */
export function evenSplit(d: number, n: number): number[] {
  const c = Math.ceil(d / n);
  return Array.from({ length: n }, (_, i) => Math.max(0, Math.min(c, d - i * c)));
}

/** The parts' sizes along the axis: from the split input, or num_outputs near-equal parts. */
function partSizes(x: Value, axis: number, split: Value | undefined, numOutputs: number | undefined, requested: number | undefined): Dim[] {
  const d = x.shape[axis];
  if (split) {
    if (numOutputs !== undefined) throw new ShapeError('give either the split input or the num_outputs attribute, not both');
    if (split.rank !== 1 || split.dtype !== 'int64') throw new ShapeError(`split '${split.name}' must be a 1-D int64 tensor, got ${split}`);
    const sizes =
      split.dims || split.constValue
        ? (shapeDims(split, 'split') as Dim[])
        : Array.from({ length: Number(split.shape[0]) }, () => freshDim('split'));
    if (sizes.some((s) => typeof s === 'number' && s < 0)) throw new ShapeError(`split sizes ${formatShape(sizes)} must not be negative`);
    const total = sizes.every((s) => typeof s === 'number') ? (sizes as number[]).reduce((a, b) => a + b, 0) : undefined;
    if (typeof d === 'number' && total !== undefined && total !== d) {
      throw new ShapeError(`split sizes ${formatShape(sizes)} add up to ${total}, but axis ${axis} of ${formatShape(x.shape)} has ${d}`);
    }
    return sizes;
  }
  if (numOutputs === undefined) throw new ShapeError('Split (opset 18) needs the split input or the num_outputs attribute');
  if (numOutputs < 1) throw new ShapeError(`num_outputs must be at least 1, got ${numOutputs}`);
  if (requested !== undefined && requested !== numOutputs)
    throw new ShapeError(`num_outputs is ${numOutputs} but ${requested} outputs were asked for`);
  if (typeof d !== 'number') return Array.from({ length: numOutputs }, () => freshDim('split'));
  if (numOutputs > d) throw new ShapeError(`cannot split axis ${axis} of size ${d} into ${numOutputs} parts`);
  return evenSplit(d, numOutputs);
}

/** g.Split(x, axis, sizes): one output per part, of the given sizes along the axis. */
function split(g: Graph, x: Value, axis: number, sizes: readonly number[]): Value[] {
  return g.op('Split', [x, g.ints(sizes)], { axis }, { outputs: sizes.length });
}

export const Split: Op<typeof split> = {
  opType: 'Split',
  sinceVersion: 18,
  inputs: [1, 2],
  attrs: { axis: { type: 'int', default: 0 }, num_outputs: 'int' },
  build: split,
  differentiable: [0],
  infer(ctx) {
    const x = need(ctx, 0);
    const axis = normAxis(ctx.attrs.int('axis'), x.rank);
    const numOutputs = ctx.attrs.has('num_outputs') ? ctx.attrs.int('num_outputs') : undefined;
    const sizes = partSizes(x, axis, ctx.inputs[1], numOutputs, ctx.numOutputs);
    if (ctx.numOutputs !== undefined && ctx.numOutputs !== sizes.length) {
      throw new ShapeError(`split has ${sizes.length} parts but ${ctx.numOutputs} outputs were asked for`);
    }
    return sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? s : d)) }));
  },
  // dX = Concat(dY₀, dY₁, …) along the axis, with zeros for the parts no gradient reaches
  grad: ({ g, inputs: [x], outputs, dy, attrs }) => {
    if (!x || dy.every((d) => d === undefined)) return [];
    const axis = normAxis(attrs.int('axis'), x.rank);
    const parts = outputs.map((y, i) => dy[i] ?? zerosLike(g, y));
    return [asShapeOf(g, parts.length === 1 ? parts[0] : g.Concat(parts, axis), x)];
  },
  reference: ([x, split], attrs) => {
    const rank = x.shape.length;
    const axis = normAxis(attrs.int('axis'), rank);
    const sizes = split ? Array.from(split.data as BigInt64Array, Number) : evenSplit(x.shape[axis], attrs.int('num_outputs'));
    let off = 0;
    return sizes.map((s) => {
      const shape = x.shape.map((d, i) => (i === axis ? s : d));
      const n = shape.reduce((p, q) => p * q, 1);
      const out = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const xi = unravel(k, shape);
        xi[axis] += off;
        out[k] = Number(x.data[ravel(xi, x.shape)]);
      }
      off += s;
      return tensorData('float64', shape, out);
    });
  },
  cases: [
    {
      name: 'split input, axis 1',
      attrs: { axis: 1 },
      outputs: 3,
      inputs: [{ shape: [2, 6] }, { shape: [3], dtype: 'int64', values: [2, 1, 3], constant: true }],
    },
    {
      name: 'split input, axis 0 default',
      outputs: 2,
      inputs: [{ shape: [5, 2] }, { shape: [2], dtype: 'int64', values: [4, 1], constant: true }],
    },
    { name: 'num_outputs even', attrs: { num_outputs: 3 }, outputs: 3, inputs: [{ shape: [6, 2] }] },
    { name: 'num_outputs uneven (7 → 3, 3, 1)', attrs: { axis: -1, num_outputs: 3 }, outputs: 3, inputs: [{ shape: [2, 7] }] },
    { name: 'num_outputs 1', attrs: { num_outputs: 1, axis: 1 }, outputs: 1, inputs: [{ shape: [2, 3] }] },
    {
      name: 'zero-size part',
      attrs: { axis: 1 },
      outputs: 3,
      inputs: [{ shape: [2, 4] }, { shape: [3], dtype: 'int64', values: [1, 0, 3], constant: true }],
    },
  ],
};

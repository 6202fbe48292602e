import type { Graph, OutType, Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import { type Dim, formatShape, isStatic, normAxis, ShapeError } from '../ir/shape.js';
import { tensorData } from '../ir/tensor.js';
import { asShapeOf, need, ravel, sameDType, sumDims, unifyDim, unravel } from './common.js';

/** The dims a 1-D int64 shape vector holds (Shape's output, a constant), for shape arithmetic in Concat/Gather. */
export function heldDims(v: Value): Dim[] | undefined {
  if (v.dims) return v.dims;
  if (v.constValue && v.rank === 1 && v.dtype === 'int64') return Array.from(v.constValue.data as BigInt64Array, Number);
  return undefined;
}

/** An int64 shape vector's output type, with its dims (and its value, when all are static). */
export function dimsOut(dims: Dim[]): OutType {
  const out: OutType = { dtype: 'int64', shape: [dims.length], dims };
  if (isStatic(dims)) out.constValue = tensorData('int64', [dims.length], dims.map(BigInt));
  return out;
}

/** g.Concat([a, b], axis): ONNX requires the axis. */
function concat(g: Graph, xs: readonly Value[], axis: number): Value {
  return g.op1('Concat', xs, { axis });
}

export const Concat: Op<typeof concat> = {
  opType: 'Concat',
  sinceVersion: 13,
  inputs: [1, Number.POSITIVE_INFINITY],
  attrs: { axis: 'int' },
  build: concat,
  infer(ctx) {
    const xs = ctx.inputs.map((_, i) => need(ctx, i));
    const dtype = sameDType(xs);
    const rank = xs[0].rank;
    const all = xs.map((x) => formatShape(x.shape)).join(', ');
    if (xs.some((x) => x.rank !== rank)) throw new ShapeError(`inputs must share one rank, got ${all}`);
    if (rank === 0) throw new ShapeError(`cannot concatenate scalars (${all}); Unsqueeze them to 1-D first`);
    const axis = normAxis(ctx.attrs.int('axis'), rank);
    const shape = xs[0].shape.map((_, i) =>
      i === axis
        ? sumDims(xs.map((x) => x.shape[i]))
        : xs
            .map((x) => x.shape[i])
            .reduce((p, q) => unifyDim(p, q, () => `dim ${i} differs (${p} vs ${q}) among ${all}; only axis ${axis} may differ`)),
    );
    const out: OutType = { dtype, shape };
    // Shape arithmetic: concatenating shape vectors concatenates the dims they hold.
    const held = rank === 1 && dtype === 'int64' ? xs.map(heldDims) : [];
    if (held.length && held.every((h) => h !== undefined)) return [dimsOut(held.flat() as Dim[])];
    return [out];
  },
  // dXᵢ = dY[..., offᵢ : offᵢ + sizeᵢ, ...]: a Split of dY with the inputs' sizes along the axis
  grad: ({ g, inputs, dy: [d], needs, attrs }) => {
    if (!d) return [];
    const xs = inputs as Value[];
    const axis = normAxis(attrs.int('axis'), xs[0].rank);
    const sizes = xs.map((x) => x.shape[axis]);
    const split = isStatic(sizes)
      ? g.ints(sizes)
      : g.Concat(
          xs.map((x) => g.op1('Shape', [x], { start: axis, end: axis + 1 })),
          0,
        );
    const parts = g.op('Split', [d, split], { axis }, { outputs: xs.length });
    return xs.map((x, i) => (needs[i] ? asShapeOf(g, parts[i], x) : undefined));
  },
  reference: (ins, attrs) => {
    const rank = ins[0].shape.length;
    const axis = normAxis(attrs.int('axis'), rank);
    const shape = [...ins[0].shape];
    shape[axis] = ins.reduce((s, t) => s + t.shape[axis], 0);
    const out = new Float64Array(shape.reduce((p, q) => p * q, 1));
    let off = 0;
    for (const t of ins) {
      for (let i = 0; i < t.data.length; i++) {
        const idx = unravel(i, t.shape);
        idx[axis] += off;
        out[ravel(idx, shape)] = Number(t.data[i]);
      }
      off += t.shape[axis];
    }
    return [tensorData('float64', shape, out)];
  },
  cases: [
    { name: 'axis 0', attrs: { axis: 0 }, inputs: [{ shape: [2, 3] }, { shape: [1, 3] }] },
    { name: 'axis 1, three inputs', attrs: { axis: 1 }, inputs: [{ shape: [2, 1] }, { shape: [2, 3] }, { shape: [2, 2] }] },
    { name: 'axis -1', attrs: { axis: -1 }, inputs: [{ shape: [2, 2, 2] }, { shape: [2, 2, 3] }] },
    { name: 'axis 1 of 3-D', attrs: { axis: 1 }, inputs: [{ shape: [2, 1, 2] }, { shape: [2, 3, 2] }] },
    { name: '1-D', attrs: { axis: 0 }, inputs: [{ shape: [3] }, { shape: [4] }] },
    { name: 'single input', attrs: { axis: 0 }, inputs: [{ shape: [2, 3] }] },
  ],
};

import type { Graph, OutType, Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import { type Dim, dimProduct, formatShape, isStatic, normAxis, ShapeError } from '../ir/shape.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { need, ravel, shapeOf, shapeValue, unravel } from './common.js';
import { dimsOut, heldDims } from './concat.js';

export function requireIndices(v: Value): void {
  if (v.dtype !== 'int64' && v.dtype !== 'int32') throw new ShapeError(`indices '${v.name}' must be int64 or int32, got ${v.dtype}`);
}

/** Checks constant indices against the axis size, when both are known: [-s, s-1] is valid. */
export function checkIndexRange(indices: Value, size: Dim, what: string): void {
  if (!indices.constValue || typeof size !== 'number') return;
  for (const i of Array.from(indices.constValue.data as ArrayLike<number | bigint>, Number)) {
    if (i < -size || i >= size) throw new ShapeError(`index ${i} in '${indices.name}' is out of range [${-size}, ${size - 1}] for ${what}`);
  }
}

/**
 * The gradient of Gather(data, indices, axis) for data of shape `dataShape`: dY scattered back, with duplicates
 * added, by ScatterElements(zeros, indices broadcast over the other axes, dY flattened along the indices' dims,
 * reduction 'add'). Symbolic dims are read at run time from `from`.
 */
export function gatherGrad(g: Graph, dy: Value, indices: Value, axis: number, dataShape: readonly Dim[], from: readonly Value[]): Value {
  const r = dataShape.length;
  const q = indices.rank;
  // dY is data[:axis] + indices.shape + data[axis+1:]; make the indices' dims one: data[:axis] + [N] + data[axis+1:].
  const n = dimProduct(indices.shape);
  let dyr = dy;
  if (q === 0) dyr = g.Unsqueeze(dy, [axis]);
  else if (q > 1) {
    const dims = [...dataShape.slice(0, axis), typeof n === 'number' ? n : -1, ...dataShape.slice(axis + 1)];
    dyr = g.Reshape(dy, shapeValue(g, dims, [...from, dy]));
  }
  const idx = g.Reshape(indices, [...new Array<number>(axis).fill(1), -1, ...new Array<number>(r - axis - 1).fill(1)]);
  const idxFull = g.Expand(idx, shapeOf(g, dyr));
  const zeros = isStatic(dataShape)
    ? g.Constant(tensorData(dy.dtype, dataShape), 'zeros')
    : g.ConstantOfShape(shapeValue(g, dataShape, from), tensorData(dy.dtype, [1]));
  return g.op1('ScatterElements', [zeros, idxFull, dyr], { axis, reduction: 'add' });
}

/** g.Gather(x, indices, axis?): axis defaults to the schema's 0. */
function gather(g: Graph, x: Value, indices: Value, axis?: number): Value {
  return g.op1('Gather', [x, indices], { axis });
}

export const Gather: Op<typeof gather> = {
  opType: 'Gather',
  sinceVersion: 13,
  inputs: [2, 2],
  attrs: { axis: { type: 'int', default: 0 } },
  build: gather,
  differentiable: [0],
  infer(ctx) {
    const x = need(ctx, 0);
    const ind = need(ctx, 1);
    requireIndices(ind);
    if (x.rank === 0) throw new ShapeError(`cannot gather from the scalar '${x.name}'`);
    const axis = normAxis(ctx.attrs.int('axis'), x.rank);
    checkIndexRange(ind, x.shape[axis], `axis ${axis} of ${formatShape(x.shape)}`);
    const shape = [...x.shape.slice(0, axis), ...ind.shape, ...x.shape.slice(axis + 1)];
    // Shape arithmetic: picking entries of a shape vector picks the dims it holds.
    const held = x.rank === 1 && x.dtype === 'int64' ? heldDims(x) : undefined;
    if (held && ind.constValue) {
      const picked = Array.from(ind.constValue.data as ArrayLike<number | bigint>, (e) => held[(Number(e) + held.length) % held.length]);
      if (ind.rank === 1) return [dimsOut(picked)];
      if (ind.rank === 0 && typeof picked[0] === 'number')
        return [{ dtype: 'int64', shape: [], dims: picked, constValue: tensorData('int64', [], [BigInt(picked[0])]) }];
      // A symbolic dim picked as a scalar (PyTorch's Gather(Shape(x), 0)) is held as dims of length 1, so Unsqueeze
      // and Concat can rebuild a shape vector from it.
      if (ind.rank === 0) return [{ dtype: 'int64', shape: [], dims: picked }];
    }
    return [{ dtype: x.dtype, shape } satisfies OutType];
  },
  // dX = ScatterElements-add of dY at the gathered positions (repeated indices add up); indices get no gradient
  grad: ({ g, inputs: [x, ind], dy: [d], attrs }) => {
    if (!x || !ind || !d) return [];
    const axis = normAxis(attrs.int('axis'), x.rank);
    return [gatherGrad(g, d, ind, axis, x.shape, [x])];
  },
  reference: ([x, ind], attrs) => [gatherRef(x, ind, normAxis(attrs.int('axis'), x.shape.length))],
  cases: [
    { name: 'axis 0', inputs: [{ shape: [4, 3] }, { shape: [2], dtype: 'int64', values: [3, 1] }] },
    { name: 'negative and repeated indices', inputs: [{ shape: [4, 3] }, { shape: [4], dtype: 'int64', values: [-1, 0, 3, -4] }] },
    {
      name: 'axis 1, 2-D indices',
      attrs: { axis: 1 },
      inputs: [{ shape: [2, 4, 2] }, { shape: [2, 2], dtype: 'int64', values: [0, 3, 3, -2] }],
    },
    { name: 'axis -1', attrs: { axis: -1 }, inputs: [{ shape: [2, 3] }, { shape: [3], dtype: 'int64', values: [2, 2, 0] }] },
    { name: 'scalar index', attrs: { axis: 1 }, inputs: [{ shape: [3, 4] }, { shape: [], dtype: 'int64', values: [-3] }] },
    { name: 'int32 indices', inputs: [{ shape: [3, 2] }, { shape: [2], dtype: 'int32', values: [2, 0] }] },
    { name: 'constant indices', inputs: [{ shape: [5] }, { shape: [3], dtype: 'int64', values: [4, 0, 4], constant: true }] },
  ],
};

function gatherRef(x: TensorData, ind: TensorData, axis: number): TensorData {
  const size = x.shape[axis];
  const shape = [...x.shape.slice(0, axis), ...ind.shape, ...x.shape.slice(axis + 1)];
  const n = shape.reduce((p, q) => p * q, 1);
  const out = new Float64Array(n);
  const q = ind.shape.length;
  for (let i = 0; i < n; i++) {
    const yi = unravel(i, shape);
    const k = Number(ind.data[ravel(yi.slice(axis, axis + q), ind.shape)]);
    const xi = [...yi.slice(0, axis), k < 0 ? k + size : k, ...yi.slice(axis + q)];
    out[i] = Number(x.data[ravel(xi, x.shape)]);
  }
  return tensorData('float64', shape, out);
}

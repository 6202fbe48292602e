import type { Value } from '../ir/graph.js';
import type { OpDef } from '../ir/op-schema.js';
import { type Dim, formatShape, normAxis, ShapeError } from '../ir/shape.js';
import { tensorData } from '../ir/tensor.js';
import { addDim, asShapeOf, constInts, need, ravel, unravel } from './common.js';
import { gatherGrad } from './gather.js';

const MODES = ['constant', 'reflect', 'edge'];

/** Per-axis [begin, end] pads of a Pad node, all axes listed (0 where the axes input leaves one out). */
function padsPerAxis(x: Value | { rank: number }, padsIn: Value | undefined, axesIn: Value | undefined): [number, number][] {
  const pads = constInts(padsIn, 'pads') ?? [];
  const axes = (constInts(axesIn, 'axes') ?? Array.from({ length: x.rank }, (_, i) => i)).map((a) => normAxis(a, x.rank, 'pad axis'));
  if (pads.length !== 2 * axes.length) {
    throw new ShapeError(`pads has ${pads.length} values; it needs 2 per padded axis (${2 * axes.length}), begins first then ends`);
  }
  if (new Set(axes).size !== axes.length) throw new ShapeError(`axes ${formatShape(axes)} repeat an axis`);
  const out: [number, number][] = Array.from({ length: x.rank }, () => [0, 0]);
  axes.forEach((a, i) => {
    out[a] = [pads[i], pads[i + axes.length]];
  });
  return out;
}

/** The input index that output index j reads along an axis of size d padded by `begin` in `mode`; -1 for the constant. */
export function padSource(j: number, d: number, begin: number, mode: string): number {
  const i = j - begin;
  if (i >= 0 && i < d) return i;
  if (mode === 'edge') return Math.min(d - 1, Math.max(0, i));
  if (mode === 'reflect') {
    // Mirror about the edge elements (which are not repeated): period 2(d − 1).
    if (d === 1) return 0;
    const p = 2 * (d - 1);
    const m = ((i % p) + p) % p;
    return m < d ? m : p - m;
  }
  return -1;
}

export const Pad: OpDef = {
  opType: 'Pad',
  sinceVersion: 18,
  inputs: [2, 4],
  attrs: { mode: { type: 'string', default: 'constant' } },
  differentiable: [0, 2],
  infer(ctx) {
    const x = need(ctx, 0);
    const c = ctx.inputs[2];
    const mode = ctx.attrs.string('mode');
    if (!MODES.includes(mode)) throw new ShapeError(`mode '${mode}' is not one of ${MODES.join(', ')} (opset 18)`);
    if (c && (c.dtype !== x.dtype || c.shape.length > 1 || (c.rank === 1 && c.shape[0] !== 1))) {
      throw new ShapeError(`constant_value '${c.name}' must be a ${x.dtype} scalar, got ${c.dtype}${formatShape(c.shape)}`);
    }
    const pads = padsPerAxis(x, need(ctx, 1), ctx.inputs[3]);
    const shape: Dim[] = x.shape.map((d, i) => {
      const [b, e] = pads[i];
      const out = addDim(d, b + e);
      if (typeof out === 'number' && out < 0) throw new ShapeError(`pads [${b}, ${e}] crop axis ${i} of size ${d} below zero`);
      if (mode === 'reflect' && typeof d === 'number' && (b >= d || e >= d)) {
        throw new ShapeError(`reflect pads [${b}, ${e}] must be smaller than axis ${i}'s size ${d}`);
      }
      if (mode !== 'constant' && d === 0 && b + e > 0) throw new ShapeError(`cannot ${mode}-pad the empty axis ${i}`);
      return out;
    });
    return [{ dtype: x.dtype, shape }];
  },
  // constant: dX = Pad(dY, −pads) (padding's adjoint is cropping and vice versa), dc = Σ dY − Σ dX;
  // edge/reflect: per padded axis the forward is a Gather with a fixed index map, so dX scatters dY back through it
  grad: ({ g, inputs: [x, padsIn, c, axesIn], dy: [d], needs, attrs }) => {
    if (!x || !d) return [];
    const mode = attrs.string('mode');
    const pads = padsPerAxis(x, padsIn, axesIn);
    if (mode === 'constant') {
      const neg = [...pads.map(([b]) => -b), ...pads.map(([, e]) => -e)];
      const dx = g.op1('Pad', [d, g.ints(neg)]);
      const dc = needs[2] && c ? asShapeOf(g, g.Sub(g.ReduceSum(d), g.ReduceSum(dx)), c) : undefined;
      return [needs[0] ? dx : undefined, undefined, dc];
    }
    let cur = d;
    const shape = [...d.shape];
    pads.forEach(([b, e], axis) => {
      if (b === 0 && e === 0) return;
      const size = x.shape[axis];
      if (typeof size !== 'number') throw new Error(`Pad (${mode}) gradient needs a static size on padded axis ${axis} of ${x}`);
      const idx = Array.from({ length: size + b + e }, (_, j) => padSource(j, size, b, mode));
      shape[axis] = size;
      cur = gatherGrad(g, cur, g.ints(idx), axis, shape, [x, d]);
    });
    return [asShapeOf(g, cur, x)];
  },
  reference: ([x, padsT, c, axesT], attrs) => {
    const mode = attrs.string('mode');
    const rank = x.shape.length;
    const toNums = (t: typeof x | undefined) => (t ? Array.from(t.data as BigInt64Array, Number) : undefined);
    const pads = toNums(padsT) ?? [];
    const axes = (toNums(axesT) ?? Array.from({ length: rank }, (_, i) => i)).map((a) => (a < 0 ? a + rank : a));
    const begin = new Array<number>(rank).fill(0);
    const end = new Array<number>(rank).fill(0);
    axes.forEach((a, i) => {
      begin[a] = pads[i];
      end[a] = pads[i + axes.length];
    });
    const shape = x.shape.map((s, i) => s + begin[i] + end[i]);
    const cv = c ? Number(c.data[0]) : 0;
    const out = new Float64Array(shape.reduce((p, q) => p * q, 1));
    for (let k = 0; k < out.length; k++) {
      const src = unravel(k, shape).map((j, i) => padSource(j, x.shape[i], begin[i], mode));
      out[k] = src.includes(-1) ? cv : Number(x.data[ravel(src, x.shape)]);
    }
    return [tensorData('float64', shape, out)];
  },
  cases: [
    { name: 'constant, zeros', inputs: [{ shape: [2, 3] }, { shape: [4], dtype: 'int64', values: [1, 0, 0, 2], constant: true }] },
    {
      name: 'constant value (differentiable)',
      inputs: [{ shape: [2, 3] }, { shape: [4], dtype: 'int64', values: [0, 1, 2, 1], constant: true }, { shape: [] }],
    },
    {
      name: 'negative pads crop',
      inputs: [{ shape: [3, 4] }, { shape: [4], dtype: 'int64', values: [-1, 1, 1, -2], constant: true }, { shape: [] }],
    },
    {
      name: 'axes input (negative axis)',
      inputs: [
        { shape: [2, 2, 3] },
        { shape: [2], dtype: 'int64', values: [2, 1], constant: true },
        { shape: [], values: [0.25] },
        { shape: [1], dtype: 'int64', values: [-1], constant: true },
      ],
    },
    {
      name: 'edge',
      attrs: { mode: 'edge' },
      inputs: [{ shape: [2, 3] }, { shape: [4], dtype: 'int64', values: [1, 2, 2, 1], constant: true }],
    },
    {
      name: 'reflect',
      attrs: { mode: 'reflect' },
      inputs: [{ shape: [3, 3] }, { shape: [4], dtype: 'int64', values: [2, 1, 1, 2], constant: true }],
    },
    {
      name: 'reflect with a crop',
      attrs: { mode: 'reflect' },
      inputs: [{ shape: [2, 4] }, { shape: [4], dtype: 'int64', values: [1, -1, 1, 2], constant: true }],
    },
  ],
};

import { type Graph, Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import { type Dim, formatShape, freshDim, ShapeError } from '../ir/shape.js';
import { tensorData } from '../ir/tensor.js';
import { need, shapeDims } from './common.js';

/**
 * Splits dims into their static product and the list of symbolic factors. A symbolic dim may itself be a product
 * written as '2*batch' (what a reshape of [2, batch] to [-1] yields), so reshaping back recovers 'batch'.
 */
function factor(dims: readonly Dim[]): { n: number; syms: string[] } {
  let n = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') n *= d;
    else
      for (const part of d.split('*')) {
        if (/^\d+$/.test(part)) n *= Number(part);
        else syms.push(part);
      }
  }
  return { n, syms };
}

/** The canonical name of a product of a number and symbolic factors. */
function productDim(n: number, syms: string[]): Dim {
  if (syms.length === 0) return n;
  const s = [...syms].sort().join('*');
  return n === 1 ? s : `${n}*${s}`;
}

export function reshapeDims(input: readonly Dim[], target: readonly Dim[], allowzero = false): Dim[] {
  const out = target.map((d, i) => (d === 0 && !allowzero ? input[i] : d));
  if (out.some((d) => d === undefined))
    throw new ShapeError(`a 0 in shape ${formatShape(target)} copies a dim the input ${formatShape(input)} lacks`);
  const inferIdx = out.indexOf(-1);
  if (out.lastIndexOf(-1) !== inferIdx) throw new ShapeError(`shape ${formatShape(target)} has more than one -1`);
  const fi = factor(input);
  const known = factor(out.filter((_, i) => i !== inferIdx));
  const remaining = [...fi.syms];
  let symsOk = true;
  for (const s of known.syms) {
    const k = remaining.indexOf(s);
    if (k < 0) symsOk = false;
    else remaining.splice(k, 1);
  }
  if (inferIdx >= 0) {
    if (known.n === 0 || fi.n % known.n !== 0 || !symsOk) out[inferIdx] = freshDim('reshape');
    else {
      const q = fi.n / known.n;
      out[inferIdx] = productDim(q, remaining);
    }
  } else if (fi.syms.length === 0 && known.syms.length === 0 && fi.n !== known.n) {
    throw new ShapeError(`cannot reshape ${formatShape(input)} (${fi.n} elements) to ${formatShape(target)} (${known.n} elements)`);
  }
  return out;
}

/** g.Reshape(x, shape): static dims (0 copies the input dim, -1 infers one) or an int64 Value. */
function reshape(g: Graph, x: Value, shape: readonly number[] | Value): Value {
  return g.op1('Reshape', [x, shape instanceof Value ? shape : g.ints(shape)]);
}

export const Reshape: Op<typeof reshape> = {
  opType: 'Reshape',
  sinceVersion: 14,
  inputs: [2, 2],
  attrs: { allowzero: { type: 'int', default: 0 } },
  build: reshape,
  differentiable: [0],
  infer(ctx) {
    const x = need(ctx, 0);
    const target = shapeDims(need(ctx, 1), 'shape');
    if (!target) throw new ShapeError('shape input is required');
    const shape = reshapeDims(x.shape, target, ctx.attrs.int('allowzero') === 1);
    const c = x.constValue;
    return [{ dtype: x.dtype, shape, ...(c ? { constValue: tensorData(c.dtype, shape as number[], c.data) } : {}) }];
  },
  // dX = Reshape(dY, shape(X))
  grad: ({ g, inputs: [x], dy: [d] }) => {
    if (!d || !x) return [];
    const s = x.shape.every((v) => typeof v === 'number') ? g.ints(x.shape as number[]) : g.Shape(x);
    return [g.Reshape(d, s)];
  },
  reference: (ins) => {
    const target = Array.from(ins[1].data as BigInt64Array, Number);
    const shape = reshapeDims(ins[0].shape, target) as number[];
    return [tensorData('float64', shape, Array.from(ins[0].data as Float64Array))];
  },
  cases: [
    { inputs: [{ shape: [2, 3, 2] }, { shape: [2], dtype: 'int64', values: [3, 4], constant: true }] },
    { name: 'infer -1 and copy 0', inputs: [{ shape: [2, 3, 2] }, { shape: [2], dtype: 'int64', values: [0, -1], constant: true }] },
  ],
};

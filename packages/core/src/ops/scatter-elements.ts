import type { OpDef } from '../ir/op-schema.js';
import { formatShape, normAxis, ShapeError } from '../ir/shape.js';
import { tensorData } from '../ir/tensor.js';
import { need, ravel, sameDType, unifyDim, zerosLike } from './common.js';
import { checkIndexRange, requireIndices } from './gather.js';
import { elementsAlong } from './gather-elements.js';

const REDUCTIONS: Record<string, (a: number, b: number) => number> = {
  none: (_a, b) => b,
  add: (a, b) => a + b,
  mul: (a, b) => a * b,
  max: Math.max,
  min: Math.min,
};

export const ScatterElements: OpDef = {
  opType: 'ScatterElements',
  sinceVersion: 18,
  inputs: [3, 3],
  attrs: { axis: { type: 'int', default: 0 }, reduction: { type: 'string', default: 'none' } },
  differentiable: [0, 2],
  infer(ctx) {
    const [x, ind, u] = [0, 1, 2].map((i) => need(ctx, i));
    requireIndices(ind);
    const dtype = sameDType([x, u]);
    const reduction = ctx.attrs.string('reduction');
    if (!(reduction in REDUCTIONS)) throw new ShapeError(`reduction '${reduction}' is not one of ${Object.keys(REDUCTIONS).join(', ')}`);
    const shapes = `data ${formatShape(x.shape)}, indices ${formatShape(ind.shape)}, updates ${formatShape(u.shape)}`;
    if (x.rank === 0 || ind.rank !== x.rank || u.rank !== x.rank) throw new ShapeError(`${shapes} must have one rank ≥ 1`);
    ind.shape.forEach((d, i) => {
      unifyDim(d, u.shape[i], () => `indices and updates must have one shape: ${shapes}`);
    });
    const axis = normAxis(ctx.attrs.int('axis'), x.rank);
    checkIndexRange(ind, x.shape[axis], `axis ${axis} of ${formatShape(x.shape)}`);
    return [{ dtype, shape: x.shape }];
  },
  // reduction 'none': dData = dY with the overwritten positions zeroed, dUpdates = GatherElements(dY, indices)
  //   (indices must be unique, as ONNX requires for 'none');
  // reduction 'add': dData = dY, dUpdates = GatherElements(dY, indices)
  grad: ({ g, node, inputs: [x, ind, u], dy: [d], needs, attrs }) => {
    if (!x || !ind || !u || !d) return [];
    const axis = attrs.int('axis');
    const reduction = attrs.string('reduction');
    if (reduction !== 'none' && reduction !== 'add') {
      throw new Error(`${node}: ScatterElements has no gradient rule for reduction '${reduction}' (only 'none' and 'add')`);
    }
    const dx = needs[0] ? (reduction === 'add' ? d : g.op1('ScatterElements', [d, ind, zerosLike(g, u)], { axis })) : undefined;
    const du = needs[2] ? g.op1('GatherElements', [d, ind], { axis }) : undefined;
    return [dx, undefined, du];
  },
  reference: ([x, ind, u], attrs) => {
    const axis = normAxis(attrs.int('axis'), x.shape.length);
    const f = REDUCTIONS[attrs.string('reduction')];
    const out = Float64Array.from(x.data as Float64Array);
    elementsAlong(x, ind, axis, (xi, k) => {
      const o = ravel(xi, x.shape);
      out[o] = f(out[o], Number(u.data[k]));
      return 0;
    });
    return [tensorData('float64', x.shape, out)];
  },
  cases: [
    {
      name: 'axis 0, reduction none',
      inputs: [{ shape: [3, 3] }, { shape: [2, 3], dtype: 'int64', values: [1, 0, 2, 0, 2, 1] }, { shape: [2, 3] }],
    },
    {
      name: 'axis 1, negative indices',
      attrs: { axis: 1 },
      inputs: [{ shape: [2, 4] }, { shape: [2, 2], dtype: 'int64', values: [-1, 1, 0, -2] }, { shape: [2, 2] }],
    },
    {
      name: 'reduction add, repeated indices',
      attrs: { axis: 1, reduction: 'add' },
      inputs: [{ shape: [2, 3] }, { shape: [2, 4], dtype: 'int64', values: [0, 0, 2, 0, 1, 1, -1, 1] }, { shape: [2, 4] }],
    },
    {
      name: 'reduction mul',
      attrs: { reduction: 'mul' },
      inputs: [{ shape: [3, 2] }, { shape: [2, 2], dtype: 'int64', values: [0, 2, 0, 1] }, { shape: [2, 2] }],
      noGrad: 'no gradient rule for reduction mul (only none and add)',
    },
    {
      name: 'reduction max',
      attrs: { reduction: 'max' },
      inputs: [{ shape: [3, 2] }, { shape: [2, 2], dtype: 'int64', values: [0, 2, 0, 1] }, { shape: [2, 2] }],
      noGrad: 'no gradient rule for reduction max (only none and add)',
    },
    {
      name: 'reduction min',
      attrs: { reduction: 'min' },
      inputs: [{ shape: [3, 2] }, { shape: [2, 2], dtype: 'int64', values: [0, 2, 0, 1] }, { shape: [2, 2] }],
      noGrad: 'no gradient rule for reduction min (only none and add)',
    },
  ],
};

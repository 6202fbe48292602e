import { ShapeError } from '../ir/shape.js';
import { tensorData } from '../ir/tensor.js';
import { shapeDims } from './common.js';
import type { OpDef } from './op-def.js';

export const ConstantOfShape: OpDef = {
  opType: 'ConstantOfShape',
  sinceVersion: 9,
  inputs: [1, 1],
  attrs: { value: 'tensor' },
  infer(ctx) {
    const dims = shapeDims(ctx.inputs[0], 'shape');
    if (!dims) throw new ShapeError('shape input is required');
    const dtype = ctx.attrs.has('value') ? ctx.attrs.tensor('value').dtype : 'float32';
    return [{ dtype, shape: dims }];
  },
  // Depends only on a shape: no gradient.
  grad: 'none',
  reference: (ins, attrs) => {
    const shape = Array.from(ins[0].data as BigInt64Array, Number);
    const v = attrs.tensor('value');
    const n = shape.reduce((a, b) => a * b, 1);
    return [tensorData('float64', shape, new Array(n).fill(Number(v.data[0])))];
  },
  cases: [
    { attrs: { value: tensorData('float64', [1], [2.5]) }, inputs: [{ shape: [2], dtype: 'int64', values: [2, 3], constant: true }] },
  ],
};

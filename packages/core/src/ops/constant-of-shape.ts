import type { Graph, Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import { ShapeError } from '../ir/shape.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { shapeDims } from './common.js';

/** g.ConstantOfShape(shape, value): value is a one-element tensor of the output's dtype. */
function constantOfShape(g: Graph, shape: Value, value: TensorData): Value {
  return g.op1('ConstantOfShape', [shape], { value });
}

export const ConstantOfShape: Op<typeof constantOfShape> = {
  opType: 'ConstantOfShape',
  sinceVersion: 9,
  inputs: [1, 1],
  attrs: { value: 'tensor' },
  build: constantOfShape,
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

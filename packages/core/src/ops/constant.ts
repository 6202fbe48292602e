import type { Graph, Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import { ShapeError } from '../ir/shape.js';
import { type TensorData, tensorData } from '../ir/tensor.js';

/** g.Constant(data, name?): a Constant node holding the tensor; name is the node name's base. */
function constant(g: Graph, data: TensorData, name?: string): Value {
  return g.op1('Constant', [], { value: data }, { name: name ?? 'Constant' });
}

export const Constant: Op<typeof constant> = {
  opType: 'Constant',
  sinceVersion: 13,
  inputs: [0, 0],
  attrs: { value: 'tensor', value_float: 'float', value_floats: 'floats', value_int: 'int', value_ints: 'ints' },
  build: constant,
  infer({ attrs }) {
    if (attrs.has('value')) {
      const t = attrs.tensor('value');
      return [{ dtype: t.dtype, shape: t.shape, constValue: t }];
    }
    if (attrs.has('value_float')) {
      const t = tensorData('float32', [], [attrs.float('value_float')]);
      return [{ dtype: 'float32', shape: [], constValue: t }];
    }
    if (attrs.has('value_floats')) {
      const v = attrs.floats('value_floats');
      return [{ dtype: 'float32', shape: [v.length], constValue: tensorData('float32', [v.length], v) }];
    }
    if (attrs.has('value_int')) {
      const t = tensorData('int64', [], [BigInt(attrs.int('value_int'))]);
      return [{ dtype: 'int64', shape: [], constValue: t }];
    }
    if (attrs.has('value_ints')) {
      const v = attrs.ints('value_ints');
      return [
        {
          dtype: 'int64',
          shape: [v.length],
          constValue: tensorData(
            'int64',
            [v.length],
            v.map((e) => BigInt(e)),
          ),
        },
      ];
    }
    throw new ShapeError('Constant needs one of the attributes value, value_float(s), value_int(s)');
  },
  // A constant has no inputs to send a gradient to.
  grad: 'none',
  reference: (_ins, attrs) => [attrs.tensor('value')],
  cases: [{ attrs: { value: tensorData('float64', [2, 2], [1, -2, 3.5, 4]) }, inputs: [] }],
};

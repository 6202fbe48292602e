import type { Graph, Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import type { Dim } from '../ir/shape.js';
import { normAxis, ShapeError } from '../ir/shape.js';
import { tensorData } from '../ir/tensor.js';
import { constInts, need } from './common.js';

/** g.Unsqueeze(x, axes): the static axes become an int64 constant. */
function unsqueeze(g: Graph, x: Value, axes: readonly number[]): Value {
  return g.op1('Unsqueeze', [x, g.ints(axes)]);
}

export const Unsqueeze: Op<typeof unsqueeze> = {
  opType: 'Unsqueeze',
  sinceVersion: 13,
  inputs: [2, 2],
  attrs: {},
  build: unsqueeze,
  differentiable: [0],
  infer(ctx) {
    const x = need(ctx, 0);
    const raw = constInts(need(ctx, 1), 'axes') ?? [];
    const rank = x.rank + raw.length;
    const axes = raw.map((a) => normAxis(a, rank));
    if (new Set(axes).size !== axes.length) throw new ShapeError(`axes ${raw} repeat an axis`);
    const out: Dim[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : x.shape[k++]);
    const c = x.constValue;
    // Shape arithmetic: a scalar holding one dim (Gather of a Shape) becomes a 1-D shape vector holding it.
    const dims = x.rank === 0 && x.dims?.length === 1 && out.length === 1 ? { dims: [...x.dims] } : {};
    return [{ dtype: x.dtype, shape: out, ...(c ? { constValue: tensorData(c.dtype, out as number[], c.data) } : {}), ...dims }];
  },
  // dX = Squeeze(dY, axes)
  grad: ({ g, inputs: [, axes], dy: [d] }) => [d && axes ? g.op1('Squeeze', [d, axes]) : undefined],
  reference: (ins) => {
    const axesRaw = Array.from(ins[1].data as BigInt64Array, Number);
    const rank = ins[0].shape.length + axesRaw.length;
    const axes = axesRaw.map((a) => (a < 0 ? a + rank : a));
    const shape: number[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : ins[0].shape[k++]);
    return [tensorData('float64', shape, Array.from(ins[0].data as Float64Array))];
  },
  cases: [
    { inputs: [{ shape: [2, 3] }, { shape: [1], dtype: 'int64', values: [1], constant: true }] },
    { name: 'negative axes', inputs: [{ shape: [2, 3] }, { shape: [2], dtype: 'int64', values: [0, -1], constant: true }] },
  ],
};

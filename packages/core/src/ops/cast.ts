import { type DType, dtypeFromOnnx, isFloat, ONNX_DTYPE } from '../ir/dtype.js';
import type { Graph, Value } from '../ir/graph.js';
import type { Op } from '../ir/op-schema.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { need } from './common.js';

/** Cast semantics on host data: to bool is x ≠ 0, float to integer truncates toward zero. */
function castData(x: TensorData, to: DType): TensorData {
  const src = Array.from(x.data as ArrayLike<number | bigint>, Number);
  const vals = to === 'bool' ? src.map((v) => (v ? 1 : 0)) : isFloat(to) ? src : src.map(Math.trunc);
  return tensorData(to, x.shape, to === 'int64' ? vals.map((v) => BigInt(v)) : vals);
}

/** g.Cast(x, 'float32') */
function cast(g: Graph, x: Value, to: DType): Value {
  return g.op1('Cast', [x], { to: ONNX_DTYPE[to] });
}

export const Cast: Op<typeof cast> = {
  opType: 'Cast',
  sinceVersion: 13,
  inputs: [1, 1],
  attrs: { to: 'int', saturate: 'int' },
  build: cast,
  infer(ctx) {
    const x = need(ctx, 0);
    const to = dtypeFromOnnx(ctx.attrs.int('to'));
    // Shape arithmetic: a cast between integer types keeps the dims a shape value holds; constants fold.
    const ints = (dt: string) => dt === 'int64' || dt === 'int32';
    const dims = x.dims && ints(x.dtype) && ints(to) ? { dims: [...x.dims] } : {};
    // Only small constants fold (shapes, axes, scalars): a weight's cast stays a runtime op, not a host-side copy.
    const foldable =
      x.constValue !== undefined && x.constValue.data.length <= 1024 && ![x.dtype, to].some((d) => d === 'string' || d === 'float16');
    const c = foldable && x.constValue ? castData(x.constValue, to) : undefined;
    return [{ dtype: to, shape: x.shape, ...dims, ...(c ? { constValue: c } : {}) }];
  },
  // dX = Cast(dY, X's dtype) between float types; casts to or from integers carry no gradient.
  grad: ({ g, inputs: [x], outputs: [y], dy: [d] }) => {
    if (!d || !x || !isFloat(x.dtype) || !isFloat(y.dtype)) return [];
    return [x.dtype === y.dtype ? d : g.Cast(d, x.dtype)];
  },
  reference: (ins, attrs) => [castData(ins[0], dtypeFromOnnx(attrs.int('to')))],
  cases: [
    // The output is float32, so the step must be large: Cast is linear, so only float32 rounding (6e-8/h) remains.
    { name: 'float64 to float32', attrs: { to: 1 }, inputs: [{ shape: [2, 3] }], h: 1e-2, tol: 1e-4 },
    { name: 'float64 to int64', attrs: { to: 7 }, inputs: [{ shape: [4], values: [-2.5, -0.5, 0.5, 3.7] }] },
  ],
};

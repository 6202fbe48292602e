import { dtypeFromOnnx, isFloat } from '../ir/dtype.js';
import { tensorData } from '../ir/tensor.js';
import { need } from './common.js';
import type { OpDef } from './op-def.js';

export const Cast: OpDef = {
  opType: 'Cast',
  sinceVersion: 13,
  inputs: [1, 1],
  attrs: { to: 'int', saturate: 'int' },
  infer(ctx) {
    const x = need(ctx, 0);
    return [{ dtype: dtypeFromOnnx(ctx.attrs.int('to')), shape: x.shape }];
  },
  // dX = Cast(dY, X's dtype) between float types; casts to or from integers carry no gradient.
  grad: ({ g, inputs: [x], outputs: [y], dy: [d] }) => {
    if (!d || !x || !isFloat(x.dtype) || !isFloat(y.dtype)) return [];
    return [x.dtype === y.dtype ? d : g.Cast(d, x.dtype)];
  },
  reference: (ins, attrs) => {
    const to = dtypeFromOnnx(attrs.int('to'));
    const src = Array.from(ins[0].data as ArrayLike<number>, Number);
    const vals = to === 'bool' ? src.map((v) => (v ? 1 : 0)) : isFloat(to) ? src : src.map(Math.trunc);
    return [tensorData(to, ins[0].shape, to === 'int64' ? vals.map((v) => BigInt(v)) : vals)];
  },
  cases: [
    // The output is float32, so the step must be large: Cast is linear, so only float32 rounding (6e-8/h) remains.
    { name: 'float64 to float32', attrs: { to: 1 }, inputs: [{ shape: [2, 3] }], h: 1e-2, tol: 1e-4 },
    { name: 'float64 to int64', attrs: { to: 7 }, inputs: [{ shape: [4], values: [-2.5, -0.5, 0.5, 3.7] }] },
  ],
};

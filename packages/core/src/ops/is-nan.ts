import { mapN, need, requireFloat } from './common.js';
import type { OpDef } from './op-def.js';

export const IsNaN: OpDef = {
  opType: 'IsNaN',
  sinceVersion: 13,
  inputs: [1, 1],
  attrs: {},
  infer(ctx) {
    const x = need(ctx, 0);
    requireFloat(x);
    return [{ dtype: 'bool', shape: x.shape }];
  },
  grad: 'none',
  reference: (ins) => [mapN(ins, (x) => (Number.isNaN(x) ? 1 : 0), 'bool')],
  cases: [{ inputs: [{ shape: [4], values: [Number.NaN, 0, Number.POSITIVE_INFINITY, -1] }] }],
};

export const IsInf: OpDef = {
  opType: 'IsInf',
  sinceVersion: 10,
  inputs: [1, 1],
  attrs: { detect_negative: 'int', detect_positive: 'int' },
  infer(ctx) {
    const x = need(ctx, 0);
    requireFloat(x);
    return [{ dtype: 'bool', shape: x.shape }];
  },
  grad: 'none',
  reference: (ins) => [mapN(ins, (x) => (x === Number.POSITIVE_INFINITY || x === Number.NEGATIVE_INFINITY ? 1 : 0), 'bool')],
  cases: [{ inputs: [{ shape: [4], values: [Number.NaN, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY] }] }],
};

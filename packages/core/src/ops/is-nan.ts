import type { Op } from '../ir/op-schema.js';
import { mapN, need, requireFloat, type UnaryBuild, unaryBuild } from './common.js';

export const IsNaN: Op<UnaryBuild> = {
  opType: 'IsNaN',
  sinceVersion: 13,
  inputs: [1, 1],
  attrs: {},
  build: unaryBuild('IsNaN'),
  infer(ctx) {
    const x = need(ctx, 0);
    requireFloat(x);
    return [{ dtype: 'bool', shape: x.shape }];
  },
  grad: 'none',
  reference: (ins) => [mapN(ins, (x) => (Number.isNaN(x) ? 1 : 0), 'bool')],
  cases: [{ inputs: [{ shape: [4], values: [Number.NaN, 0, Number.POSITIVE_INFINITY, -1] }] }],
};

export const IsInf: Op<UnaryBuild> = {
  opType: 'IsInf',
  sinceVersion: 10,
  inputs: [1, 1],
  attrs: { detect_negative: { type: 'int', default: 1 }, detect_positive: { type: 'int', default: 1 } },
  build: unaryBuild('IsInf'),
  infer(ctx) {
    const x = need(ctx, 0);
    requireFloat(x);
    return [{ dtype: 'bool', shape: x.shape }];
  },
  grad: 'none',
  reference: (ins) => [mapN(ins, (x) => (x === Number.POSITIVE_INFINITY || x === Number.NEGATIVE_INFINITY ? 1 : 0), 'bool')],
  cases: [{ inputs: [{ shape: [4], values: [Number.NaN, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY] }] }],
};

import type { Op } from '../ir/op-schema.js';
import { tensorData } from '../ir/tensor.js';
import { need, type UnaryBuild, unaryBuild } from './common.js';

export const Shape: Op<UnaryBuild> = {
  opType: 'Shape',
  sinceVersion: 15,
  inputs: [1, 1],
  // end defaults to the rank.
  attrs: { start: { type: 'int', default: 0 }, end: 'int' },
  build: unaryBuild('Shape'),
  infer(ctx) {
    const x = need(ctx, 0);
    const r = x.rank;
    const clamp = (v: number) => Math.min(r, Math.max(0, v < 0 ? v + r : v));
    const dims = x.shape.slice(clamp(ctx.attrs.int('start')), clamp(ctx.attrs.int('end', r)));
    const out = { dtype: 'int64' as const, shape: [dims.length], dims: [...dims] };
    if (dims.every((d) => typeof d === 'number'))
      return [
        {
          ...out,
          constValue: tensorData(
            'int64',
            [dims.length],
            dims.map((d) => BigInt(d)),
          ),
        },
      ];
    return [out];
  },
  // An integer description of a shape: no gradient.
  grad: 'none',
  reference: (ins, attrs) => {
    const r = ins[0].shape.length;
    const clamp = (v: number) => Math.min(r, Math.max(0, v < 0 ? v + r : v));
    const dims = ins[0].shape.slice(clamp(attrs.int('start')), clamp(attrs.int('end', r)));
    return [
      tensorData(
        'int64',
        [dims.length],
        dims.map((d) => BigInt(d)),
      ),
    ];
  },
  cases: [{ inputs: [{ shape: [2, 3, 4] }] }, { name: 'start 1', attrs: { start: 1 }, inputs: [{ shape: [2, 3, 4] }] }],
};

export const Size: Op<UnaryBuild> = {
  opType: 'Size',
  sinceVersion: 13,
  inputs: [1, 1],
  attrs: {},
  build: unaryBuild('Size'),
  infer(ctx) {
    const x = need(ctx, 0);
    const n = x.shape.every((d) => typeof d === 'number') ? (x.shape as number[]).reduce((a, b) => a * b, 1) : undefined;
    return [{ dtype: 'int64', shape: [], ...(n === undefined ? {} : { constValue: tensorData('int64', [], [BigInt(n)]) }) }];
  },
  grad: 'none',
  reference: (ins) => [tensorData('int64', [], [BigInt(ins[0].data.length)])],
  cases: [{ inputs: [{ shape: [2, 3, 4] }] }],
};

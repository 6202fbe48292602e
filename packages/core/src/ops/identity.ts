import type { Op } from '../ir/op-schema.js';
import { inferSame, type UnaryBuild, unaryBuild } from './common.js';

export const Identity: Op<UnaryBuild> = {
  opType: 'Identity',
  sinceVersion: 16,
  inputs: [1, 1],
  attrs: {},
  build: unaryBuild('Identity'),
  infer: (ctx) => {
    const [o] = inferSame(ctx);
    const c = ctx.inputs[0]?.constValue;
    return [c ? { ...o, constValue: c } : o];
  },
  // dX = dY
  grad: ({ dy: [d] }) => [d],
  reference: (ins) => [ins[0]],
  cases: [{ inputs: [{ shape: [2, 3] }] }],
};

import { inferSame } from './common.js';
import type { OpDef } from './op-def.js';

export const Identity: OpDef = {
  opType: 'Identity',
  sinceVersion: 16,
  inputs: [1, 1],
  attrs: {},
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

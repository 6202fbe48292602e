import { inferBroadcast, mapN } from './common.js';
import type { OpDef } from './op-def.js';

export const Sum: OpDef = {
  opType: 'Sum',
  sinceVersion: 13,
  inputs: [1, Number.POSITIVE_INFINITY],
  attrs: {},
  infer: (ctx) => inferBroadcast(ctx),
  // dXᵢ = dY for every input
  grad: ({ dy: [d], needs }) => needs.map((n) => (n ? d : undefined)),
  reference: (ins) => [mapN(ins, (...xs) => xs.reduce((a, b) => a + b, 0))],
  cases: [{ inputs: [{ shape: [2, 3] }, { shape: [3] }, { shape: [2, 1] }] }],
};

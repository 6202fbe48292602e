import type { Op } from '../ir/op-schema.js';
import { inferBroadcast, mapN, type VariadicBuild, variadicBuild } from './common.js';

export const Sum: Op<VariadicBuild> = {
  opType: 'Sum',
  sinceVersion: 13,
  inputs: [1, Number.POSITIVE_INFINITY],
  attrs: {},
  build: variadicBuild('Sum'),
  infer: (ctx) => inferBroadcast(ctx),
  // dXᵢ = dY for every input
  grad: ({ dy: [d], needs }) => needs.map((n) => (n ? d : undefined)),
  reference: (ins) => [mapN(ins, (...xs) => xs.reduce((a, b) => a + b, 0))],
  cases: [{ inputs: [{ shape: [2, 3] }, { shape: [3] }, { shape: [2, 1] }] }],
};

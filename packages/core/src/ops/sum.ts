import { binaryOp, inferBroadcast, mapN } from './common.js';
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

function extremum(opType: 'Max' | 'Min', pick: (a: number, b: number) => number): OpDef {
  const base = binaryOp({ opType, sinceVersion: 13, grad: 'none', ref: pick, cases: [] });
  return {
    ...base,
    inputs: [1, Number.POSITIVE_INFINITY],
    // dXᵢ = dY·[Xᵢ = Y] (ties send the gradient to every tied input, as subgradients allow)
    grad: ({ g, inputs, outputs: [y], dy: [d], needs }) =>
      inputs.map((x, i) => (needs[i] && d && x ? g.Where(g.Equal(x, y), d, 0) : undefined)),
    reference: (ins) => [mapN(ins, (...xs) => xs.reduce((a, b) => pick(a, b)))],
    cases: [
      {
        inputs: [
          { shape: [2, 3], values: [-1, 2, 0.5, 3, -2, 1] },
          { shape: [2, 3], values: [0.3, 1, -1, 2.5, 0.2, 1.7] },
        ],
      },
      {
        name: 'broadcast',
        inputs: [
          { shape: [2, 3], values: [-1, 2, 0.5, 3, -2, 1] },
          { shape: [3], values: [0.3, 1.1, -1] },
        ],
      },
    ],
  };
}

export const Max = extremum('Max', Math.max);
export const Min = extremum('Min', Math.min);

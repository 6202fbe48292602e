import { broadcastShapes, ShapeError } from '../ir/shape.js';
import { mapN, need } from './common.js';
import type { OpDef } from './op-def.js';

function logical(opType: string, arity: 1 | 2, sinceVersion: number, f: (...xs: number[]) => number): OpDef {
  return {
    opType,
    sinceVersion,
    inputs: [arity, arity],
    attrs: {},
    infer(ctx) {
      const vs = ctx.inputs.map((_, i) => need(ctx, i));
      for (const v of vs) if (v.dtype !== 'bool') throw new ShapeError(`${opType} takes bool inputs, got '${v.name}': ${v.dtype}`);
      return [{ dtype: 'bool', shape: broadcastShapes(...vs.map((v) => v.shape)) }];
    },
    // Boolean logic carries no gradient.
    grad: 'none',
    reference: (ins) => [mapN(ins, f, 'bool')],
    cases: [
      {
        inputs: Array.from({ length: arity }, (_, i) => ({
          shape: [4],
          dtype: 'bool' as const,
          values: i === 0 ? [0, 0, 1, 1] : [0, 1, 0, 1],
        })),
      },
    ],
  };
}

export const Not = logical('Not', 1, 1, (a) => (a ? 0 : 1));
export const And = logical('And', 2, 7, (a, b) => (a && b ? 1 : 0));
export const Or = logical('Or', 2, 7, (a, b) => (a || b ? 1 : 0));

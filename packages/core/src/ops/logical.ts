import type { Graph, Value } from '../ir/graph.js';
import type { Op, OpDef } from '../ir/op-schema.js';
import { broadcastShapes, ShapeError } from '../ir/shape.js';
import { mapN, need, type UnaryBuild, unaryBuild } from './common.js';

/** g.And(a, b), g.Or(a, b): bool inputs, no lifting of numbers. */
type LogicalBuild = (g: Graph, a: Value, b: Value) => Value;

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

const logical2 =
  (opType: string): LogicalBuild =>
  (g, a, b) =>
    g.op1(opType, [a, b]);

export const Not: Op<UnaryBuild> = { ...logical('Not', 1, 1, (a) => (a ? 0 : 1)), build: unaryBuild('Not') };
export const And: Op<LogicalBuild> = { ...logical('And', 2, 7, (a, b) => (a && b ? 1 : 0)), build: logical2('And') };
export const Or: Op<LogicalBuild> = { ...logical('Or', 2, 7, (a, b) => (a || b ? 1 : 0)), build: logical2('Or') };

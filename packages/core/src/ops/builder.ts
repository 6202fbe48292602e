/**
 * The builder layer, above the ops: registers every op that ops/index.ts lists and installs its builder method on
 * Graph (`g.MatMul(a, b)` calls MatMul's `build(g, a, b)`). The methods' types are derived from the op table, so
 * Graph gains a method by an op gaining a `build`, nowhere else. Importing '@onnxvae/core' loads this module; code
 * that imports ir/graph.ts directly and builds graphs imports it too (autodiff and testing do).
 */
import { Graph } from '../ir/graph.js';
import { registerOp } from '../ir/op-registry.js';
import type { BuildFn, OpDef } from '../ir/op-schema.js';
import * as ops from './index.js';

type OpTable = typeof ops;

/** One method per op with a builder: `(…args) => …` for a build of `(g, …args) => …`. */
export type BuilderMethods = {
  [K in keyof OpTable as OpTable[K] extends { build: BuildFn } ? K : never]: OpTable[K] extends {
    build: (g: Graph, ...args: infer A) => infer R;
  }
    ? (...args: A) => R
    : never;
};

declare module '../ir/graph.js' {
  interface Graph extends BuilderMethods {}
}

/** Every op definition ops/index.ts lists, by op type. */
export const OPS: OpDef[] = [];

for (const [name, def] of Object.entries(ops) as [string, OpDef][]) {
  if (def.opType !== name) throw new Error(`ops/index.ts exports the definition of ${def.opType} as '${name}'; the names must match`);
  registerOp(def);
  OPS.push(def);
  const build = def.build as ((g: Graph, ...args: unknown[]) => unknown) | undefined;
  if (!build) continue;
  if (name in Graph.prototype) throw new Error(`op ${name}'s builder would replace Graph's own member '${name}'`);
  // A method named after the op, so stack traces read Graph.MatMul.
  const method = {
    [name](this: Graph, ...args: unknown[]) {
      return build(this, ...args);
    },
  }[name];
  Object.defineProperty(Graph.prototype, name, { value: method, writable: true, configurable: true });
}

export type { ConvAttrs } from './conv.js';
export type { ConvTransposeAttrs } from './conv-transpose.js';
export type { GemmAttrs } from './gemm.js';

/**
 * An operator definition: the IR's OpSchema (arity, attribute schema with defaults, shape rule) plus the gradient
 * rule autodiff calls, the float64 reference and cases of the op suite, and the builder method's implementation.
 * Types only: the definitions themselves live in ops/, one file per op.
 */
import type { DType } from './dtype.js';
import type { AttrInput, Attrs, Graph, Node, OpSchema, Value } from './graph.js';
import type { TensorData } from './tensor.js';

export interface GradContext {
  /** The graph to emit gradient nodes into. */
  readonly g: Graph;
  readonly node: Node;
  readonly inputs: readonly (Value | undefined)[];
  readonly outputs: readonly Value[];
  /** Gradient of the loss with respect to each output; undefined where no gradient flows to that output. */
  readonly dy: readonly (Value | undefined)[];
  /** needs[i]: whether input i needs a gradient. Rules emit nodes only for those. */
  readonly needs: readonly boolean[];
  readonly attrs: Attrs;
}

/**
 * A gradient rule: one entry per input, undefined where no gradient is needed or none exists. A returned gradient
 * may have the broadcast (output) shape; autodiff reduces it to the input's shape.
 */
export type GradRule = (ctx: GradContext) => (Value | undefined)[];

/** One input of a test case. */
export interface CaseInput {
  shape: number[];
  /** Defaults to the case's dtype (float64). */
  dtype?: DType;
  /** Uniform sampling range [lo, hi]; default [-1, 1]. Use e.g. [0.5, 2] for Log. */
  domain?: [number, number];
  /** Exact values (row-major) instead of random ones. */
  values?: number[];
  /** Fed as a Constant node instead of a graph input (shape/axes tensors that shape rules must read). */
  constant?: boolean;
}

export interface OpCase {
  name?: string;
  inputs: CaseInput[];
  attrs?: Record<string, AttrInput>;
  /** Inputs to check gradients for; default: every float, non-constant input in the op's `differentiable` list. */
  wrt?: number[];
  /** float64 (default) where ORT's CPU kernels take it; float32 for Conv/ConvTranspose. */
  dtype?: 'float64' | 'float32';
  /** Relative+absolute tolerance for the gradient check; defaults 1e-6 (float64) / 2e-2 (float32). */
  tol?: number;
  /** Number of outputs for variadic-output ops. */
  outputs?: number;
  /** Finite-difference step; default 1e-6 (float64) / 1e-2 (float32). */
  h?: number;
  /** Skip the gradient check (with the reason) — e.g. at kinks of Relu/Abs. */
  noGrad?: string;
}

/**
 * A builder method's implementation: ops/builder.ts makes `g.<opType>(...args)` call `build(g, ...args)`. It turns
 * convenient arguments (numbers, static axes) into inputs and attributes and adds the node with g.op/g.op1; an
 * attribute the caller leaves out is left out of the node, so the schema's (ONNX's) default applies.
 */
export type BuildFn = (g: Graph, ...args: never[]) => Value | Value[];

export interface OpDef extends OpSchema {
  /** Inputs that gradients can flow to; default all. Others (shapes, axes, conditions) never get gradients. */
  differentiable?: number[];
  /** The gradient rule; 'none' for ops whose outputs are not differentiable (Shape, Equal, ArgMax…). */
  grad?: GradRule | 'none';
  /** Reference forward in float64, for the op test suite. */
  reference?: (inputs: TensorData[], attrs: Attrs) => TensorData[];
  cases?: OpCase[];
  /** The builder method g.<opType>(…); an op without one is built with g.op(opType, inputs, attrs). */
  build?: BuildFn;
}

/**
 * An op definition with a builder method of signature B; ops/builder.ts derives Graph's method types from it. Op
 * files annotate their export with it (`export const Slice: Op<typeof slice> = { …, build: slice }`): the
 * annotation gives the method its type without TypeScript having to check the definition's body first.
 */
export interface Op<B extends BuildFn> extends OpDef {
  build: B;
}

import { type DType, isFloat } from '../ir/dtype.js';
import type { AttrSchema, Graph, InferContext, Operand, OutType, Value } from '../ir/graph.js';
import type { GradRule, Op, OpCase } from '../ir/op-schema.js';
import { broadcastShapes, type Dim, formatShape, isStatic, normAxis, ShapeError, sameShape } from '../ir/shape.js';
import { type TensorData, tensorData } from '../ir/tensor.js';

/** The input at i, which the op requires. */
export function need(ctx: InferContext, i: number): Value {
  const v = ctx.inputs[i];
  if (!v) throw new ShapeError(`input ${i} is required`);
  return v;
}

export function requireFloat(v: Value, what = 'input'): void {
  if (!isFloat(v.dtype)) throw new ShapeError(`${what} '${v.name}' must be a float tensor, got ${v.dtype}`);
}

export function sameDType(vs: readonly (Value | undefined)[]): DType {
  const present = vs.filter((v): v is Value => v !== undefined);
  const dt = present[0].dtype;
  for (const v of present) {
    if (v.dtype !== dt) {
      throw new ShapeError(`inputs must share one dtype, got ${present.map((p) => `${p.name}: ${p.dtype}`).join(', ')}`);
    }
  }
  return dt;
}

export function inferSame(ctx: InferContext): OutType[] {
  const x = need(ctx, 0);
  return [{ dtype: x.dtype, shape: x.shape }];
}

export function inferBroadcast(ctx: InferContext, outDType?: DType): OutType[] {
  const vs = ctx.inputs.map((_, i) => need(ctx, i));
  const dt = sameDType(vs);
  return [{ dtype: outDType ?? dt, shape: broadcastShapes(...vs.map((v) => v.shape)) }];
}

/** Reads a constant int64/int32 input as numbers (axes, shapes, pads). */
export function constInts(v: Value | undefined, what: string): number[] | undefined {
  if (!v) return undefined;
  if (!v.constValue) throw new ShapeError(`${what} '${v.name}' must be a constant (an initializer or Constant), so the shape can be known`);
  return Array.from(v.constValue.data as ArrayLike<number | bigint>, (e) => Number(e));
}

// ---- float64 reference helpers for the op test suite ---------------------------------------------------------

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Broadcasting elementwise map over any number of inputs, in float64. */
export function mapN(ins: readonly TensorData[], f: (...xs: number[]) => number, dtype: DType = 'float64'): TensorData {
  const shape = broadcastShapes(...ins.map((t) => t.shape)) as number[];
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  const outStrides = strides(shape);
  const inStrides = ins.map((t) => {
    const s = strides(t.shape);
    const off = shape.length - t.shape.length;
    return shape.map((_, i) => (i < off || t.shape[i - off] === 1 ? 0 : s[i - off]));
  });
  const args = new Array<number>(ins.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < ins.length; k++) {
      let rem = i;
      let idx = 0;
      for (let d = 0; d < shape.length; d++) {
        const c = Math.floor(rem / outStrides[d]);
        rem -= c * outStrides[d];
        idx += c * inStrides[k][d];
      }
      args[k] = Number(ins[k].data[idx]);
    }
    out[i] = f(...args);
  }
  if (dtype === 'float64') return tensorData('float64', shape, out);
  return tensorData(dtype, shape, Array.from(out));
}

// ---- builder signatures shared by many ops ----------------------------------------------------------------------

/** g.Neg(x): the one-input ops. */
export type UnaryBuild = (g: Graph, x: Value) => Value;
/** g.Add(a, b): a number on either side becomes a scalar constant of the other side's dtype. */
export type BinaryBuild = (g: Graph, a: Operand, b: Operand) => Value;
/** g.Sum(a, b, c): the ops with any number of inputs. */
export type VariadicBuild = (g: Graph, ...xs: Value[]) => Value;

export function unaryBuild(opType: string): UnaryBuild {
  return (g, x) => g.op1(opType, [x]);
}

export function binaryBuild(opType: string): BinaryBuild {
  return (g, a, b) => {
    const like = typeof a !== 'number' ? a : typeof b !== 'number' ? b : 'float32';
    return g.op1(opType, [g.lift(a, like), g.lift(b, like)]);
  };
}

export function variadicBuild(opType: string): VariadicBuild {
  return (g, ...xs) => g.op1(opType, xs);
}

// ---- factories for the many one-line elementwise ops ----------------------------------------------------------

export interface UnarySpec {
  opType: string;
  sinceVersion: number;
  attrs?: AttrSchema;
  grad: GradRule | 'none';
  /** Scalar reference; `attr` reads the node's attribute, or its schema default. */
  ref: (x: number, attr: (name: string) => number) => number;
  cases: OpCase[];
  /** Float inputs only (default true). */
  floatOnly?: boolean;
}

/** A one-input elementwise op with the builder g.<opType>(x); an op with attributes replaces `build`. */
export function unaryOp(spec: UnarySpec): Op<UnaryBuild> {
  return {
    opType: spec.opType,
    sinceVersion: spec.sinceVersion,
    inputs: [1, 1],
    attrs: spec.attrs ?? {},
    infer(ctx) {
      const x = need(ctx, 0);
      if (spec.floatOnly !== false) requireFloat(x);
      return [{ dtype: x.dtype, shape: x.shape }];
    },
    grad: spec.grad,
    reference: (ins, attrs) => [
      mapN(ins, (x) =>
        spec.ref(x, (name) => {
          const t = spec.attrs?.[name];
          // Float attributes are stored as float32 in ONNX.
          return t === 'int' || (typeof t === 'object' && t.type === 'int') ? attrs.int(name) : Math.fround(attrs.float(name));
        }),
      ),
    ],
    cases: spec.cases,
    build: unaryBuild(spec.opType),
  };
}

export interface BinarySpec {
  opType: string;
  sinceVersion: number;
  grad: GradRule | 'none';
  ref: (a: number, b: number) => number;
  cases: OpCase[];
  /** Output dtype for comparisons (bool). */
  outDType?: DType;
}

/** A broadcasting two-input op with the builder g.<opType>(a, b), numbers lifted to scalars. */
export function binaryOp(spec: BinarySpec): Op<BinaryBuild> {
  return {
    opType: spec.opType,
    sinceVersion: spec.sinceVersion,
    inputs: [2, 2],
    attrs: {},
    infer: (ctx) => inferBroadcast(ctx, spec.outDType),
    grad: spec.grad,
    reference: (ins) => [mapN(ins, spec.ref, spec.outDType === 'bool' ? 'bool' : 'float64')],
    cases: spec.cases,
    build: binaryBuild(spec.opType),
  };
}

/** Standard broadcasting cases for a binary op: same shape, row broadcast, scalar, both sides broadcast. */
export function broadcastCases(domainA: [number, number] = [-1, 1], domainB: [number, number] = [-1, 1]): OpCase[] {
  return [
    {
      name: 'same shape',
      inputs: [
        { shape: [2, 3], domain: domainA },
        { shape: [2, 3], domain: domainB },
      ],
    },
    {
      name: 'row broadcast',
      inputs: [
        { shape: [3, 4], domain: domainA },
        { shape: [4], domain: domainB },
      ],
    },
    {
      name: 'scalar',
      inputs: [
        { shape: [2, 3], domain: domainA },
        { shape: [], domain: domainB },
      ],
    },
    {
      name: 'both broadcast',
      inputs: [
        { shape: [3, 1], domain: domainA },
        { shape: [1, 4], domain: domainB },
      ],
    },
  ];
}

export function describe(v: Value): string {
  return `${v.name}: ${v.dtype}${formatShape(v.shape)}`;
}

/** The dims held by a shape-valued input: a constant, or Shape's output with symbolic dims. */
export function shapeDims(v: Value | undefined, what: string): Dim[] | undefined {
  if (!v) return undefined;
  if (v.dims) return v.dims;
  const c = constInts(v, what);
  return c;
}

/** Sorted, normalized axes of a reduction; all axes when none are given. */
export function reduceAxes(x: Value, axesInput: Value | undefined): number[] {
  const axes = constInts(axesInput, 'axes');
  if (!axes || axes.length === 0) return x.shape.map((_, i) => i);
  return [...new Set(axes.map((a) => normAxis(a, x.rank)))].sort((a, b) => a - b);
}

// ---- the variadic elementwise extremum ops (Max, Min) -------------------------------------------------------

export function extremum(opType: 'Max' | 'Min', pick: (a: number, b: number) => number): Op<VariadicBuild> {
  const base = binaryOp({ opType, sinceVersion: 13, grad: 'none', ref: pick, cases: [] });
  return {
    ...base,
    inputs: [1, Number.POSITIVE_INFINITY],
    build: variadicBuild(opType),
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

// ---- symbolic dim arithmetic ------------------------------------------------------------------------------------

/**
 * d + k. A symbolic result is written 'batch+2'; a trailing constant is folded, so ('batch+2') + (-2) is 'batch'
 * again, which lets a gradient (Pad's, Slice's) land exactly on its input's shape.
 */
export function addDim(d: Dim, k: number): Dim {
  if (typeof d === 'number') return d + k;
  const m = /^(.+?)([+-]\d+)$/.exec(d);
  const base = m ? m[1] : d;
  const n = (m ? Number(m[2]) : 0) + k;
  return n === 0 ? base : `${base}${n > 0 ? '+' : ''}${n}`;
}

/** The sum of dims (a Concat axis): a number when all are static, else 'a+b+3'. */
export function sumDims(dims: readonly Dim[]): Dim {
  const syms = dims.filter((d): d is string => typeof d === 'string');
  const n = dims.reduce<number>((a, d) => a + (typeof d === 'number' ? d : 0), 0);
  return syms.length === 0 ? n : addDim(syms.join('+'), n);
}

/**
 * Two dims that must be equal (MatMul's inner dims, Concat's other axes). Two static dims that differ are an error
 * (`mismatch` says why); a symbolic dim may equal anything at run time, so the static one (the better-known) wins.
 */
export function unifyDim(a: Dim, b: Dim, mismatch: () => string): Dim {
  if (a === b) return a;
  if (typeof a === 'number' && typeof b === 'number') throw new ShapeError(mismatch());
  return typeof a === 'number' ? a : b;
}

// ---- graph fragments shared by gradient rules ---------------------------------------------------------------------

/** x's shape as an int64 vector: a constant when static, else Shape(x) (which carries the symbolic dims). */
export function shapeOf(g: Graph, x: Value): Value {
  return isStatic(x.shape) ? g.ints(x.shape) : g.Shape(x);
}

/** Zeros of x's dtype and shape, symbolic dims included. */
export function zerosLike(g: Graph, x: Value): Value {
  if (isStatic(x.shape)) return g.Constant(tensorData(x.dtype, x.shape), 'zeros');
  return g.ConstantOfShape(g.Shape(x), tensorData(x.dtype, [1]));
}

/**
 * v, re-labelled with x's shape where the shape rules could not prove them equal (a fresh symbolic dim from Split,
 * say): a Reshape to Shape(x), a no-op at run time, so autodiff sees the gradient in exactly its input's shape.
 */
export function asShapeOf(g: Graph, v: Value, x: Value): Value {
  return sameShape(v.shape, x.shape) ? v : g.Reshape(v, shapeOf(g, x));
}

/**
 * An int64 vector holding `dims`, for Reshape targets in gradient rules. Each symbolic dim is read at run time from
 * the first of `from` whose shape has it, so the vector carries the dims to the shape rules (Value.dims).
 */
export function shapeValue(g: Graph, dims: readonly Dim[], from: readonly Value[]): Value {
  if (isStatic(dims)) return g.ints(dims);
  const parts: Value[] = [];
  let run: number[] = [];
  const flush = () => {
    if (run.length) parts.push(g.ints(run));
    run = [];
  };
  for (const d of dims) {
    if (typeof d === 'number') {
      run.push(d);
      continue;
    }
    const src = from.find((v) => v.shape.includes(d));
    if (!src) throw new ShapeError(`symbolic dim '${d}' is not a dim of ${from.map(describe).join(', ')}`);
    flush();
    parts.push(g.Gather(g.Shape(src), g.ints([src.shape.indexOf(d)])));
  }
  flush();
  return parts.length === 1 ? parts[0] : g.Concat(parts, 0);
}

/** The permutation that moves `axis` to the end, and its inverse. */
export function moveAxisLast(rank: number, axis: number): { perm: number[]; inv: number[] } {
  const perm = [...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis), axis];
  const inv = new Array<number>(rank);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return { perm, inv };
}

/** Element (multi-)index helpers for the float64 references. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let o = 0;
  for (let d = 0; d < shape.length; d++) o = o * shape[d] + idx[d];
  return o;
}

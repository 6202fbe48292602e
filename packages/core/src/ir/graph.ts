import { lookupOp } from '../ops/registry.js';
import { type DType, ONNX_DTYPE } from './dtype.js';
import { type Dim, formatShape, type Shape, ShapeError } from './shape.js';
import { type TensorData, tensorData } from './tensor.js';
// Registers every op definition, so a Graph can be used on its own.
import '../ops/index.js';

export type AttrValue =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'string'; value: string }
  | { type: 'ints'; value: number[] }
  | { type: 'floats'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensor'; value: TensorData }
  | { type: 'graph'; value: Graph };
export type AttrType = AttrValue['type'];
/** What a caller may pass for an attribute; the op's schema says which AttrValue it becomes. */
export type AttrInput = number | string | boolean | readonly number[] | readonly string[] | TensorData | Graph | AttrValue;

/** A typed value in a graph: a graph input, an initializer, or a node's output. */
export class Value {
  /** Set for initializers, Constant outputs and values the shape rules fold (e.g. Shape of a static shape). */
  constValue: TensorData | undefined;
  /**
   * For 1-D int64 values that hold a shape (Shape's output): the dims, symbolic ones included. A scalar that holds
   * one dim (Gather of a shape with a scalar index) has dims of length 1.
   */
  dims: Dim[] | undefined;
  constructor(
    readonly graph: Graph,
    public name: string,
    readonly dtype: DType,
    readonly shape: readonly Dim[],
    public producer: Node | undefined,
  ) {}
  get rank(): number {
    return this.shape.length;
  }
  toString(): string {
    return `${this.name}: ${this.dtype}${formatShape(this.shape)}`;
  }
}

/** One ONNX node. `inputs` may hold undefined for omitted optional inputs. */
export class Node {
  /** An Identity that autodiff must not propagate through (stop-gradient). */
  stopGradient = false;
  constructor(
    readonly graph: Graph,
    readonly opType: string,
    readonly domain: string,
    readonly name: string,
    readonly inputs: (Value | undefined)[],
    readonly outputs: Value[],
    readonly attrs: Map<string, AttrValue>,
  ) {}
  toString(): string {
    return `node '${this.name}' (${this.opType})`;
  }
}

/** Reads a node's attributes with defaults and type checks. */
export class Attrs {
  constructor(
    private readonly map: Map<string, AttrValue>,
    private readonly where: string,
  ) {}
  has(name: string): boolean {
    return this.map.has(name);
  }
  private get(name: string, type: AttrType): unknown {
    const a = this.map.get(name);
    if (a === undefined) return undefined;
    if (a.type !== type) throw new ShapeError(`${this.where}: attribute '${name}' is ${a.type}, expected ${type}`);
    return a.value;
  }
  private req<T>(name: string, v: T | undefined, d: T | undefined): T {
    if (v !== undefined) return v;
    if (d !== undefined) return d;
    throw new ShapeError(`${this.where}: required attribute '${name}' is missing`);
  }
  int(name: string, d?: number): number {
    return this.req(name, this.get(name, 'int') as number | undefined, d);
  }
  float(name: string, d?: number): number {
    return this.req(name, this.get(name, 'float') as number | undefined, d);
  }
  string(name: string, d?: string): string {
    return this.req(name, this.get(name, 'string') as string | undefined, d);
  }
  ints(name: string, d?: number[]): number[] {
    return this.req(name, this.get(name, 'ints') as number[] | undefined, d);
  }
  floats(name: string, d?: number[]): number[] {
    return this.req(name, this.get(name, 'floats') as number[] | undefined, d);
  }
  tensor(name: string): TensorData {
    return this.req(name, this.get(name, 'tensor') as TensorData | undefined, undefined);
  }
  graph(name: string): Graph {
    return this.req(name, this.get(name, 'graph') as Graph | undefined, undefined);
  }
  /** Plain copy for building a similar node (e.g. in gradient rules). */
  raw(): Map<string, AttrValue> {
    return new Map(this.map);
  }
}

export interface OpOptions {
  /** Number of outputs for variadic-output ops (Split, Loop). */
  outputs?: number;
  /** Base for the node name, instead of the op type. */
  name?: string;
  domain?: string;
}

function toAttrValue(v: AttrInput, type: AttrType | undefined, where: string): AttrValue {
  if (typeof v === 'object' && v !== null && 'type' in v && 'value' in v && !('dtype' in v)) return v as AttrValue;
  if (v instanceof Graph) return { type: 'graph', value: v };
  if (typeof v === 'object' && v !== null && 'dtype' in v && 'data' in v) return { type: 'tensor', value: v as TensorData };
  const t = type ?? inferAttrType(v);
  switch (t) {
    case 'int':
      if (typeof v === 'boolean') return { type: 'int', value: v ? 1 : 0 };
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new ShapeError(`${where}: expected an integer, got ${String(v)}`);
      return { type: 'int', value: v };
    case 'float':
      if (typeof v !== 'number') throw new ShapeError(`${where}: expected a number, got ${String(v)}`);
      return { type: 'float', value: v };
    case 'string':
      return { type: 'string', value: String(v) };
    case 'ints':
      if (!Array.isArray(v) || !v.every((e) => Number.isInteger(e))) throw new ShapeError(`${where}: expected integers, got ${String(v)}`);
      return { type: 'ints', value: [...(v as number[])] };
    case 'floats':
      if (!Array.isArray(v)) throw new ShapeError(`${where}: expected numbers, got ${String(v)}`);
      return { type: 'floats', value: [...(v as number[])] };
    case 'strings':
      return { type: 'strings', value: [...(v as string[])] };
    default:
      throw new ShapeError(`${where}: cannot convert ${String(v)} to a ${t} attribute`);
  }
}

function inferAttrType(v: AttrInput): AttrType {
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'int';
  if (Array.isArray(v))
    return v.length > 0 && typeof v[0] === 'string' ? 'strings' : v.every((e) => Number.isInteger(e)) ? 'ints' : 'floats';
  return 'tensor';
}

/** The output type a shape rule returns for each output. */
export interface OutType {
  dtype: DType;
  shape: readonly Dim[];
  constValue?: TensorData;
  /** See Value.dims. */
  dims?: Dim[];
}

export { freshDim } from './shape.js';

/**
 * A graph under construction. Builder methods are named after ONNX op types (g.MatMul(a, b)); each runs the op's
 * shape rule at once, so a mismatch fails here, naming the node and the shapes.
 */
export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly initializers: Value[] = [];
  /** Opset of the default domain for the model this graph belongs to. */
  opset = 18;
  private readonly scopes: string[] = [];
  private readonly usedNames: Set<string>;
  private readonly scalarCache = new Map<string, Value>();

  constructor(
    public name = 'main',
    readonly parent?: Graph,
  ) {
    this.usedNames = parent ? parent.usedNames : new Set();
    if (parent) {
      this.opset = parent.opset;
      this.scopes.push(...parent.scopes);
    }
  }

  /** A nested graph (a Loop or If body) that may read this graph's values by name. */
  subgraph(name: string): Graph {
    return new Graph(this.uniqueName(this.prefixed(name)), this);
  }

  get root(): Graph {
    return this.parent ? this.parent.root : this;
  }

  /** Runs fn with names prefixed by `name.` (encoder.fc1.MatMul_out). */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  prefixed(base: string): string {
    return this.scopes.length ? `${this.scopes.join('.')}.${base}` : base;
  }

  uniqueName(base: string): string {
    let n = base;
    for (let i = 1; this.usedNames.has(n); i++) n = `${base}_${i}`;
    this.usedNames.add(n);
    return n;
  }

  /** Claims an exact name; fails if another value or node already has it. */
  claimName(name: string): string {
    if (this.usedNames.has(name)) throw new ShapeError(`name '${name}' is already used in graph '${this.root.name}'`);
    this.usedNames.add(name);
    return name;
  }

  renameValue(v: Value, name: string): void {
    if (v.name === name) return;
    this.claimName(name);
    this.usedNames.delete(v.name);
    v.name = name;
  }

  isVisible(v: Value): boolean {
    for (let g: Graph | undefined = this; g; g = g.parent) if (v.graph === g) return true;
    return false;
  }

  input(name: string, dtype: DType, shape: Shape): Value {
    const v = new Value(this, this.claimName(name), dtype, [...shape], undefined);
    this.inputs.push(v);
    return v;
  }

  /** A named tensor stored with the model (a weight). The name is exact, not scoped, if it contains a dot. */
  initializer(name: string, data: TensorData): Value {
    const full = name.includes('.') ? name : this.prefixed(name);
    const v = new Value(this, this.claimName(full), data.dtype, [...data.shape], undefined);
    v.constValue = data;
    this.initializers.push(v);
    return v;
  }

  /** Marks v as a graph output; with a name, the output is renamed (or an Identity is added if v is already named). */
  output(v: Value, name?: string): Value {
    let out = v;
    if (name !== undefined && name !== v.name) {
      const canRename = v.producer !== undefined && v.graph === this && !this.outputs.includes(v);
      if (canRename) this.renameValue(v, name);
      else {
        out = this.Identity(v);
        this.renameValue(out, name);
      }
    }
    if (!this.isVisible(out)) throw new ShapeError(`output ${out} does not belong to graph '${this.name}'`);
    this.outputs.push(out);
    return out;
  }

  /**
   * Adds a node of any registered op; returns its outputs. attrs are converted with the op's attribute schema;
   * undefined inputs are omitted optional inputs (trailing ones are dropped).
   */
  op(
    opType: string,
    inputs: readonly (Value | undefined)[],
    attrs: Record<string, AttrInput | undefined> = {},
    opts: OpOptions = {},
  ): Value[] {
    const domain = opts.domain ?? '';
    const def = lookupOp(opType, domain);
    const nodeName = this.uniqueName(this.prefixed(opts.name ?? opType));
    const where = `node '${nodeName}' (${opType})`;
    if (!def) throw new ShapeError(`${where}: operator ${domain ? `${domain}.` : ''}${opType} has no definition in @onnxvae/core ops`);
    const ins = [...inputs];
    while (ins.length > 0 && ins[ins.length - 1] === undefined) ins.pop();
    for (const [i, v] of ins.entries()) {
      if (v && !this.isVisible(v)) throw new ShapeError(`${where}: input ${i} '${v.name}' belongs to another graph`);
    }
    const [minIn, maxIn] = def.inputs;
    if (ins.length < minIn || ins.length > maxIn) {
      throw new ShapeError(
        `${where}: takes ${minIn === maxIn ? minIn : `${minIn} to ${maxIn === Infinity ? 'any number of' : maxIn}`} inputs, got ${ins.length}`,
      );
    }
    const map = new Map<string, AttrValue>();
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined) continue;
      const schema = def.attrs?.[k];
      if (def.attrs && schema === undefined) {
        throw new ShapeError(`${where}: unknown attribute '${k}' (known: ${Object.keys(def.attrs).join(', ') || 'none'})`);
      }
      map.set(k, toAttrValue(v, schema, `${where} attribute '${k}'`));
    }
    return this.addNode(opType, domain, nodeName, ins, map, opts.outputs).outputs;
  }

  /** Adds a node with converted attributes (also used when reading ONNX files); runs the shape rule. */
  addNode(
    opType: string,
    domain: string,
    nodeName: string,
    ins: (Value | undefined)[],
    attrs: Map<string, AttrValue>,
    numOutputs?: number,
    outputNames?: string[],
  ): Node {
    const def = lookupOp(opType, domain);
    const where = `node '${nodeName}' (${opType})`;
    if (!def) throw new ShapeError(`${where}: operator ${opType} has no definition in @onnxvae/core ops`);
    let outs: OutType[];
    try {
      outs = def.infer({ inputs: ins, attrs: new Attrs(attrs, where), numOutputs, graph: this, nodeName });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const desc = ins.map((v, i) => (v ? `${v.name}: ${v.dtype}${formatShape(v.shape)}` : `#${i}: (omitted)`)).join(', ');
      throw new ShapeError(`${where}: ${msg}; inputs: ${desc || 'none'}`);
    }
    const outVals = outs.map((o, i) => {
      const name =
        outputNames?.[i] !== undefined ? this.claimName(outputNames[i]) : this.uniqueName(`${nodeName}_out${outs.length > 1 ? i : ''}`);
      const v = new Value(this, name, o.dtype, [...o.shape], undefined);
      if (o.constValue) v.constValue = o.constValue;
      if (o.dims) v.dims = o.dims;
      return v;
    });
    const node = new Node(this, opType, domain, nodeName, ins, outVals, attrs);
    for (const v of outVals) v.producer = node;
    this.nodes.push(node);
    return node;
  }

  op1(
    opType: string,
    inputs: readonly (Value | undefined)[],
    attrs: Record<string, AttrInput | undefined> = {},
    opts: OpOptions = {},
  ): Value {
    return this.op(opType, inputs, attrs, opts)[0];
  }

  // ---- constants -------------------------------------------------------------------------------------------

  /** A Constant node holding the given tensor. */
  Constant(data: TensorData, name?: string): Value {
    return this.op1('Constant', [], { value: data }, { name: name ?? 'Constant' });
  }

  /** A scalar (rank 0) constant of the given dtype, shared within the graph. */
  scalar(v: number, dtype: DType = 'float32'): Value {
    const key = `${dtype}:${Object.is(v, -0) ? '-0' : v}`;
    const hit = this.scalarCache.get(key);
    if (hit) return hit;
    const c = this.Constant(tensorData(dtype, [], [dtype === 'int64' ? (BigInt(v) as unknown as number) : v]), 'const');
    this.scalarCache.set(key, c);
    return c;
  }

  /** An int64 vector constant (shapes, axes, pads). */
  ints(values: readonly number[]): Value {
    return this.Constant(
      tensorData(
        'int64',
        [values.length],
        values.map((v) => BigInt(v)),
      ),
      'ints',
    );
  }

  /** Turns a number into a scalar constant of `like`'s dtype. */
  lift(x: Operand, like: Value | DType): Value {
    if (x instanceof Value) return x;
    return this.scalar(x, typeof like === 'string' ? like : like.dtype);
  }

  /** A value autodiff treats as a constant: an Identity that gradients do not flow through. */
  stopGradient(x: Value): Value {
    const y = this.Identity(x);
    if (y.producer) y.producer.stopGradient = true;
    return y;
  }

  /**
   * ONNX Loop: runs bodyFn's graph `tripCount` times. bodyFn gets the body graph, iteration_num (int64 []) and body
   * copies of `carried`, and returns their new values (optionally `{ carried, scans }` with per-iteration scan
   * outputs); it may read this graph's values by name (and take gradients inside the body). Returns the final
   * loop-carried values, then each scan output stacked along a new leading axis.
   */
  Loop(
    tripCount: Value | number,
    carried: readonly Value[],
    bodyFn: (body: Graph, iter: Value, carried: Value[]) => Value[] | { carried: Value[]; scans?: Value[] },
  ): Value[] {
    const body = this.subgraph('loop_body');
    const bodyInput = (base: string, dtype: DType, shape: readonly Dim[]) => {
      const v = new Value(body, body.uniqueName(`${body.name}.${base}`), dtype, [...shape], undefined);
      body.inputs.push(v);
      return v;
    };
    const iter = bodyInput('iteration_num', 'int64', []);
    const condIn = bodyInput('cond_in', 'bool', []);
    const vs = carried.map((v) => bodyInput(v.name, v.dtype, v.shape));
    const res = bodyFn(body, iter, vs);
    const next = Array.isArray(res) ? res : res.carried;
    const scans = Array.isArray(res) ? [] : (res.scans ?? []);
    if (next.length !== carried.length) {
      throw new ShapeError(`Loop body '${body.name}' returned ${next.length} values for ${carried.length} loop-carried values`);
    }
    body.output(body.Identity(condIn));
    // A body output must be produced in the body and listed once: pass-throughs and outer values get an Identity.
    for (const v of [...next, ...scans]) body.output(v.graph !== body || !v.producer || body.outputs.includes(v) ? body.Identity(v) : v);
    const m = tripCount instanceof Value ? tripCount : this.scalar(tripCount, 'int64');
    return this.op('Loop', [m, undefined, ...carried], { body }, { outputs: carried.length + scans.length });
  }

  // ---- builder methods, one per op (named as the ONNX schema spells them) -----------------------------------

  private bin(op: string, a: Operand, b: Operand): Value {
    const like = a instanceof Value ? a : b instanceof Value ? b : 'float32';
    return this.op1(op, [this.lift(a, like), this.lift(b, like)]);
  }
  Add(a: Operand, b: Operand): Value {
    return this.bin('Add', a, b);
  }
  Sub(a: Operand, b: Operand): Value {
    return this.bin('Sub', a, b);
  }
  Mul(a: Operand, b: Operand): Value {
    return this.bin('Mul', a, b);
  }
  Div(a: Operand, b: Operand): Value {
    return this.bin('Div', a, b);
  }
  Pow(a: Operand, b: Operand): Value {
    return this.bin('Pow', a, b);
  }
  Max(...xs: Value[]): Value {
    return this.op1('Max', xs);
  }
  Min(...xs: Value[]): Value {
    return this.op1('Min', xs);
  }
  Sum(...xs: Value[]): Value {
    return this.op1('Sum', xs);
  }
  MatMul(a: Value, b: Value): Value {
    return this.op1('MatMul', [a, b]);
  }
  Gemm(a: Value, b: Value, c?: Value, attrs: { alpha?: number; beta?: number; transA?: number; transB?: number } = {}): Value {
    return this.op1('Gemm', [a, b, c], attrs);
  }
  Neg(x: Value): Value {
    return this.op1('Neg', [x]);
  }
  Exp(x: Value): Value {
    return this.op1('Exp', [x]);
  }
  Log(x: Value): Value {
    return this.op1('Log', [x]);
  }
  Sqrt(x: Value): Value {
    return this.op1('Sqrt', [x]);
  }
  Reciprocal(x: Value): Value {
    return this.op1('Reciprocal', [x]);
  }
  Abs(x: Value): Value {
    return this.op1('Abs', [x]);
  }
  Sign(x: Value): Value {
    return this.op1('Sign', [x]);
  }
  Floor(x: Value): Value {
    return this.op1('Floor', [x]);
  }
  Relu(x: Value): Value {
    return this.op1('Relu', [x]);
  }
  LeakyRelu(x: Value, alpha = 0.01): Value {
    return this.op1('LeakyRelu', [x], { alpha });
  }
  Elu(x: Value, alpha = 1): Value {
    return this.op1('Elu', [x], { alpha });
  }
  Tanh(x: Value): Value {
    return this.op1('Tanh', [x]);
  }
  Sigmoid(x: Value): Value {
    return this.op1('Sigmoid', [x]);
  }
  Softplus(x: Value): Value {
    return this.op1('Softplus', [x]);
  }
  Softmax(x: Value, axis = -1): Value {
    return this.op1('Softmax', [x], { axis });
  }
  LogSoftmax(x: Value, axis = -1): Value {
    return this.op1('LogSoftmax', [x], { axis });
  }
  private reduce(op: string, x: Value, axes: readonly number[] | undefined, keepdims: boolean): Value {
    return this.op1(op, [x, axes ? this.ints(axes) : undefined], { keepdims: keepdims ? 1 : 0 });
  }
  ReduceSum(x: Value, axes?: readonly number[], keepdims = false): Value {
    return this.reduce('ReduceSum', x, axes, keepdims);
  }
  ReduceMean(x: Value, axes?: readonly number[], keepdims = false): Value {
    return this.reduce('ReduceMean', x, axes, keepdims);
  }
  ReduceMax(x: Value, axes?: readonly number[], keepdims = false): Value {
    return this.reduce('ReduceMax', x, axes, keepdims);
  }
  ReduceMin(x: Value, axes?: readonly number[], keepdims = false): Value {
    return this.reduce('ReduceMin', x, axes, keepdims);
  }
  ReduceLogSumExp(x: Value, axes?: readonly number[], keepdims = false): Value {
    return this.reduce('ReduceLogSumExp', x, axes, keepdims);
  }
  ReduceSumSquare(x: Value, axes?: readonly number[], keepdims = false): Value {
    return this.reduce('ReduceSumSquare', x, axes, keepdims);
  }
  /** shape: static dims (0 copies the input dim, -1 infers one) or an int64 Value. */
  Reshape(x: Value, shape: readonly number[] | Value): Value {
    return this.op1('Reshape', [x, shape instanceof Value ? shape : this.ints(shape)]);
  }
  Flatten(x: Value, axis = 1): Value {
    return this.op1('Flatten', [x], { axis });
  }
  Transpose(x: Value, perm?: readonly number[]): Value {
    return this.op1('Transpose', [x], { perm });
  }
  Concat(xs: readonly Value[], axis: number): Value {
    return this.op1('Concat', xs, { axis });
  }
  Slice(x: Value, starts: readonly number[], ends: readonly number[], axes?: readonly number[], steps?: readonly number[]): Value {
    return this.op1('Slice', [
      x,
      this.ints(starts),
      this.ints(ends),
      axes ? this.ints(axes) : undefined,
      steps ? this.ints(steps) : undefined,
    ]);
  }
  Split(x: Value, axis: number, split: readonly number[]): Value[] {
    return this.op('Split', [x, this.ints(split)], { axis }, { outputs: split.length });
  }
  Unsqueeze(x: Value, axes: readonly number[]): Value {
    return this.op1('Unsqueeze', [x, this.ints(axes)]);
  }
  Squeeze(x: Value, axes?: readonly number[]): Value {
    return this.op1('Squeeze', [x, axes ? this.ints(axes) : undefined]);
  }
  Expand(x: Value, shape: readonly number[] | Value): Value {
    return this.op1('Expand', [x, shape instanceof Value ? shape : this.ints(shape)]);
  }
  Tile(x: Value, repeats: readonly number[]): Value {
    return this.op1('Tile', [x, this.ints(repeats)]);
  }
  Gather(x: Value, indices: Value, axis = 0): Value {
    return this.op1('Gather', [x, indices], { axis });
  }
  Identity(x: Value): Value {
    return this.op1('Identity', [x]);
  }
  Clip(x: Value, min?: Operand, max?: Operand): Value {
    return this.op1('Clip', [x, min === undefined ? undefined : this.lift(min, x), max === undefined ? undefined : this.lift(max, x)]);
  }
  Where(cond: Value, a: Operand, b: Operand): Value {
    const like = a instanceof Value ? a : b instanceof Value ? b : 'float32';
    return this.op1('Where', [cond, this.lift(a, like), this.lift(b, like)]);
  }
  Cast(x: Value, to: DType): Value {
    return this.op1('Cast', [x], { to: ONNX_DTYPE[to] });
  }
  Conv(x: Value, w: Value, b?: Value, attrs: ConvAttrs = {}): Value {
    return this.op1('Conv', [x, w, b], attrs as Record<string, AttrInput | undefined>);
  }
  ConvTranspose(x: Value, w: Value, b?: Value, attrs: ConvTransposeAttrs = {}): Value {
    return this.op1('ConvTranspose', [x, w, b], attrs as Record<string, AttrInput | undefined>);
  }
  Shape(x: Value): Value {
    return this.op1('Shape', [x]);
  }
  Equal(a: Operand, b: Operand): Value {
    return this.bin('Equal', a, b);
  }
  Less(a: Operand, b: Operand): Value {
    return this.bin('Less', a, b);
  }
  Greater(a: Operand, b: Operand): Value {
    return this.bin('Greater', a, b);
  }
  LessOrEqual(a: Operand, b: Operand): Value {
    return this.bin('LessOrEqual', a, b);
  }
  GreaterOrEqual(a: Operand, b: Operand): Value {
    return this.bin('GreaterOrEqual', a, b);
  }
  Not(x: Value): Value {
    return this.op1('Not', [x]);
  }
  And(a: Value, b: Value): Value {
    return this.op1('And', [a, b]);
  }
  Or(a: Value, b: Value): Value {
    return this.op1('Or', [a, b]);
  }
  IsNaN(x: Value): Value {
    return this.op1('IsNaN', [x]);
  }
  IsInf(x: Value): Value {
    return this.op1('IsInf', [x]);
  }
  ArgMax(x: Value, axis = 0, keepdims = false): Value {
    return this.op1('ArgMax', [x], { axis, keepdims: keepdims ? 1 : 0 });
  }
  Size(x: Value): Value {
    return this.op1('Size', [x]);
  }
  ConstantOfShape(shape: Value, value: TensorData): Value {
    return this.op1('ConstantOfShape', [shape], { value });
  }
}

export type Operand = Value | number;

export interface ConvAttrs {
  strides?: number[];
  pads?: number[];
  dilations?: number[];
  group?: number;
  kernel_shape?: number[];
  auto_pad?: string;
}
export interface ConvTransposeAttrs extends ConvAttrs {
  output_padding?: number[];
  output_shape?: number[];
}

/**
 * The IR: values, nodes and graphs, and what the IR needs to know about an operator to add a node (its OpSchema:
 * arity, attribute schema with defaults, shape rule). The IR imports no operator: op definitions register
 * themselves (ir/op-registry.ts) and the IR looks them up by op type when a node is added. The builder methods
 * named after ONNX ops (g.MatMul(a, b)) are installed on Graph by ops/builder.ts, a layer above the ops.
 */

import { GraphError } from '../errors.js';
import type { DType } from './dtype.js';
import { type Dim, formatShape, type Shape, ShapeError } from './shape.js';
import { type TensorData, tensorData } from './tensor.js';

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

/** A static attribute default, as the ONNX schema gives it. */
export type AttrDefault = number | string | readonly number[] | readonly string[];
/**
 * One attribute of an op's schema: its type, and its default where ONNX gives one that does not depend on the
 * inputs (LeakyRelu's alpha 0.01). The bare type is shorthand for an attribute without a static default.
 */
export type AttrSpec = AttrType | { readonly type: AttrType; readonly default?: AttrDefault };
export type AttrSchema = Readonly<Record<string, AttrSpec>>;

export function attrType(spec: AttrSpec): AttrType {
  return typeof spec === 'string' ? spec : spec.type;
}

export function attrDefault(spec: AttrSpec | undefined): AttrDefault | undefined {
  return spec === undefined || typeof spec === 'string' ? undefined : spec.default;
}

/**
 * Reads a node's attributes with type checks; an attribute the node does not set reads as its schema default.
 * `fallback` is only for defaults that depend on the inputs (Shape's end = the rank, Conv's strides = one 1 per
 * spatial axis): an attribute with a static default has it in the schema, and passing another is an error.
 */
export class Attrs {
  constructor(
    private readonly map: Map<string, AttrValue>,
    private readonly where: string,
    private readonly schema?: AttrSchema,
  ) {}
  /** Whether the node sets the attribute (a schema default does not count). */
  has(name: string): boolean {
    return this.map.has(name);
  }
  private read<T>(name: string, type: AttrType, fallback: T | undefined): T {
    const spec = this.schema?.[name];
    if (this.schema && spec === undefined) throw new Error(`${this.where}: attribute '${name}' is not in the op's schema`);
    if (spec !== undefined && attrType(spec) !== type) {
      throw new Error(`${this.where}: attribute '${name}' is read as ${type}, but the op's schema says ${attrType(spec)}`);
    }
    const a = this.map.get(name);
    if (a !== undefined) {
      if (a.type !== type) throw new ShapeError(`${this.where}: attribute '${name}' is ${a.type}, expected ${type}`);
      return a.value as T;
    }
    const d = attrDefault(spec);
    if (d !== undefined) {
      if (fallback !== undefined)
        throw new Error(`${this.where}: attribute '${name}' has a schema default (${String(d)}); a rule must not pass another`);
      return (Array.isArray(d) ? [...d] : d) as T;
    }
    if (fallback !== undefined) return fallback;
    throw new ShapeError(`${this.where}: required attribute '${name}' is missing`);
  }
  int(name: string, fallback?: number): number {
    return this.read(name, 'int', fallback);
  }
  float(name: string, fallback?: number): number {
    return this.read(name, 'float', fallback);
  }
  string(name: string, fallback?: string): string {
    return this.read(name, 'string', fallback);
  }
  ints(name: string, fallback?: number[]): number[] {
    return this.read(name, 'ints', fallback);
  }
  floats(name: string, fallback?: number[]): number[] {
    return this.read(name, 'floats', fallback);
  }
  tensor(name: string): TensorData {
    return this.read<TensorData>(name, 'tensor', undefined);
  }
  graph(name: string): Graph {
    return this.read<Graph>(name, 'graph', undefined);
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

export interface InferContext {
  readonly inputs: readonly (Value | undefined)[];
  readonly attrs: Attrs;
  /** Requested number of outputs for variadic-output ops. */
  readonly numOutputs: number | undefined;
  readonly graph: Graph;
  readonly nodeName: string;
}

/**
 * What the IR needs to know about an operator to add a node of it. An op definition (ir/op-schema.ts's OpDef) is
 * an OpSchema plus what autodiff, the op suite and the builder need.
 */
export interface OpSchema {
  opType: string;
  /** '' for ai.onnx. */
  domain?: string;
  /** The opset version whose schema this definition follows. */
  sinceVersion: number;
  /** [min, max] number of inputs (max may be Infinity). */
  inputs: [number, number];
  /** Attribute schema: plain JS values passed to the builder are converted with it; defaults live here. */
  attrs?: AttrSchema;
  /** The shape rule: one OutType per output; throws ShapeError when the inputs do not fit. */
  infer(ctx: InferContext): OutType[];
}

/** The registry key of an op: ai.onnx (or '') ops by type, others as `domain::type`. */
export function opKey(opType: string, domain = ''): string {
  return domain && domain !== 'ai.onnx' ? `${domain}::${opType}` : opType;
}

const SCHEMAS = new Map<string, OpSchema>();

/** The IR's side of the op registry; ir/op-registry.ts's registerOp is the one caller. */
export function registerOpSchema(def: OpSchema): void {
  SCHEMAS.set(opKey(def.opType, def.domain), def);
}

/** The schema of a registered op, as the IR sees it. */
export function opSchema(opType: string, domain = ''): OpSchema | undefined {
  return SCHEMAS.get(opKey(opType, domain));
}

export { freshDim } from './shape.js';

/**
 * A graph under construction. Nodes are added with op() (any registered op) or with the builder methods named
 * after ONNX op types (g.MatMul(a, b)), which ops/builder.ts installs; either way the op's shape rule runs at once,
 * so a mismatch fails here, naming the node and the shapes.
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
    if (this.usedNames.has(name)) throw new GraphError(`name '${name}' is already used in graph '${this.root.name}'`);
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
        out = this.op1('Identity', [v]);
        this.renameValue(out, name);
      }
    }
    if (!this.isVisible(out)) throw new GraphError(`output ${out} does not belong to graph '${this.name}'`);
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
    const def = opSchema(opType, domain);
    const nodeName = this.uniqueName(this.prefixed(opts.name ?? opType));
    const where = `node '${nodeName}' (${opType})`;
    if (!def) throw new ShapeError(`${where}: operator ${domain ? `${domain}.` : ''}${opType} has no definition in @onnxvae/core ops`);
    const ins = [...inputs];
    while (ins.length > 0 && ins[ins.length - 1] === undefined) ins.pop();
    for (const [i, v] of ins.entries()) {
      if (v && !this.isVisible(v)) throw new GraphError(`${where}: input ${i} '${v.name}' belongs to another graph`);
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
      map.set(k, toAttrValue(v, schema === undefined ? undefined : attrType(schema), `${where} attribute '${k}'`));
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
    const def = opSchema(opType, domain);
    const where = `node '${nodeName}' (${opType})`;
    if (!def) throw new ShapeError(`${where}: operator ${opType} has no definition in @onnxvae/core ops`);
    let outs: OutType[];
    try {
      outs = def.infer({ inputs: ins, attrs: new Attrs(attrs, where, def.attrs), numOutputs, graph: this, nodeName });
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

  // ---- helpers that are not ONNX ops (the ops' builder methods come from ops/builder.ts) ---------------------

  /** A scalar (rank 0) constant of the given dtype, shared within the graph. */
  scalar(v: number, dtype: DType = 'float32'): Value {
    const key = `${dtype}:${Object.is(v, -0) ? '-0' : v}`;
    const hit = this.scalarCache.get(key);
    if (hit) return hit;
    const t = tensorData(dtype, [], [dtype === 'int64' ? (BigInt(v) as unknown as number) : v]);
    const c = this.op1('Constant', [], { value: t }, { name: 'const' });
    this.scalarCache.set(key, c);
    return c;
  }

  /** An int64 vector constant (shapes, axes, pads). */
  ints(values: readonly number[]): Value {
    const t = tensorData(
      'int64',
      [values.length],
      values.map((v) => BigInt(v)),
    );
    return this.op1('Constant', [], { value: t }, { name: 'ints' });
  }

  /** Turns a number into a scalar constant of `like`'s dtype. */
  lift(x: Operand, like: Value | DType): Value {
    if (x instanceof Value) return x;
    return this.scalar(x, typeof like === 'string' ? like : like.dtype);
  }

  /** A value autodiff treats as a constant: an Identity that gradients do not flow through. */
  stopGradient(x: Value): Value {
    const y = this.op1('Identity', [x]);
    if (y.producer) y.producer.stopGradient = true;
    return y;
  }
}

export type Operand = Value | number;

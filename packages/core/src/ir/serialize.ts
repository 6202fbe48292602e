/** The one module that speaks protobuf: Graph ⇄ ONNX ModelProto bytes. */
import onnxProto from 'onnx-proto';
import { FormatError } from '../errors.js';
import { BYTES_PER_ELEMENT, type DType, dtypeFromOnnx, ONNX_DTYPE, typedArrayFor } from './dtype.js';
import { type AttrValue, Graph, type Value } from './graph.js';
import { lookupOp } from './op-registry.js';
import type { Dim } from './shape.js';
import { type TensorData, tensorData } from './tensor.js';

const { onnx } = onnxProto;

export interface SerializeOptions {
  producerName?: string;
  /** Free-form key/value metadata stored in the model. */
  metadata?: Record<string, string>;
  docString?: string;
}

/** ONNX IR version that goes with opsets 17 to 20. */
const IR_VERSION = 8;

type LongLike = number | { toNumber(): number };
function num(v: LongLike | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

function tensorToProto(name: string, t: TensorData): onnxProto.onnx.ITensorProto {
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return { name, dims: [...t.shape], dataType: ONNX_DTYPE[t.dtype], rawData: bytes.slice() };
}

/** Largest tensor a model file may declare (elements); beyond it a typed array cannot be allocated anyway. */
const MAX_ELEMENTS = 2 ** 31 - 1;

function protoToTensor(p: onnxProto.onnx.ITensorProto, where: string): TensorData {
  if (p.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new Error(`${where}: tensor '${p.name}' uses external data, which is not supported; save the model with weights embedded`);
  }
  let dtype: DType;
  try {
    dtype = dtypeFromOnnx(p.dataType ?? 0);
  } catch (e) {
    throw new Error(`${where}: tensor '${p.name}': ${(e as Error).message}`);
  }
  const shape = (p.dims ?? []).map((d) => num(d as LongLike));
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw new Error(`${where}: tensor '${p.name}' has invalid dims [${shape.join(', ')}]`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > MAX_ELEMENTS) throw new Error(`${where}: tensor '${p.name}' declares ${n} elements, more than this reader supports`);
  if (p.rawData && p.rawData.length > 0) {
    const want = n * BYTES_PER_ELEMENT[dtype];
    if (p.rawData.length !== want) {
      throw new Error(`${where}: tensor '${p.name}' has ${p.rawData.length} bytes of data but ${dtype}[${shape.join(', ')}] needs ${want}`);
    }
    const out = typedArrayFor(dtype, n);
    new Uint8Array(out.buffer).set(p.rawData);
    return tensorData(dtype, shape, out);
  }
  const src: ArrayLike<LongLike> =
    dtype === 'float32'
      ? (p.floatData ?? [])
      : dtype === 'float64'
        ? (p.doubleData ?? [])
        : dtype === 'int64'
          ? ((p.int64Data ?? []) as LongLike[])
          : (p.int32Data ?? []);
  if (src.length !== n)
    throw new Error(`${where}: tensor '${p.name}' has ${src.length} elements but shape [${shape.join(', ')}] needs ${n}`);
  const out = typedArrayFor(dtype, n);
  for (let i = 0; i < n; i++) {
    if (dtype === 'int64') (out as BigInt64Array)[i] = BigInt(num(src[i]));
    else (out as Float64Array)[i] = num(src[i]);
  }
  return tensorData(dtype, shape, out);
}

function valueInfo(v: Value): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ONNX_DTYPE[v.dtype],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attrToProto(name: string, a: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
    case 'ints':
      return { name, type: T.INTS, ints: a.value };
    case 'floats':
      return { name, type: T.FLOATS, floats: a.value };
    case 'strings':
      return { name, type: T.STRINGS, strings: a.value.map((s) => new TextEncoder().encode(s)) };
    case 'tensor':
      return { name, type: T.TENSOR, t: tensorToProto('', a.value) };
    case 'graph':
      return { name, type: T.GRAPH, g: graphToProto(a.value) };
  }
}

export function graphToProto(g: Graph): onnxProto.onnx.IGraphProto {
  return {
    name: g.name,
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
    initializer: g.initializers.map((v) => tensorToProto(v.name, v.constValue as TensorData)),
    node: g.nodes.map((n) => ({
      name: n.name,
      opType: n.opType,
      domain: n.domain,
      input: n.inputs.map((v) => (v ? v.name : '')),
      output: n.outputs.map((v) => v.name),
      attribute: [...n.attrs.entries()].map(([k, a]) => attrToProto(k, a)),
    })),
  };
}

export function toModelProto(g: Graph, opts: SerializeOptions = {}): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: opts.producerName ?? 'onnxvae',
    producerVersion: '0.1.0',
    docString: opts.docString ?? '',
    opsetImport: [{ domain: '', version: g.opset }],
    graph: graphToProto(g),
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
}

/** Serializes a graph to the bytes of an .onnx file. */
export function serializeModel(g: Graph, opts: SerializeOptions = {}): Uint8Array {
  return onnx.ModelProto.encode(toModelProto(g, opts)).finish();
}

export interface ParsedModel {
  graph: Graph;
  opset: number;
  producerName: string;
  metadata: Record<string, string>;
}

/** An .onnx file that cannot be read: the message names the file (and the node or tensor at fault). */
export class ModelParseError extends FormatError {
  override name = 'ModelParseError';
}

/**
 * Reads an .onnx file (made here or elsewhere, e.g. by PyTorch's exporter) back into a Graph, running every
 * node's shape rule. `source` names the file in errors, which are all ModelParseError.
 */
export function parseModel(bytes: Uint8Array, source = 'model'): ParsedModel {
  try {
    return readModel(bytes, source);
  } catch (e) {
    if (e instanceof ModelParseError) throw e;
    // Every error names the file; a malformed model that slips past the checks (a TypeError deep in a shape rule,
    // a stack overflow from subgraphs nested thousands deep) still fails as a ModelParseError.
    const msg = e instanceof Error ? e.message : String(e);
    const why = e instanceof RangeError && /call stack/i.test(msg) ? 'subgraphs are nested too deeply' : msg;
    const text = msg.startsWith(`${source}:`)
      ? msg
      : `${source}: ${e instanceof TypeError || e instanceof RangeError ? `malformed ONNX model (${why})` : msg}`;
    throw new ModelParseError(text, { cause: e });
  }
}

function readModel(bytes: Uint8Array, source: string): ParsedModel {
  if (bytes.length === 0) throw new Error(`${source}: the file is empty, not an ONNX model`);
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    const msg = (e as Error).message;
    const why = e instanceof RangeError && /call stack/i.test(msg) ? 'messages nested too deeply' : msg;
    throw new Error(`${source}: not a valid ONNX model (truncated or corrupt protobuf: ${why})`);
  }
  if (!model.graph) throw new Error(`${source}: not a valid ONNX model (no graph; truncated or not an .onnx file)`);
  const opset = num((model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version as LongLike | undefined);
  if (!opset) throw new Error(`${source}: the model declares no ai.onnx opset`);
  const graph = new Graph(model.graph.name || 'main');
  graph.opset = opset;
  readGraph(graph, model.graph, source, new Map());
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) metadata[p.key ?? ''] = p.value ?? '';
  return { graph, opset, producerName: model.producerName ?? '', metadata };
}

let anonCounter = 0;

function readValueType(vi: onnxProto.onnx.IValueInfoProto, where: string): { dtype: DType; shape: Dim[] } {
  const tt = vi.type?.tensorType;
  if (!tt) throw new Error(`${where}: value '${vi.name}' is not a tensor (sequences and maps are not supported)`);
  let dtype: DType;
  try {
    dtype = dtypeFromOnnx(tt.elemType ?? 0);
  } catch (e) {
    throw new Error(`${where}: value '${vi.name}': ${(e as Error).message}`);
  }
  const shape: Dim[] = (tt.shape?.dim ?? []).map((d) => {
    if (d.dimParam) return d.dimParam;
    if (d.dimValue !== null && d.dimValue !== undefined && num(d.dimValue as LongLike) > 0) return num(d.dimValue as LongLike);
    anonCounter += 1;
    return `unk_${anonCounter}`;
  });
  return { dtype, shape };
}

function readGraph(g: Graph, gp: onnxProto.onnx.IGraphProto, source: string, outer: Map<string, Value>): void {
  const scope = new Map(outer);
  const inits = new Set((gp.initializer ?? []).map((t) => t.name ?? ''));
  for (const t of gp.initializer ?? []) {
    const v = g.initializer(t.name ?? '', protoToTensor(t, source));
    scope.set(v.name, v);
  }
  for (const vi of gp.input ?? []) {
    if (inits.has(vi.name ?? '')) continue;
    const { dtype, shape } = readValueType(vi, source);
    scope.set(vi.name ?? '', g.input(vi.name ?? '', dtype, shape));
  }
  // Node and value names share one namespace here, in ONNX they do not: a node may not take a value's name.
  const valueNames = new Set((gp.node ?? []).flatMap((np) => np.output ?? []));
  for (const [i, np] of (gp.node ?? []).entries()) {
    const opType = np.opType ?? '';
    const base = np.name || `${opType}_${i}`;
    const nodeName = g.uniqueName(valueNames.has(base) ? `${base}_node` : base);
    const where = `${source}: node '${nodeName}' (${opType})`;
    const ins = (np.input ?? []).map((name) => {
      if (!name) return undefined;
      const v = scope.get(name);
      if (!v) throw new Error(`${where}: input '${name}' is not produced by any earlier node, initializer or graph input`);
      return v;
    });
    // Checks the builder's op() makes, which addNode leaves to its callers: the op, its input count, its attributes.
    const domain = np.domain ?? '';
    const def = lookupOp(opType, domain);
    if (!def) {
      throw new Error(
        `${where}: operator ${domain && domain !== 'ai.onnx' ? `${domain}.` : ''}${opType || '(empty op_type)'} is not supported by @onnxvae/core (no definition in its ops)`,
      );
    }
    const [minIn, maxIn] = def.inputs;
    // Counted as ONNX does: omitted optional inputs ('') hold their positions.
    if (ins.length < minIn || ins.length > maxIn) {
      throw new Error(`${where}: takes ${minIn === maxIn ? minIn : `${minIn} to ${maxIn}`} inputs, the file gives ${ins.length}`);
    }
    const attrs = new Map<string, AttrValue>();
    for (const ap of np.attribute ?? []) {
      const name = ap.name ?? '';
      if (def.attrs && !Object.hasOwn(def.attrs, name)) {
        throw new Error(
          `${where}: unknown attribute '${name}' (known: ${Object.keys(def.attrs).join(', ') || 'none'}); the model's opset is ${g.opset}, this reader follows opset 18 schemas`,
        );
      }
      attrs.set(name, readAttr(ap, g, scope, `${where} attribute '${name}'`, source));
    }
    let node: ReturnType<Graph['addNode']>;
    try {
      node = g.addNode(opType, np.domain ?? '', nodeName, ins, attrs, (np.output ?? []).length, np.output ?? []);
    } catch (e) {
      throw new Error(`${source}: ${(e as Error).message}`);
    }
    for (const v of node.outputs) scope.set(v.name, v);
  }
  for (const vi of gp.output ?? []) {
    const v = scope.get(vi.name ?? '');
    if (!v) throw new Error(`${source}: graph output '${vi.name}' is not produced by any node`);
    g.outputs.push(v);
  }
}

function readAttr(ap: onnxProto.onnx.IAttributeProto, parent: Graph, scope: Map<string, Value>, where: string, source: string): AttrValue {
  const T = onnx.AttributeProto.AttributeType;
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);
  switch (ap.type) {
    case T.INT:
      return { type: 'int', value: num(ap.i as LongLike) };
    case T.FLOAT:
      return { type: 'float', value: ap.f ?? 0 };
    case T.STRING:
      return { type: 'string', value: dec(ap.s ?? new Uint8Array()) };
    case T.INTS:
      return { type: 'ints', value: (ap.ints ?? []).map((v) => num(v as LongLike)) };
    case T.FLOATS:
      return { type: 'floats', value: [...(ap.floats ?? [])] };
    case T.STRINGS:
      return { type: 'strings', value: (ap.strings ?? []).map(dec) };
    case T.TENSOR:
      return { type: 'tensor', value: protoToTensor(ap.t ?? {}, where) };
    case T.GRAPH: {
      const sub = new Graph(ap.g?.name || 'body', parent);
      readGraph(sub, ap.g ?? {}, source, scope);
      return { type: 'graph', value: sub };
    }
    default:
      throw new Error(`${where}: attribute type ${ap.type} is not supported`);
  }
}

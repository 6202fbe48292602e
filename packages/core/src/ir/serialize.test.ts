import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { gradients } from '../autodiff/gradients.js';
import { fromOrtTensor, toOrtTensor } from '../runtime/tensors.js';
import { mulberry32 } from '../testing/op-check.js';
import { Graph } from './graph.js';
import { parseModel, serializeModel } from './serialize.js';
import { type TensorData, tensorData } from './tensor.js';

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

async function runBytes(bytes: Uint8Array, feeds: Record<string, TensorData>): Promise<Record<string, TensorData>> {
  const s = await ort.InferenceSession.create(bytes);
  const f: Record<string, ReturnType<typeof toOrtTensor>> = {};
  for (const [k, t] of Object.entries(feeds)) f[k] = toOrtTensor(ort, t);
  const r = await s.run(f);
  const out: Record<string, TensorData> = {};
  for (const [k, t] of Object.entries(r)) out[k] = fromOrtTensor(t);
  return out;
}

function randomTensor(dtype: 'float32' | 'float64', shape: number[], rand: () => number): TensorData {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensorData(
    dtype,
    shape,
    Array.from({ length: n }, () => rand() * 2 - 1),
  );
}

describe('serialize → parse → serialize', () => {
  /** A model that exercises every attribute kind the builder emits, symbolic dims, scopes and a Loop body. */
  function build(): Graph {
    const g = new Graph('roundtrip');
    const x = g.input('x', 'float64', ['batch', 4]);
    const w = g.initializer('enc.w', tensorData('float64', [4, 3], [0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8, 0.9, 1, -1.1, 1.2]));
    const h = g.scope('enc', () => g.LeakyRelu(g.MatMul(x, w), 0.2));
    const clipped = g.Clip(h, -0.75, 0.75);
    const m = g.ReduceMean(clipped, [1], true);
    const [acc] = g.Loop(3, [m], (b, iter, [v]) => [b.Add(b.Mul(v, b.scalar(0.5, 'float64')), b.Cast(iter, 'float64'))]);
    const n = g.Cast(g.op1('Shape', [x], { start: 0, end: 1 }), 'float64');
    g.output(g.Div(acc, n), 'y');
    g.output(g.Where(g.Greater(h, 0), h, g.Exp(h)), 'z');
    return g;
  }

  it('gives identical bytes and identical ORT outputs', async () => {
    const bytes = serializeModel(build(), { producerName: 'roundtrip-test', metadata: { purpose: 'test' }, docString: 'd' });
    const parsed = parseModel(bytes, 'roundtrip.onnx');
    expect(parsed.producerName).toBe('roundtrip-test');
    expect(parsed.metadata).toEqual({ purpose: 'test' });
    const again = serializeModel(parsed.graph, { producerName: parsed.producerName, metadata: parsed.metadata, docString: 'd' });
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
    const feeds = { x: randomTensor('float64', [5, 4], mulberry32(11)) };
    const a = await runBytes(bytes, feeds);
    const b = await runBytes(again, feeds);
    expect(a.y.shape).toEqual([5, 1]);
    expect(b).toEqual(a);
  });
});

// ---- a model written by hand the way PyTorch's exporter (torch.onnx.export, opset 17) writes one --------------------

const FC1 = { out: 8, in: 12 };
const FC2 = { out: 6, in: 8 };

interface TorchWeights {
  'fc1.weight': TensorData;
  'fc1.bias': TensorData;
  'fc2.weight': TensorData;
  'fc2.bias': TensorData;
}

function torchWeights(rand: () => number): TorchWeights {
  return {
    'fc1.weight': randomTensor('float32', [FC1.out, FC1.in], rand),
    'fc1.bias': randomTensor('float32', [FC1.out], rand),
    'fc2.weight': randomTensor('float32', [FC2.out, FC2.in], rand),
    'fc2.bias': randomTensor('float32', [FC2.out], rand),
  };
}

type ModelEdit = (m: onnxProto.onnx.IModelProto) => void;

/**
 * input [batch_size, 2, 6] → Flatten → Gemm(fc1, transB=1) → Relu → Gemm(fc2, transB=1) → Reshape to
 * [batch_size, 2, 3] with the dynamic shape Concat(Unsqueeze(Gather(Shape(input), 0)), [2, 3]) → Sigmoid → output.
 * Initializers are also listed as graph inputs (the pre-IR-4 style older exporters keep), nodes have empty names.
 */
function torchStyleModel(w: TorchWeights, edit?: ModelEdit): Uint8Array {
  const vi = (name: string, dims: (number | string)[], elemType: number = DT.FLOAT): onnxProto.onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  const init = (name: keyof TorchWeights): onnxProto.onnx.ITensorProto => {
    const t = w[name];
    const f = t.data as Float32Array;
    return {
      name,
      dims: [...t.shape],
      dataType: DT.FLOAT,
      rawData: new Uint8Array(f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength)),
    };
  };
  const node = (opType: string, input: string[], output: string[], attribute: onnxProto.onnx.IAttributeProto[] = []) => ({
    name: '',
    opType,
    input,
    output,
    attribute,
  });
  const names = Object.keys(w) as (keyof TorchWeights)[];
  const model: onnxProto.onnx.IModelProto = {
    irVersion: 8,
    producerName: 'pytorch',
    producerVersion: '2.1.0',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'main_graph',
      input: [vi('input', ['batch_size', 2, 6]), ...names.map((n) => vi(n, [...w[n].shape] as number[]))],
      initializer: names.map(init),
      node: [
        node('Flatten', ['input'], ['/Flatten_output_0'], [{ name: 'axis', type: AT.INT, i: 1 }]),
        node(
          'Gemm',
          ['/Flatten_output_0', 'fc1.weight', 'fc1.bias'],
          ['/fc1/Gemm_output_0'],
          [
            { name: 'alpha', type: AT.FLOAT, f: 1 },
            { name: 'beta', type: AT.FLOAT, f: 1 },
            { name: 'transB', type: AT.INT, i: 1 },
          ],
        ),
        node('Relu', ['/fc1/Gemm_output_0'], ['/relu/Relu_output_0']),
        node(
          'Gemm',
          ['/relu/Relu_output_0', 'fc2.weight', 'fc2.bias'],
          ['/fc2/Gemm_output_0'],
          [
            { name: 'alpha', type: AT.FLOAT, f: 1 },
            { name: 'beta', type: AT.FLOAT, f: 1 },
            { name: 'transB', type: AT.INT, i: 1 },
          ],
        ),
        node('Shape', ['input'], ['/Shape_output_0']),
        node(
          'Constant',
          [],
          ['/Constant_output_0'],
          [{ name: 'value', type: AT.TENSOR, t: { dims: [], dataType: DT.INT64, rawData: new Uint8Array(8) } }],
        ),
        node('Gather', ['/Shape_output_0', '/Constant_output_0'], ['/Gather_output_0'], [{ name: 'axis', type: AT.INT, i: 0 }]),
        node('Constant', [], ['/Constant_1_output_0'], [{ name: 'value_ints', type: AT.INTS, ints: [0] }]),
        node('Unsqueeze', ['/Gather_output_0', '/Constant_1_output_0'], ['/Unsqueeze_output_0']),
        node('Constant', [], ['/Constant_2_output_0'], [{ name: 'value_ints', type: AT.INTS, ints: [2, 3] }]),
        node('Concat', ['/Unsqueeze_output_0', '/Constant_2_output_0'], ['/Concat_output_0'], [{ name: 'axis', type: AT.INT, i: 0 }]),
        node('Reshape', ['/fc2/Gemm_output_0', '/Concat_output_0'], ['/Reshape_output_0']),
        node('Sigmoid', ['/Reshape_output_0'], ['output']),
      ],
      output: [vi('output', ['batch_size', 2, 3])],
    },
  };
  edit?.(model);
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** The same network in float64 JS: sigmoid(fc2(relu(fc1(flatten(x))))), reshaped [b, 2, 3] (row-major, so flat). */
function torchForward64(w: Record<string, ArrayLike<number>>, x: ArrayLike<number>, batch: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const h: number[] = [];
    for (let o = 0; o < FC1.out; o++) {
      let s = w['fc1.bias'][o];
      for (let i = 0; i < FC1.in; i++) s += x[b * FC1.in + i] * w['fc1.weight'][o * FC1.in + i];
      h.push(Math.max(0, s));
    }
    for (let o = 0; o < FC2.out; o++) {
      let s = w['fc2.bias'][o];
      for (let i = 0; i < FC2.in; i++) s += h[i] * w['fc2.weight'][o * FC2.in + i];
      out.push(1 / (1 + Math.exp(-s)));
    }
  }
  return out;
}

describe('a model written the way PyTorch exports one', () => {
  const weights = torchWeights(mulberry32(5));
  const bytes = torchStyleModel(weights);
  const batch = 4;
  const x = randomTensor('float32', [batch, 2, 6], mulberry32(6));

  it('parses into a Graph whose dynamic reshape resolves to [batch_size, 2, 3]', () => {
    const { graph, opset, producerName } = parseModel(bytes, 'torch.onnx');
    expect(opset).toBe(17);
    expect(producerName).toBe('pytorch');
    // Initializers listed as inputs too are initializers, not inputs.
    expect(graph.inputs.map((v) => v.name)).toEqual(['input']);
    expect(graph.initializers.map((v) => v.name)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    const concat = graph.nodes.find((n) => n.opType === 'Concat');
    expect(concat?.outputs[0].dims).toEqual(['batch_size', 2, 3]);
    expect(graph.outputs[0].shape).toEqual(['batch_size', 2, 3]);
    expect(graph.outputs[0].name).toBe('output');
    // Empty node names get readable, unique ones.
    expect(new Set(graph.nodes.map((n) => n.name)).size).toBe(graph.nodes.length);
    expect(graph.nodes.every((n) => n.name.length > 0)).toBe(true);
  });

  it('runs on ORT with the same outputs as the original bytes', async () => {
    const reserialized = serializeModel(parseModel(bytes, 'torch.onnx').graph);
    const a = await runBytes(bytes, { input: x });
    const b = await runBytes(reserialized, { input: x });
    expect(a.output.shape).toEqual([batch, 2, 3]);
    expect(b.output).toEqual(a.output);
    // And with the float64 reference: float32 rounding over ≤ 12-term sums stays far below 1e-5.
    const w64: Record<string, ArrayLike<number>> = {};
    for (const [k, t] of Object.entries(weights)) w64[k] = t.data as Float32Array;
    const ref = torchForward64(w64, x.data as Float32Array, batch);
    Array.from(a.output.data as Float32Array).forEach((v, i) => {
      expect(Math.abs(v - ref[i])).toBeLessThan(1e-5);
    });
  });

  it('can be differentiated: ∂ ReduceSum(output)/∂ fc1.weight matches central differences', async () => {
    const { graph } = parseModel(bytes, 'torch.onnx');
    const w1 = graph.initializers.find((v) => v.name === 'fc1.weight');
    if (!w1) throw new Error('fc1.weight missing');
    const loss = graph.ReduceSum(graph.outputs[0]);
    const [dw] = gradients(graph, loss, [w1]);
    expect(dw.name).toBe('fc1.weight_grad');
    expect(dw.shape).toEqual([FC1.out, FC1.in]);
    graph.output(dw);
    const r = await runBytes(serializeModel(graph), { input: x });
    const analytic = Array.from(r[dw.name].data as Float32Array);

    // Central differences of the float64 reference (weights as the float32 model holds them): h = 1e-6 leaves
    // truncation ~1e-12 and rounding ~1e-10. ORT's float32 gradient carries ε₃₂ = 6e-8 per op over sums of ≤ 4·8
    // terms of size ≤ 1, so 1e-4 (relative to max(1, |g|)) bounds it with a wide margin.
    const w64: Record<string, number[]> = {};
    for (const [k, t] of Object.entries(weights)) w64[k] = Array.from(t.data as Float32Array);
    const xs = Array.from(x.data as Float32Array);
    const lossAt = (wm: number[]) => torchForward64({ ...w64, 'fc1.weight': wm }, xs, batch).reduce((s, v) => s + v, 0);
    const h = 1e-6;
    let maxErr = 0;
    for (let e = 0; e < FC1.out * FC1.in; e++) {
      const plus = [...w64['fc1.weight']];
      const minus = [...w64['fc1.weight']];
      plus[e] += h;
      minus[e] -= h;
      const numeric = (lossAt(plus) - lossAt(minus)) / (2 * h);
      maxErr = Math.max(maxErr, Math.abs(numeric - analytic[e]) / Math.max(1, Math.abs(numeric)));
    }
    expect(maxErr).toBeLessThan(1e-4);
    // The gradient is not trivially zero (Relu kept some units active).
    expect(analytic.some((v) => Math.abs(v) > 1e-3)).toBe(true);
  });
});

describe('corrupt or unsupported input gives a clear Error', () => {
  const good = torchStyleModel(torchWeights(mulberry32(5)));

  /** Parses and returns the error, checking it is a plain Error that names the file (no TypeError from deep inside). */
  function parseError(bytes: Uint8Array): Error {
    let err: unknown;
    try {
      parseModel(bytes, 'bad.onnx');
    } catch (e) {
      err = e;
    }
    expect(err, 'parseModel should have thrown').toBeInstanceOf(Error);
    const e = err as Error;
    expect(e).not.toBeInstanceOf(TypeError);
    expect(e).not.toBeInstanceOf(RangeError);
    expect(e.message).toMatch(/^bad\.onnx: /);
    expect(e.message).not.toMatch(/Cannot read propert|of undefined|is not a function|is not iterable/);
    return e;
  }

  it('an empty file', () => {
    expect(parseError(new Uint8Array()).message).toMatch(/the file is empty/);
  });

  it('a file truncated at any point', () => {
    // Every cut point: each leaves a length-delimited field unfinished, or the graph or opset missing.
    for (let cut = 1; cut < good.length; cut++) parseError(good.slice(0, cut));
  });

  it('random bytes', () => {
    const rand = mulberry32(99);
    for (let k = 0; k < 300; k++) {
      const n = 1 + Math.floor(rand() * 400);
      parseError(Uint8Array.from({ length: n }, () => Math.floor(rand() * 256)));
    }
  });

  it('single corrupted bytes in a valid model either parse or fail cleanly', () => {
    const rand = mulberry32(7);
    let failed = 0;
    for (let k = 0; k < 2000; k++) {
      const b = Uint8Array.from(good);
      b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      try {
        parseModel(b, 'bad.onnx');
      } catch {
        parseError(b);
        failed++;
      }
    }
    // Most flips land in structure (names, tags, lengths) rather than weight bytes, and must be caught.
    expect(failed).toBeGreaterThan(500);
  });

  it('a valid protobuf that is not a model', () => {
    const tensor = onnx.TensorProto.encode({ name: 'w', dims: [2], dataType: DT.FLOAT, floatData: [1, 2] }).finish();
    parseError(tensor);
    const graphOnly = onnx.GraphProto.encode({ name: 'g', node: [{ opType: 'Relu', input: ['x'], output: ['y'] }] }).finish();
    parseError(graphOnly);
  });

  it('a tensor stored as external data', () => {
    const bytes = torchStyleModel(torchWeights(mulberry32(5)), (m) => {
      const t = m.graph?.initializer?.[0];
      if (!t) throw new Error('no initializer');
      t.rawData = new Uint8Array();
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.externalData = [{ key: 'location', value: 'weights.bin' }];
    });
    expect(parseError(bytes).message).toMatch(/tensor 'fc1.weight' uses external data, which is not supported/);
  });

  it('an unknown operator, naming the op and the node', () => {
    const bytes = torchStyleModel(torchWeights(mulberry32(5)), (m) => {
      const n = m.graph?.node?.[2];
      if (!n) throw new Error('no node');
      n.opType = 'FancyActivation';
      n.name = '/act/FancyActivation';
    });
    expect(parseError(bytes).message).toMatch(
      /node '\/act\/FancyActivation' \(FancyActivation\): operator FancyActivation is not supported/,
    );
    const custom = torchStyleModel(torchWeights(mulberry32(5)), (m) => {
      const n = m.graph?.node?.[2];
      if (n) n.domain = 'com.microsoft';
    });
    expect(parseError(custom).message).toMatch(/operator com\.microsoft\.Relu is not supported/);
  });

  it('an input that refers to an undefined value', () => {
    const bytes = torchStyleModel(torchWeights(mulberry32(5)), (m) => {
      const n = m.graph?.node?.[2];
      if (n) n.input = ['/nowhere_output_0'];
    });
    expect(parseError(bytes).message).toMatch(/input '\/nowhere_output_0' is not produced by any earlier node, initializer or graph input/);
  });

  it('a node with too few inputs, an attribute from an older opset, huge dims', () => {
    const few = torchStyleModel(torchWeights(mulberry32(5)), (m) => {
      const n = m.graph?.node?.[1];
      if (n) n.input = ['/Flatten_output_0'];
    });
    expect(parseError(few).message).toMatch(/\(Gemm\): takes 2 to 3 inputs, the file gives 1/);
    const oldAttr = torchStyleModel(torchWeights(mulberry32(5)), (m) => {
      const n = m.graph?.node?.[8];
      if (!n) return;
      n.attribute = [{ name: 'axes', type: AT.INTS, ints: [0] }];
    });
    expect(parseError(oldAttr).message).toMatch(/\(Unsqueeze\): unknown attribute 'axes'/);
    const huge = torchStyleModel(torchWeights(mulberry32(5)), (m) => {
      const t = m.graph?.initializer?.[1];
      if (t) t.dims = [1e12];
    });
    expect(parseError(huge).message).toMatch(/tensor 'fc1.bias' declares 1000000000000 elements/);
  });
});

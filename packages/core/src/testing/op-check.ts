/**
 * The table-driven operator checker: for one op case it builds the graph, runs it on a real ONNX Runtime, compares
 * the forward pass with the op's float64 reference and its shape rule with the shape ORT returns, and checks every
 * differentiable input's gradient against central differences.
 */
import { gradients } from '../autodiff/gradients.js';
import { type DType, isFloat } from '../ir/dtype.js';
import { Attrs, Graph, type Value } from '../ir/graph.js';
import type { CaseInput, OpCase, OpDef } from '../ir/op-schema.js';
import { serializeModel } from '../ir/serialize.js';
import { formatShape } from '../ir/shape.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
// Registers the ops and installs the builder methods the checker's graphs use.
import '../ops/builder.js';
import type { OrtModule } from '../runtime/runtime.js';
import { fromOrtTensor, toOrtTensor } from '../runtime/tensors.js';

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface CheckResult {
  dtype: 'float64' | 'float32';
  forwardMaxErr: number;
  /** Per checked input: max |analytic − numeric| / max(1, max |numeric|). */
  gradErr: { input: number; err: number }[];
  gradTol: number;
}

function makeInput(ci: CaseInput, dtype: DType, rand: () => number): TensorData {
  const n = ci.shape.reduce((a, b) => a * b, 1);
  const dt = ci.dtype ?? dtype;
  if (ci.values) {
    if (ci.values.length !== n) throw new Error(`case input has ${ci.values.length} values for shape ${formatShape(ci.shape)}`);
    return tensorData(dt, ci.shape, dt === 'int64' ? ci.values.map((v) => BigInt(v)) : ci.values);
  }
  const [lo, hi] = ci.domain ?? [-1, 1];
  const vals = Array.from({ length: n }, () => lo + (hi - lo) * rand());
  return tensorData(dt, ci.shape, dt === 'int64' ? vals.map((v) => BigInt(Math.round(v))) : vals);
}

function castTo(t: TensorData, dtype: DType): TensorData {
  if (t.dtype === dtype || !isFloat(t.dtype)) return t;
  return tensorData(dtype, t.shape, Array.from(t.data as Float64Array));
}

const NOT_IMPLEMENTED = /Could not find an implementation|NOT_IMPLEMENTED|not supported|Unsupported data type|unsupported/i;

/**
 * Checks one case. Runs in float64 when the case asks for it and ORT has float64 kernels for the op; otherwise
 * falls back to float32 with a looser tolerance (stated in the result).
 */
export async function checkOpCase(ort: OrtModule, def: OpDef, c: OpCase, seed = 1): Promise<CheckResult> {
  const want = c.dtype ?? 'float64';
  try {
    return await runCase(ort, def, c, want, seed);
  } catch (e) {
    if (want === 'float64' && NOT_IMPLEMENTED.test((e as Error).message)) return runCase(ort, def, c, 'float32', seed);
    throw e;
  }
}

async function runCase(ort: OrtModule, def: OpDef, c: OpCase, dtype: 'float64' | 'float32', seed: number): Promise<CheckResult> {
  const rand = mulberry32(seed);
  const data = c.inputs.map((ci) => castTo(makeInput(ci, 'float64', rand), ci.dtype ?? dtype));
  const attrs = c.attrs ?? {};

  // Forward graph.
  const build = (g: Graph) => {
    const ins: Value[] = data.map((t, i) => (c.inputs[i].constant ? g.Constant(t, `c${i}`) : g.input(`x${i}`, t.dtype, t.shape)));
    const outs = g.op(def.opType, ins, castAttrs(attrs, dtype), c.outputs ? { outputs: c.outputs } : {});
    return { ins, outs };
  };
  const fg = new Graph(`check_${def.opType}`);
  const { outs } = build(fg);
  for (const [i, o] of outs.entries()) fg.output(o, `y${i}`);
  const fwd = await ort.InferenceSession.create(serializeModel(fg));
  const feedsFor = (ts: TensorData[]) => {
    const f: Record<string, ReturnType<typeof toOrtTensor>> = {};
    ts.forEach((t, i) => {
      if (!c.inputs[i].constant) f[`x${i}`] = toOrtTensor(ort, t);
    });
    return f;
  };
  const run = async (ts: TensorData[]) => {
    const r = await fwd.run(feedsFor(ts));
    return outs.map((_, i) => fromOrtTensor(r[`y${i}`]));
  };
  const ys = await run(data);

  // Shape rule against the shape ORT returns; forward against the float64 reference.
  ys.forEach((y, i) => {
    if (formatShape(y.shape) !== formatShape(outs[i].shape) || y.dtype !== outs[i].dtype) {
      throw new Error(
        `${def.opType}${c.name ? ` (${c.name})` : ''}: shape rule says output ${i} is ${outs[i].dtype}${formatShape(outs[i].shape)}, ORT returned ${y.dtype}${formatShape(y.shape)}`,
      );
    }
  });
  let forwardMaxErr = 0;
  if (def.reference) {
    const refIns = data.map((t) => castTo(t, isFloat(t.dtype) ? 'float64' : t.dtype));
    const refs = def.reference(refIns, new Attrs(fg.nodes[fg.nodes.length - 1].attrs, def.opType, def.attrs));
    refs.forEach((r, i) => {
      const y = ys[i];
      if (r.data.length !== y.data.length)
        throw new Error(`${def.opType}: reference output ${i} has ${r.data.length} elements, ORT ${y.data.length}`);
      for (let k = 0; k < r.data.length; k++) {
        const a = Number(r.data[k]);
        const b = Number(y.data[k]);
        if (Number.isNaN(a) && Number.isNaN(b)) continue;
        if (a === b) continue;
        forwardMaxErr = Math.max(forwardMaxErr, Math.abs(a - b) / Math.max(1, Math.abs(a)));
      }
    });
  }

  const gradErr: { input: number; err: number }[] = [];
  // Central differences: float64 with h = 1e-6 leaves truncation ~h²·f''' ≈ 1e-12 and rounding ~1e-16/h ≈ 1e-10;
  // float32 needs a large h (rounding ~6e-8/h) so truncation dominates, hence the looser tolerance.
  const h = c.h ?? (dtype === 'float64' ? 1e-6 : 1e-2);
  const gradTol = c.tol ?? (dtype === 'float64' ? 1e-6 : 2e-2);
  if (def.grad === 'none' || c.noGrad) return { dtype, forwardMaxErr, gradErr, gradTol };
  const diff = def.differentiable;
  const wrt =
    c.wrt ??
    data.map((_, i) => i).filter((i) => isFloat(data[i].dtype) && !c.inputs[i].constant && (diff === undefined || diff.includes(i)));
  const floatOuts = outs.map((_, i) => i).filter((i) => isFloat(outs[i].dtype));
  if (wrt.length === 0 || floatOuts.length === 0) return { dtype, forwardMaxErr, gradErr, gradTol };

  // Gradient graph: L = Σᵢ Σ yᵢ·wᵢ with random weights wᵢ, so every output element is probed.
  const weights = floatOuts.map((i) =>
    tensorData(
      outs[i].dtype,
      outs[i].shape as number[],
      Array.from({ length: ys[i].data.length }, () => rand() * 2 - 1),
    ),
  );
  const gg = new Graph(`grad_${def.opType}`);
  const b = build(gg);
  const terms = floatOuts.map((i, k) => gg.ReduceSum(gg.Mul(b.outs[i], gg.input(`w${k}`, weights[k].dtype, weights[k].shape))));
  const loss = terms.reduce((p, q) => gg.Add(p, q));
  const grads = gradients(
    gg,
    loss,
    wrt.map((i) => b.ins[i]),
  );
  for (const [k, gv] of grads.entries()) gg.output(gv, `g${k}`);
  const gs = await ort.InferenceSession.create(serializeModel(gg));
  const feeds = feedsFor(data);
  weights.forEach((w, k) => {
    feeds[`w${k}`] = toOrtTensor(ort, w);
  });
  const gr = await gs.run(feeds);

  const lossOf = async (ts: TensorData[]) => {
    const yv = await run(ts);
    let s = 0;
    floatOuts.forEach((i, k) => {
      for (let e = 0; e < yv[i].data.length; e++) s += Number(yv[i].data[e]) * Number(weights[k].data[e]);
    });
    return s;
  };
  for (const [k, i] of wrt.entries()) {
    const analytic = fromOrtTensor(gr[`g${k}`]);
    if (formatShape(analytic.shape) !== formatShape(data[i].shape)) {
      throw new Error(
        `${def.opType}: gradient of input ${i} has shape ${formatShape(analytic.shape)}, input is ${formatShape(data[i].shape)}`,
      );
    }
    let maxDiff = 0;
    let maxNum = 0;
    for (let e = 0; e < data[i].data.length; e++) {
      const plus = data.map((t) => t);
      const minus = data.map((t) => t);
      const xp = new (data[i].data.constructor as Float64ArrayConstructor)(data[i].data as Float64Array);
      const xm = new (data[i].data.constructor as Float64ArrayConstructor)(data[i].data as Float64Array);
      xp[e] += h;
      xm[e] -= h;
      plus[i] = tensorData(data[i].dtype, data[i].shape, xp);
      minus[i] = tensorData(data[i].dtype, data[i].shape, xm);
      const num = ((await lossOf(plus)) - (await lossOf(minus))) / (2 * h);
      maxDiff = Math.max(maxDiff, Math.abs(num - Number(analytic.data[e])));
      maxNum = Math.max(maxNum, Math.abs(num));
    }
    gradErr.push({ input: i, err: maxDiff / Math.max(1, maxNum) });
  }
  return { dtype, forwardMaxErr, gradErr, gradTol };
}

/** Float attributes of Constant-like tensor attrs follow the case dtype. */
function castAttrs(attrs: Record<string, unknown>, dtype: DType): Record<string, never> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'object' && v !== null && 'dtype' in v && 'data' in v && isFloat((v as TensorData).dtype))
      out[k] = castTo(v as TensorData, dtype);
    else out[k] = v;
  }
  return out as Record<string, never>;
}

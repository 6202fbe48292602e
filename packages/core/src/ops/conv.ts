/**
 * ONNX Conv (opset 11 schema, unchanged through opset 18): N-D convolution of X [N, C, L…] with W [M, C/group, k…]
 * and an optional bias B [M], with strides, dilations, explicit or automatic padding, and groups.
 *
 *   Y[n, m, o] = B[m] + Σ_{c, i} X[n, grp(m)·C/G + c, o·s + i·d − p] · W[m, c, i]     (grp(m) = ⌊m / (M/G)⌋)
 *
 * The shared geometry (attributes resolved against static spatial sizes) and the weight-gradient construction also
 * serve conv-transpose.ts. Spatial dims must be static; the batch dim may be symbolic.
 */
import type { AttrInput, Attrs, Graph, Value } from '../ir/graph.js';
import type { Op, OpCase } from '../ir/op-schema.js';
import { type Dim, formatShape, ShapeError } from '../ir/shape.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { need, requireFloat, strides as rowMajorStrides, sameDType } from './common.js';

/** Conv's attributes as the builder takes them; one left out takes its default (from the schema, or per axis). */
export interface ConvAttrs {
  strides?: number[];
  pads?: number[];
  dilations?: number[];
  group?: number;
  kernel_shape?: number[];
  auto_pad?: string;
}

/** g.Conv(x, w, b?, attrs?) */
function conv(g: Graph, x: Value, w: Value, b?: Value, attrs: ConvAttrs = {}): Value {
  return g.op1('Conv', [x, w, b], attrs as Record<string, AttrInput | undefined>);
}

/** A Conv's or ConvTranspose's attributes resolved against static sizes, one entry per spatial axis. */
export interface ConvGeometry {
  group: number;
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Padding before each spatial axis. */
  padsBegin: number[];
  /** Padding after each spatial axis. */
  padsEnd: number[];
  /** Spatial sizes of X and of Y. */
  inSize: number[];
  outSize: number[];
  /** ConvTranspose only (zeros for Conv). */
  outputPadding: number[];
}

/** The static spatial dims of a rank ≥ 3 tensor [N, C, L…]. */
export function spatialDims(v: Value, what: string): number[] {
  if (v.rank < 3) throw new ShapeError(`${what} '${v.name}' must have rank ≥ 3 ([N, C, spatial…]), got ${formatShape(v.shape)}`);
  const s = v.shape.slice(2);
  if (!s.every((d): d is number => typeof d === 'number')) {
    throw new ShapeError(
      `${what} '${v.name}' must have static spatial dims, got ${formatShape(v.shape)}; only the batch dim may be symbolic`,
    );
  }
  return s;
}

function perAxis(attrs: Attrs, name: string, k: number, d: number, min: number): number[] {
  const v = attrs.ints(name, new Array<number>(k).fill(d));
  if (v.length !== k) throw new ShapeError(`attribute '${name}' has ${v.length} values, expected ${k} (one per spatial axis)`);
  if (v.some((e) => e < min)) throw new ShapeError(`attribute '${name}' = [${v}] must be ≥ ${min}`);
  return v;
}

/** kernel_shape, strides, dilations and group shared by Conv and ConvTranspose. */
function commonGeometry(attrs: Attrs, inSize: number[], kernelW: number[]) {
  const k = inSize.length;
  if (attrs.has('kernel_shape')) {
    const ks = attrs.ints('kernel_shape');
    if (ks.length !== k || ks.some((e, i) => e !== kernelW[i])) {
      throw new ShapeError(`kernel_shape [${ks}] does not match W's spatial dims [${kernelW}]`);
    }
  }
  const group = attrs.int('group');
  if (group < 1) throw new ShapeError(`group must be ≥ 1, got ${group}`);
  const autoPad = attrs.string('auto_pad');
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) {
    throw new ShapeError(`auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '${autoPad}'`);
  }
  // ONNX Runtime rejects a node with both (ConvAttributes: "has both 'auto_pad' and 'pads' attributes").
  if (autoPad !== 'NOTSET' && attrs.has('pads')) throw new ShapeError(`pads cannot be given with auto_pad = ${autoPad}`);
  const pads = perAxis(attrs, 'pads', 2 * k, 0, 0);
  return {
    k,
    group,
    autoPad,
    kernel: kernelW,
    strides: perAxis(attrs, 'strides', k, 1, 1),
    dilations: perAxis(attrs, 'dilations', k, 1, 1),
    padsBegin: pads.slice(0, k),
    padsEnd: pads.slice(k),
  };
}

/** Conv's geometry; auto_pad follows ONNX Runtime's CPU kernel (which the op cases check it against). */
export function convGeometry(attrs: Attrs, inSize: number[], kernelW: number[]): ConvGeometry {
  const c = commonGeometry(attrs, inSize, kernelW);
  const { padsBegin, padsEnd } = c;
  const outSize = inSize.map((len, a) => {
    const dk = (c.kernel[a] - 1) * c.dilations[a] + 1;
    if (c.autoPad === 'VALID') {
      padsBegin[a] = 0;
      padsEnd[a] = 0;
    } else if (c.autoPad !== 'NOTSET') {
      // out = ⌈len / s⌉; ORT allows SAME only with dilation 1 and puts the odd pixel at the end for SAME_UPPER.
      if (c.dilations[a] !== 1) throw new ShapeError(`auto_pad = ${c.autoPad} needs dilation 1 (ONNX Runtime), got [${c.dilations}]`);
      const need = (Math.ceil(len / c.strides[a]) - 1) * c.strides[a] + c.kernel[a] - len;
      if (need < 0)
        throw new ShapeError(`auto_pad = ${c.autoPad} on axis ${a + 2} would need negative padding (${need}); use explicit pads`);
      padsBegin[a] = c.autoPad === 'SAME_LOWER' ? Math.ceil(need / 2) : Math.floor(need / 2);
      padsEnd[a] = need - padsBegin[a];
    }
    const o = Math.floor((len + padsBegin[a] + padsEnd[a] - dk) / c.strides[a]) + 1;
    if (!(o >= 1)) {
      throw new ShapeError(
        `spatial axis ${a + 2}: size ${len} with pads ${padsBegin[a]}+${padsEnd[a]} is smaller than the dilated kernel ${dk}`,
      );
    }
    return o;
  });
  return { ...c, padsBegin, padsEnd, inSize, outSize, outputPadding: inSize.map(() => 0) };
}

/**
 * ConvTranspose's geometry: the full output is s·(in − 1) + output_padding + (k − 1)·d + 1; explicit pads trim it;
 * output_shape (or auto_pad SAME_*, target in·s) sets the total trim, split as the ONNX text says: the odd pixel goes
 * to the end for SAME_UPPER and to the start otherwise (checked against onnxruntime-node 1.30, which rejects an
 * output_shape larger than the full output).
 */
export function convTransposeGeometry(attrs: Attrs, inSize: number[], kernelW: number[]): ConvGeometry {
  const c = commonGeometry(attrs, inSize, kernelW);
  const { k, padsBegin, padsEnd } = c;
  const outputPadding = perAxis(attrs, 'output_padding', k, 0, 0);
  let outShape: number[] | undefined;
  if (attrs.has('output_shape')) {
    const os = attrs.ints('output_shape');
    if (os.length !== k && os.length !== k + 2) throw new ShapeError(`output_shape [${os}] must have ${k} or ${k + 2} values`);
    outShape = os.slice(os.length - k);
  }
  const outSize = inSize.map((len, a) => {
    const full = c.strides[a] * (len - 1) + outputPadding[a] + (c.kernel[a] - 1) * c.dilations[a] + 1;
    const target = outShape?.[a] ?? (c.autoPad === 'SAME_UPPER' || c.autoPad === 'SAME_LOWER' ? len * c.strides[a] : undefined);
    if (target !== undefined) {
      if (outShape && target > full) throw new ShapeError(`output_shape ${target} on axis ${a + 2} exceeds the full output size ${full}`);
      // auto_pad SAME never pads outward: when in·s exceeds the full size, the output is the full size (as in ORT).
      const total = Math.max(0, full - target);
      padsBegin[a] = c.autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2);
      padsEnd[a] = total - padsBegin[a];
    } else if (c.autoPad === 'VALID') {
      padsBegin[a] = 0;
      padsEnd[a] = 0;
    }
    const o = full - padsBegin[a] - padsEnd[a];
    if (!(o >= 1)) throw new ShapeError(`spatial axis ${a + 2}: output size ${o} (full size ${full}, pads ${padsBegin[a]}+${padsEnd[a]})`);
    return o;
  });
  return { ...c, padsBegin, padsEnd, inSize, outSize, outputPadding };
}

export function spatialAxes(k: number): number[] {
  return Array.from({ length: k }, (_, i) => i + 2);
}

/** [1, 0, 2, 3, …]: swaps the batch and channel axes. */
function swap01(rank: number): number[] {
  return [1, 0, ...spatialAxes(rank - 2)];
}

/** Crops `ends[a]` positions off the end of each spatial axis (none where all are 0). */
export function cropEnd(g: Graph, v: Value, ends: number[]): Value {
  if (ends.every((e) => e <= 0)) return v;
  const size = (v.shape.slice(2) as number[]).map((d, a) => d - Math.max(0, ends[a]));
  return g.Slice(
    v,
    size.map(() => 0),
    size,
    spatialAxes(size.length),
  );
}

/**
 * The weight gradient shared by Conv and ConvTranspose, as one Conv over the batch axis. For `big` [N, B, L…] (the
 * tensor the kernel walks over: Conv's X, ConvTranspose's dY) and `small` [N, A, S…] (Conv's dY, ConvTranspose's X):
 *
 *   R[a, b, i] = Σ_n Σ_o small[n, a, o] · big[n, grp(a)·B/G + b, o·s + i·d − p]      shape [A, B/G, k…]
 *
 * The batch becomes the summed channel axis: big → [B/G, G·N, L…] (big'[b, g·N + n] = big[n, g·B/G + b]) and
 * small → [A, N, S…]; a Conv with strides = d, dilations = s, group G and begin padding p gives R with its first two
 * axes swapped. The end padding is chosen so exactly k positions come out; where it would be negative, the unused
 * tail of big is cropped instead.
 */
export function convWeightGrad(g: Graph, big: Value, small: Value, geo: ConvGeometry): Value {
  const k = geo.kernel.length;
  const rank = k + 2;
  const B = big.shape[1];
  if (typeof B !== 'number') throw new ShapeError(`conv weight gradient: channel dim of '${big.name}' must be static, got ${B}`);
  const G = geo.group;
  const L = big.shape.slice(2) as number[];
  const S = small.shape.slice(2) as number[];
  const padEnd = L.map((len, a) => (geo.kernel[a] - 1) * geo.dilations[a] + (S[a] - 1) * geo.strides[a] + 1 - len - geo.padsBegin[a]);
  const cropped = cropEnd(
    g,
    big,
    padEnd.map((e) => -e),
  );
  let bigT: Value;
  if (G === 1) bigT = g.Transpose(cropped, swap01(rank));
  else {
    const Lc = cropped.shape.slice(2) as number[];
    const split = g.Reshape(cropped, [0, G, B / G, ...Lc]);
    bigT = g.Reshape(g.Transpose(split, [2, 1, 0, ...spatialAxes(k).map((a) => a + 1)]), [B / G, -1, ...Lc]);
  }
  const smallT = g.Transpose(small, swap01(rank));
  const r = g.Conv(bigT, smallT, undefined, {
    strides: geo.dilations,
    dilations: geo.strides,
    pads: [...geo.padsBegin, ...padEnd.map((e) => Math.max(0, e))],
    group: G,
  });
  return g.Transpose(r, swap01(rank));
}

/** dB[m] = Σ_{n, o} dY[n, m, o] */
export function convBiasGrad(g: Graph, dy: Value): Value {
  return g.ReduceSum(dy, [0, ...spatialAxes(dy.rank - 2)], false);
}

/** Rank and dtype checks shared by Conv and ConvTranspose. */
export function checkConvInputs(x: Value, w: Value, b: Value | undefined): void {
  requireFloat(x);
  sameDType([x, w, b]);
  if (w.rank !== x.rank) throw new ShapeError(`W ${formatShape(w.shape)} must have the rank of X ${formatShape(x.shape)}`);
  if (b && b.rank !== 1) throw new ShapeError(`B must be 1-D, got ${formatShape(b.shape)}`);
}

function eqIfStatic(a: Dim, b: Dim): boolean {
  return typeof a !== 'number' || typeof b !== 'number' || a === b;
}

// ---- float64 references --------------------------------------------------------------------------------------

/** Every multi-index of a shape, in row-major order. */
export function allIndices(shape: readonly number[]): number[][] {
  const out: number[][] = [];
  const idx = shape.map(() => 0);
  const n = shape.reduce((p, q) => p * q, 1);
  for (let e = 0; e < n; e++) {
    out.push([...idx]);
    for (let a = shape.length - 1; a >= 0; a--) {
      idx[a] += 1;
      if (idx[a] < shape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

/** Flat offset of (n, c, spatial…) under row-major strides. */
export function offset(st: readonly number[], n: number, c: number, sp: readonly number[]): number {
  let o = n * st[0] + c * st[1];
  for (let a = 0; a < sp.length; a++) o += sp[a] * st[a + 2];
  return o;
}

function convReference(x: TensorData, w: TensorData, b: TensorData | undefined, geo: ConvGeometry): TensorData {
  const [N, C] = x.shape;
  const M = w.shape[0];
  const Cg = C / geo.group;
  const Mg = M / geo.group;
  const shape = [N, M, ...geo.outSize];
  const y = new Float64Array(shape.reduce((p, q) => p * q, 1));
  const xs = rowMajorStrides(x.shape);
  const ws = rowMajorStrides(w.shape);
  const outIdx = allIndices(geo.outSize);
  const kerIdx = allIndices(geo.kernel);
  const pos = geo.kernel.map(() => 0);
  let e = 0;
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const grp = Math.floor(m / Mg);
      for (const o of outIdx) {
        let s = b ? Number(b.data[m]) : 0;
        for (let c = 0; c < Cg; c++) {
          for (const i of kerIdx) {
            let inside = true;
            for (let a = 0; a < pos.length; a++) {
              pos[a] = o[a] * geo.strides[a] + i[a] * geo.dilations[a] - geo.padsBegin[a];
              if (pos[a] < 0 || pos[a] >= geo.inSize[a]) inside = false;
            }
            if (inside) s += Number(x.data[offset(xs, n, grp * Cg + c, pos)]) * Number(w.data[offset(ws, m, c, i)]);
          }
        }
        y[e++] = s;
      }
    }
  }
  return tensorData('float64', shape, y);
}

// ---- the op --------------------------------------------------------------------------------------------------

// Conv runs in float32 only on ORT's CPU (DESIGN.md). Conv is linear in each input, so central differences have no
// truncation error and only float32 rounding remains: each output carries ≲ 1e-7·Σ|x·w| absolute error, so the loss
// L = Σ y·w (≤ 40 outputs here) is off by ≲ 1e-5 per evaluation and the difference quotient by ≲ 1e-5/(2h) = 5e-5
// with h = 0.1; perturbing in float32 makes the step inexact by ≲ 6e-8/h relative. The checker divides by
// max(1, |grad|); measured errors are ≤ 1.2e-6 on every case, so 1e-4 sits above the worst-case bound while a wrong
// rule (errors O(1)) cannot pass. Forward vs the float64 reference measured ≤ 1.5e-7, within the suite's 1e-5.
export const F32_CASE = { dtype: 'float32', h: 0.1, tol: 1e-4 } as const;

const cases: OpCase[] = [
  { name: 'plain 3×3 with bias', ...F32_CASE, inputs: [{ shape: [1, 2, 4, 4] }, { shape: [2, 2, 3, 3] }, { shape: [2] }] },
  // Height 4 leaves one row unused by stride 2 (dX needs output_padding 1; dW crops X).
  {
    name: 'stride 2, batch 2, no bias',
    ...F32_CASE,
    attrs: { strides: [2, 2] },
    inputs: [{ shape: [2, 1, 4, 5] }, { shape: [2, 1, 3, 3] }],
  },
  {
    name: 'asymmetric pads, 2×3 kernel',
    ...F32_CASE,
    attrs: { pads: [1, 0, 0, 2] },
    inputs: [{ shape: [1, 2, 4, 4] }, { shape: [2, 2, 2, 3] }, { shape: [2] }],
  },
  {
    name: 'dilation 2',
    ...F32_CASE,
    attrs: { dilations: [2, 2], pads: [1, 0, 0, 1] },
    inputs: [{ shape: [1, 1, 6, 6] }, { shape: [2, 1, 3, 3] }],
  },
  { name: 'group 2', ...F32_CASE, attrs: { group: 2 }, inputs: [{ shape: [1, 4, 3, 3] }, { shape: [4, 2, 2, 2] }, { shape: [4] }] },
  {
    name: 'depthwise (group = C, 2 filters per channel)',
    ...F32_CASE,
    attrs: { group: 3, pads: [1, 1, 1, 1] },
    inputs: [{ shape: [1, 3, 3, 4] }, { shape: [6, 1, 2, 2] }, { shape: [6] }],
  },
  {
    name: 'group 2 with stride, dilation and asymmetric pads, batch 2',
    ...F32_CASE,
    attrs: { group: 2, strides: [2, 1], dilations: [1, 2], pads: [0, 1, 1, 0] },
    inputs: [{ shape: [2, 2, 4, 5] }, { shape: [2, 1, 2, 2] }, { shape: [2] }],
  },
  // Odd total padding on the height axis (one extra row at the end), even on the width axis.
  {
    name: 'auto_pad SAME_UPPER, stride 2×1',
    ...F32_CASE,
    attrs: { auto_pad: 'SAME_UPPER', strides: [2, 1] },
    inputs: [{ shape: [1, 2, 5, 4] }, { shape: [2, 2, 2, 3] }, { shape: [2] }],
  },
  {
    name: 'auto_pad SAME_LOWER',
    ...F32_CASE,
    attrs: { auto_pad: 'SAME_LOWER', kernel_shape: [2, 2] },
    inputs: [{ shape: [1, 1, 5, 5] }, { shape: [2, 1, 2, 2] }],
  },
  {
    name: 'auto_pad VALID, stride 2',
    ...F32_CASE,
    attrs: { auto_pad: 'VALID', strides: [2, 2] },
    inputs: [{ shape: [1, 1, 5, 6] }, { shape: [1, 1, 3, 2] }],
  },
  {
    name: '1-D, stride 2',
    ...F32_CASE,
    attrs: { strides: [2], pads: [1, 0] },
    inputs: [{ shape: [2, 2, 7] }, { shape: [3, 2, 3] }, { shape: [3] }],
  },
  {
    name: '3-D',
    ...F32_CASE,
    attrs: { pads: [0, 1, 0, 1, 0, 0] },
    inputs: [{ shape: [1, 1, 3, 3, 3] }, { shape: [2, 1, 2, 2, 2] }, { shape: [2] }],
  },
];

export const Conv: Op<typeof conv> = {
  opType: 'Conv',
  sinceVersion: 11,
  inputs: [2, 3],
  // dilations, pads and strides default per spatial axis (1, 0, 1); kernel_shape to W's spatial dims.
  attrs: {
    auto_pad: { type: 'string', default: 'NOTSET' },
    dilations: 'ints',
    group: { type: 'int', default: 1 },
    kernel_shape: 'ints',
    pads: 'ints',
    strides: 'ints',
  },
  build: conv,
  infer(ctx) {
    const x = need(ctx, 0);
    const w = need(ctx, 1);
    const b = ctx.inputs[2];
    checkConvInputs(x, w, b);
    const geo = convGeometry(ctx.attrs, spatialDims(x, 'X'), spatialDims(w, 'W'));
    const [N, C] = x.shape;
    const [M, Cg] = w.shape;
    const G = geo.group;
    if (typeof Cg === 'number' && !eqIfStatic(C, Cg * G)) {
      throw new ShapeError(`X has ${C} channels but W ${formatShape(w.shape)} with group ${G} takes ${Cg}·${G}`);
    }
    if (typeof M === 'number' && M % G !== 0) throw new ShapeError(`W's ${M} output channels are not divisible by group ${G}`);
    if (b && !eqIfStatic(b.shape[0], M)) throw new ShapeError(`B ${formatShape(b.shape)} must have W's ${M} output channels`);
    return [{ dtype: x.dtype, shape: [N, M, ...geo.outSize] }];
  },
  grad: ({ g, inputs: [x, w, b], dy: [d], needs, attrs }) => {
    if (!d || !x || !w) return [];
    const geo = convGeometry(attrs, spatialDims(x, 'X'), spatialDims(w, 'W'));
    // Positions of X past the last window (fewer than a stride) get no gradient: output_padding restores X's size.
    const rest = geo.inSize.map(
      (len, a) =>
        len + geo.padsBegin[a] + geo.padsEnd[a] - ((geo.outSize[a] - 1) * geo.strides[a] + (geo.kernel[a] - 1) * geo.dilations[a] + 1),
    );
    return [
      // dX = ConvTranspose(dY, W): dX[n, c, p] = Σ_{m, o, i: o·s + i·d − p₀ = p} dY[n, m, o] · W[m, c, i]
      needs[0]
        ? g.ConvTranspose(d, w, undefined, {
            strides: geo.strides,
            dilations: geo.dilations,
            pads: [...geo.padsBegin, ...geo.padsEnd],
            group: geo.group,
            ...(rest.some((r) => r > 0) ? { output_padding: rest } : {}),
          })
        : undefined,
      // dW[m, c, i] = Σ_{n, o} dY[n, m, o] · X[n, grp(m)·C/G + c, o·s + i·d − p₀]
      needs[1] ? convWeightGrad(g, x, d, geo) : undefined,
      // dB[m] = Σ_{n, o} dY[n, m, o]
      needs[2] && b ? convBiasGrad(g, d) : undefined,
    ];
  },
  reference: ([x, w, b], attrs) => [convReference(x, w, b, convGeometry(attrs, x.shape.slice(2), w.shape.slice(2)))],
  cases,
};

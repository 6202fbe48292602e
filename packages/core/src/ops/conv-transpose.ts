/**
 * ONNX ConvTranspose (opset 11 schema, unchanged through opset 18): the adjoint of Conv in X. X [N, C, L…],
 * W [C, M/group, k…], optional B [M]:
 *
 *   Y[n, grp(c)·M/G + m, p] = B[·] + Σ_{c ∈ group, o, i : o·s + i·d − p₀ = p} X[n, c, o] · W[c, m, i]
 *
 * with output size s·(L − 1) + output_padding + (k − 1)·d + 1 − p₀ − p₁ (or output_shape). Spatial dims must be
 * static; the batch dim may be symbolic.
 */
import type { AttrInput, Graph, Value } from '../ir/graph.js';
import type { Op, OpCase } from '../ir/op-schema.js';
import { formatShape, ShapeError } from '../ir/shape.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { need, strides as rowMajorStrides } from './common.js';
import {
  allIndices,
  type ConvAttrs,
  type ConvGeometry,
  checkConvInputs,
  convBiasGrad,
  convTransposeGeometry,
  convWeightGrad,
  cropEnd,
  F32_CASE,
  offset,
  spatialDims,
} from './conv.js';

/** ConvTranspose's attributes as the builder takes them. */
export interface ConvTransposeAttrs extends ConvAttrs {
  output_padding?: number[];
  output_shape?: number[];
}

/** g.ConvTranspose(x, w, b?, attrs?) */
function convTranspose(g: Graph, x: Value, w: Value, b?: Value, attrs: ConvTransposeAttrs = {}): Value {
  return g.op1('ConvTranspose', [x, w, b], attrs as Record<string, AttrInput | undefined>);
}

function convTransposeReference(x: TensorData, w: TensorData, b: TensorData | undefined, geo: ConvGeometry): TensorData {
  const [N, C] = x.shape;
  const Mg = w.shape[1];
  const M = Mg * geo.group;
  const Cg = C / geo.group;
  const shape = [N, M, ...geo.outSize];
  const y = new Float64Array(shape.reduce((p, q) => p * q, 1));
  const xs = rowMajorStrides(x.shape);
  const ws = rowMajorStrides(w.shape);
  const ys = rowMajorStrides(shape);
  const inIdx = allIndices(geo.inSize);
  const kerIdx = allIndices(geo.kernel);
  const outIdx = allIndices(geo.outSize);
  const pos = geo.kernel.map(() => 0);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) for (const p of outIdx) y[offset(ys, n, m, p)] = b ? Number(b.data[m]) : 0;
    for (let c = 0; c < C; c++) {
      const grp = Math.floor(c / Cg);
      for (const o of inIdx) {
        const xv = Number(x.data[offset(xs, n, c, o)]);
        for (let m = 0; m < Mg; m++) {
          for (const i of kerIdx) {
            let inside = true;
            for (let a = 0; a < pos.length; a++) {
              pos[a] = o[a] * geo.strides[a] + i[a] * geo.dilations[a] - geo.padsBegin[a];
              if (pos[a] < 0 || pos[a] >= geo.outSize[a]) inside = false;
            }
            if (inside) y[offset(ys, n, grp * Mg + m, pos)] += xv * Number(w.data[offset(ws, c, m, i)]);
          }
        }
      }
    }
  }
  return tensorData('float64', shape, y);
}

// Tolerances: see F32_CASE in conv.ts (ConvTranspose is linear in each input too).
const cases: OpCase[] = [
  { name: 'plain 3×3 with bias', ...F32_CASE, inputs: [{ shape: [1, 2, 3, 3] }, { shape: [2, 2, 3, 3] }, { shape: [2] }] },
  {
    name: 'stride 2, output_padding 1',
    ...F32_CASE,
    attrs: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] },
    inputs: [{ shape: [1, 2, 3, 3] }, { shape: [2, 1, 3, 3] }, { shape: [1] }],
  },
  // End pad 0 < output_padding 1 on the height axis: dX's Conv crops dY's last row.
  {
    name: 'stride 2, output_padding 1 beyond the end pad, batch 2, no bias',
    ...F32_CASE,
    attrs: { strides: [2, 2], pads: [1, 1, 0, 1], output_padding: [1, 1] },
    inputs: [{ shape: [2, 1, 2, 3] }, { shape: [1, 2, 3, 3] }],
  },
  { name: 'group 2', ...F32_CASE, attrs: { group: 2 }, inputs: [{ shape: [1, 4, 3, 3] }, { shape: [4, 1, 2, 2] }, { shape: [2] }] },
  {
    name: 'group 2 with stride 2 and dilation, batch 2',
    ...F32_CASE,
    attrs: { group: 2, strides: [2, 1], dilations: [1, 2], pads: [0, 1, 1, 0] },
    inputs: [{ shape: [2, 2, 2, 3] }, { shape: [2, 2, 2, 2] }, { shape: [4] }],
  },
  {
    name: 'depthwise (group = C)',
    ...F32_CASE,
    attrs: { group: 3, strides: [2, 2] },
    inputs: [{ shape: [1, 3, 2, 3] }, { shape: [3, 1, 2, 2] }, { shape: [3] }],
  },
  {
    name: 'dilation 2',
    ...F32_CASE,
    attrs: { dilations: [2, 2], pads: [0, 1, 1, 0] },
    inputs: [{ shape: [1, 1, 3, 3] }, { shape: [1, 2, 2, 2] }],
  },
  // Full output 7×7; output_shape trims 3 rows (2 at the start, 1 at the end) and 1 column (at the start).
  {
    name: 'output_shape',
    ...F32_CASE,
    attrs: { strides: [2, 2], output_shape: [4, 6] },
    inputs: [{ shape: [1, 1, 3, 3] }, { shape: [1, 2, 3, 3] }, { shape: [2] }],
  },
  {
    name: 'auto_pad SAME_UPPER, stride 2',
    ...F32_CASE,
    attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] },
    inputs: [{ shape: [1, 2, 3, 2] }, { shape: [2, 1, 3, 3] }],
  },
  {
    name: 'auto_pad SAME_LOWER, stride 2',
    ...F32_CASE,
    attrs: { auto_pad: 'SAME_LOWER', strides: [2, 2] },
    inputs: [{ shape: [1, 1, 3, 2] }, { shape: [1, 1, 3, 3] }, { shape: [1] }],
  },
  {
    name: '1-D, stride 2',
    ...F32_CASE,
    attrs: { strides: [2], pads: [1, 0] },
    inputs: [{ shape: [2, 2, 4] }, { shape: [2, 3, 3] }, { shape: [3] }],
  },
  {
    name: '3-D, stride 1×2×1',
    ...F32_CASE,
    attrs: { strides: [1, 2, 1], pads: [0, 1, 0, 1, 0, 0] },
    inputs: [{ shape: [1, 2, 2, 2, 2] }, { shape: [2, 1, 2, 2, 2] }, { shape: [1] }],
  },
];

export const ConvTranspose: Op<typeof convTranspose> = {
  opType: 'ConvTranspose',
  sinceVersion: 11,
  inputs: [2, 3],
  // dilations, output_padding, pads and strides default per spatial axis (1, 0, 0, 1).
  attrs: {
    auto_pad: { type: 'string', default: 'NOTSET' },
    dilations: 'ints',
    group: { type: 'int', default: 1 },
    kernel_shape: 'ints',
    output_padding: 'ints',
    output_shape: 'ints',
    pads: 'ints',
    strides: 'ints',
  },
  build: convTranspose,
  infer(ctx) {
    const x = need(ctx, 0);
    const w = need(ctx, 1);
    const b = ctx.inputs[2];
    checkConvInputs(x, w, b);
    const geo = convTransposeGeometry(ctx.attrs, spatialDims(x, 'X'), spatialDims(w, 'W'));
    const [N, C] = x.shape;
    const [Cw, Mg] = w.shape;
    const G = geo.group;
    if (typeof C === 'number' && typeof Cw === 'number' && C !== Cw) {
      throw new ShapeError(`X has ${C} channels but W ${formatShape(w.shape)} expects ${Cw}`);
    }
    if (typeof C === 'number' && C % G !== 0) throw new ShapeError(`X's ${C} channels are not divisible by group ${G}`);
    const M = typeof Mg === 'number' ? Mg * G : Mg;
    if (b && typeof b.shape[0] === 'number' && typeof M === 'number' && b.shape[0] !== M) {
      throw new ShapeError(`B ${formatShape(b.shape)} must have the ${M} output channels (W's dim 1 × group)`);
    }
    return [{ dtype: x.dtype, shape: [N, M, ...geo.outSize] }];
  },
  grad: ({ g, inputs: [x, w, b], dy: [d], needs, attrs }) => {
    if (!d || !x || !w) return [];
    const geo = convTransposeGeometry(attrs, spatialDims(x, 'X'), spatialDims(w, 'W'));
    // The Conv reading dY back needs end padding p₁ − output_padding; where that is negative, dY's tail (which only
    // output_padding or output_shape added) is cropped instead.
    const padEnd = geo.padsEnd.map((p, a) => p - geo.outputPadding[a]);
    return [
      // dX = Conv(dY, W): dX[n, c, o] = Σ_{m, i} dY[n, grp(c)·M/G + m, o·s + i·d − p₀] · W[c, m, i]
      needs[0]
        ? g.Conv(
            cropEnd(
              g,
              d,
              padEnd.map((e) => -e),
            ),
            w,
            undefined,
            {
              strides: geo.strides,
              dilations: geo.dilations,
              pads: [...geo.padsBegin, ...padEnd.map((e) => Math.max(0, e))],
              group: geo.group,
            },
          )
        : undefined,
      // dW[c, m, i] = Σ_{n, o} X[n, c, o] · dY[n, grp(c)·M/G + m, o·s + i·d − p₀]
      needs[1] ? convWeightGrad(g, d, x, geo) : undefined,
      // dB[m] = Σ_{n, p} dY[n, m, p]
      needs[2] && b ? convBiasGrad(g, d) : undefined,
    ];
  },
  reference: ([x, w, b], attrs) => [convTransposeReference(x, w, b, convTransposeGeometry(attrs, x.shape.slice(2), w.shape.slice(2)))],
  cases,
};

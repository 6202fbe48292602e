import type { Graph, Value } from '../ir/graph.js';
import type { Op, OpCase } from '../ir/op-schema.js';
import { type Dim, formatShape, ShapeError } from '../ir/shape.js';
import { tensorData } from '../ir/tensor.js';
import { mapN, need, sameDType, unifyDim } from './common.js';

export interface GemmAttrs {
  alpha?: number;
  beta?: number;
  transA?: number;
  transB?: number;
}

/** g.Gemm(a, b, c?, { alpha, beta, transA, transB }): Y = α·A'·B' + β·C; attributes left out take the schema's defaults. */
function gemm(g: Graph, a: Value, b: Value, c?: Value, attrs: GemmAttrs = {}): Value {
  return g.op1('Gemm', [a, b, c], { ...attrs });
}

export const Gemm: Op<typeof gemm> = {
  opType: 'Gemm',
  sinceVersion: 13,
  inputs: [2, 3],
  attrs: {
    alpha: { type: 'float', default: 1 },
    beta: { type: 'float', default: 1 },
    transA: { type: 'int', default: 0 },
    transB: { type: 'int', default: 0 },
  },
  build: gemm,
  infer(ctx) {
    const a = need(ctx, 0);
    const b = need(ctx, 1);
    const c = ctx.inputs[2];
    const dtype = sameDType([a, b, c]);
    if (a.rank !== 2 || b.rank !== 2)
      throw new ShapeError(`A and B must be 2-D, got A ${formatShape(a.shape)} and B ${formatShape(b.shape)}`);
    const tA = ctx.attrs.int('transA') !== 0;
    const tB = ctx.attrs.int('transB') !== 0;
    const [m, ka] = tA ? [a.shape[1], a.shape[0]] : a.shape;
    const [kb, n] = tB ? [b.shape[1], b.shape[0]] : b.shape;
    unifyDim(
      ka,
      kb,
      () =>
        `inner dims differ: A${tA ? 'ᵀ' : ''} of ${formatShape(a.shape)} has ${ka} columns but B${tB ? 'ᵀ' : ''} of ${formatShape(b.shape)} has ${kb} rows`,
    );
    if (c) {
      // C broadcasts one way only: to [M, N], never the other way round.
      const ok =
        c.rank <= 2 &&
        c.shape.every((d, i) => {
          const full = [m, n][i + 2 - c.rank];
          // A symbolic dim on either side may match at run time.
          return d === 1 || d === full || typeof d === 'string' || typeof full === 'string';
        });
      if (!ok) throw new ShapeError(`C ${formatShape(c.shape)} does not broadcast to the product's shape ${formatShape([m, n])}`);
    }
    return [{ dtype, shape: [m, n] as Dim[] }];
  },
  // Y = α·A'·B' + β·C with A' = A or Aᵀ, B' = B or Bᵀ:
  // dA' = α·dY·B'ᵀ, dB' = α·A'ᵀ·dY (each transposed back when the operand was), dC = β·dY (autodiff unbroadcasts it)
  grad: ({ g, inputs: [a, b, c], dy: [d], needs, attrs }) => {
    if (!a || !b || !d) return [];
    const alpha = attrs.float('alpha');
    const beta = attrs.float('beta');
    const tA = attrs.int('transA') !== 0 ? 1 : 0;
    const tB = attrs.int('transB') !== 0 ? 1 : 0;
    // transA = 0: dA = α·dY·B'ᵀ; transA = 1: dA = (α·dY·B'ᵀ)ᵀ = α·B'·dYᵀ.
    const da = needs[0]
      ? tA
        ? g.Gemm(b, d, undefined, { alpha, transA: tB, transB: 1 })
        : g.Gemm(d, b, undefined, { alpha, transB: 1 - tB })
      : undefined;
    // transB = 0: dB = α·A'ᵀ·dY; transB = 1: dB = (α·A'ᵀ·dY)ᵀ = α·dYᵀ·A'.
    const db = needs[1]
      ? tB
        ? g.Gemm(d, a, undefined, { alpha, transA: 1, transB: tA })
        : g.Gemm(a, d, undefined, { alpha, transA: 1 - tA })
      : undefined;
    // beta is stored as a float32 attribute; the kernel multiplies by exactly that value.
    const dc = needs[2] && c ? (beta === 1 ? d : g.Mul(d, g.scalar(Math.fround(beta), d.dtype))) : undefined;
    return [da, db, dc];
  },
  reference: ([a, b, c], attrs) => {
    const alpha = Math.fround(attrs.float('alpha'));
    const beta = Math.fround(attrs.float('beta'));
    const tA = attrs.int('transA') !== 0;
    const tB = attrs.int('transB') !== 0;
    const [m, k] = tA ? [a.shape[1], a.shape[0]] : a.shape;
    const n = tB ? b.shape[0] : b.shape[1];
    const at = (i: number, p: number) => Number(a.data[tA ? p * m + i : i * k + p]);
    const bt = (p: number, j: number) => Number(b.data[tB ? j * k + p : p * n + j]);
    const y = new Float64Array(m * n);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += at(i, p) * bt(p, j);
        y[i * n + j] = alpha * s;
      }
    const ab = tensorData('float64', [m, n], y);
    return [c ? mapN([ab, c], (v, cv) => v + beta * cv) : ab];
  },
  cases: gemmCases(),
};

/** Every transA/transB combination with α, β ≠ 1, C as [N], [1, N], [M, 1], [M, N] and a scalar, and no C. */
function gemmCases(): OpCase[] {
  const [m, k, n] = [2, 3, 4];
  const cases: OpCase[] = [];
  for (const transA of [0, 1])
    for (const transB of [0, 1]) {
      const a = { shape: transA ? [k, m] : [m, k] };
      const b = { shape: transB ? [n, k] : [k, n] };
      cases.push({
        name: `transA ${transA} transB ${transB}, C [N]`,
        attrs: { alpha: 0.5, beta: 2, transA, transB },
        inputs: [a, b, { shape: [n] }],
      });
      cases.push({ name: `transA ${transA} transB ${transB}, no C`, attrs: { alpha: 1.5, transA, transB }, inputs: [a, b] });
    }
  const ab = [{ shape: [m, k] }, { shape: [k, n] }];
  cases.push({ name: 'C [1, N]', attrs: { alpha: -0.75, beta: 0.25 }, inputs: [...ab, { shape: [1, n] }] });
  cases.push({ name: 'C [M, 1]', attrs: { beta: -1.5 }, inputs: [...ab, { shape: [m, 1] }] });
  cases.push({ name: 'C [M, N]', attrs: { alpha: 2, beta: 0.5 }, inputs: [...ab, { shape: [m, n] }] });
  cases.push({ name: 'C scalar', attrs: { alpha: 0.3, beta: 3 }, inputs: [...ab, { shape: [] }] });
  cases.push({ name: 'defaults', inputs: [...ab, { shape: [n] }] });
  return cases;
}

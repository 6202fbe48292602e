/**
 * Composite gradient check for the convolution ops: a small conv autoencoder
 *
 *   x [batch, C, 8, 8] → Conv 3×3 stride 2 → Relu → ConvTranspose 3×3 stride 2 → Sigmoid → y
 *   L = Σ x·log y + (1 − x)·log(1 − y)          (Bernoulli log-likelihood)
 *
 * built with the Graph builder (batch symbolic), differentiated by `gradients()`, and checked against central
 * differences of the same forward graph, both run on onnxruntime-node (float32: ORT's CPU Conv has no float64).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { gradients } from '../autodiff/gradients.js';
import { Graph } from '../ir/graph.js';
import { serializeModel } from '../ir/serialize.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { fromOrtTensor, toOrtTensor } from '../runtime/tensors.js';
import { mulberry32 } from '../testing/op-check.js';

interface NetSpec {
  name: string;
  /** Image channels (input and reconstruction). */
  channels: number;
  group: number;
  seed: number;
}

const HIDDEN = 4;
const SIDE = 8;
const BATCH = 2;
// Step for central differences. The loss is smooth away from Relu's kink (guarded below), so the numeric gradient
// errs by truncation h²/6·|∂³L| (~1e-4·|∂³L|/6 at h = 1e-2) plus rounding: the 2·64·C float32 log-likelihood terms
// carry ~1e-7 absolute error each, summed here in float64 and divided by the step: ~1e-7·√(128·C)/(2h) ≈ 1e-4.
const H = 1e-2;
// Max |analytic − numeric| / max(1, max |numeric|) per weight tensor. Measured: ≤ 3e-5 on both nets (and on 8 other
// seeds); 1e-3 leaves room for the rounding estimate above, while a wrong rule errs by O(1).
const TOL = 1e-3;

const PARAM_NAMES = ['w1', 'b1', 'w2', 'b2'] as const;

function paramShapes(s: NetSpec): Record<(typeof PARAM_NAMES)[number], number[]> {
  return {
    w1: [HIDDEN, s.channels / s.group, 3, 3],
    b1: [HIDDEN],
    // ConvTranspose weights are [in channels, out channels / group, k…].
    w2: [HIDDEN, s.channels / s.group, 3, 3],
    b2: [s.channels],
  };
}

function build(g: Graph, s: NetSpec) {
  const x = g.input('x', 'float32', ['batch', s.channels, SIDE, SIDE]);
  const shapes = paramShapes(s);
  const params = PARAM_NAMES.map((n) => g.input(n, 'float32', shapes[n]));
  const [w1, b1, w2, b2] = params;
  // 8×8 → 4×4: out = ⌊(8 + 2 − 3)/2⌋ + 1; the last input row/column is unused, so dX would need output_padding.
  const pre = g.Conv(x, w1, b1, { strides: [2, 2], pads: [1, 1, 1, 1], group: s.group });
  // 4×4 → 8×8: 2·3 + 1 + 3 − 2.
  const logits = g.ConvTranspose(g.Relu(pre), w2, b2, { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1], group: s.group });
  const y = g.Sigmoid(logits);
  const ll = g.Add(g.Mul(x, g.Log(y)), g.Mul(g.Sub(1, x), g.Log(g.Sub(1, y))));
  return { x, params, pre, ll };
}

function randomTensor(rand: () => number, shape: number[], lo: number, hi: number): TensorData {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensorData(
    'float32',
    shape,
    Array.from({ length: n }, () => lo + (hi - lo) * rand()),
  );
}

async function checkNet(s: NetSpec) {
  const rand = mulberry32(s.seed);
  const shapes = paramShapes(s);
  // Binary pixels, as a Bernoulli decoder sees them.
  const xData = tensorData(
    'float32',
    [BATCH, s.channels, SIDE, SIDE],
    Array.from({ length: BATCH * s.channels * SIDE * SIDE }, () => (rand() < 0.5 ? 1 : 0)),
  );
  const theta = PARAM_NAMES.map((n) => randomTensor(rand, shapes[n], -0.5, 0.5));

  // Forward graph: per-pixel log-likelihood terms (summed in float64 here) and the Relu's input.
  const fg = new Graph('conv_net');
  const f = build(fg, s);
  fg.output(f.ll, 'll');
  fg.output(f.pre, 'pre');
  const fwd = await ort.InferenceSession.create(serializeModel(fg));
  const feeds = (ps: TensorData[]) => {
    const r: Record<string, ReturnType<typeof toOrtTensor>> = { x: toOrtTensor(ort, xData) };
    PARAM_NAMES.forEach((n, i) => {
      r[n] = toOrtTensor(ort, ps[i]);
    });
    return r;
  };
  const lossAt = async (ps: TensorData[]) => {
    const r = await fwd.run(feeds(ps));
    let sum = 0;
    for (const v of fromOrtTensor(r.ll).data as Float32Array) sum += v;
    return { loss: sum, pre: fromOrtTensor(r.pre).data as Float32Array };
  };

  // Central differences are only valid if no Relu input crosses 0 within the step: perturbing one entry of w1
  // (x ∈ {0, 1}) or b1 by h moves each pre-activation by at most h.
  const base = await lossAt(theta);
  const margin = Math.min(...Array.from(base.pre, Math.abs));
  expect(margin, 'smallest |Relu input| must exceed the finite-difference step').toBeGreaterThan(H);

  // Gradient graph: dL/dθ for all weights, with the loss reduced inside the graph.
  const gg = new Graph('conv_net_grad');
  const b = build(gg, s);
  const loss = gg.ReduceSum(b.ll);
  const grads = gradients(gg, loss, b.params);
  grads.forEach((gv, i) => {
    gg.output(gv, `d_${PARAM_NAMES[i]}`);
  });
  expect(grads.map((gv) => gv.shape)).toEqual(PARAM_NAMES.map((n) => shapes[n]));
  const gs = await ort.InferenceSession.create(serializeModel(gg));
  const gr = await gs.run(feeds(theta));

  const errors: Record<string, number> = {};
  for (const [i, name] of PARAM_NAMES.entries()) {
    const analytic = fromOrtTensor(gr[`d_${name}`]).data as Float32Array;
    let maxDiff = 0;
    let maxNum = 0;
    for (let e = 0; e < theta[i].data.length; e++) {
      const plus = [...theta];
      const minus = [...theta];
      const xp = Float32Array.from(theta[i].data as Float32Array);
      const xm = Float32Array.from(theta[i].data as Float32Array);
      xp[e] += H;
      xm[e] -= H;
      plus[i] = tensorData('float32', theta[i].shape, xp);
      minus[i] = tensorData('float32', theta[i].shape, xm);
      // Divide by the float32 step actually taken, not 2h.
      const num = ((await lossAt(plus)).loss - (await lossAt(minus)).loss) / (xp[e] - xm[e]);
      maxDiff = Math.max(maxDiff, Math.abs(num - analytic[e]));
      maxNum = Math.max(maxNum, Math.abs(num));
    }
    errors[name] = maxDiff / Math.max(1, maxNum);
  }
  return errors;
}

// Seeds chosen so that every Relu input is farther than H from 0 (the test asserts it).
const NETS: NetSpec[] = [
  { name: '1 channel, group 1', channels: 1, group: 1, seed: 5 },
  { name: '2 channels, group 2', channels: 2, group: 2, seed: 3 },
];

describe('conv net gradients on onnxruntime-node cpu (float32)', () => {
  it.each(NETS.map((s) => [s.name, s] as const))('%s: all weight gradients match central differences', async (_n, s) => {
    const errors = await checkNet(s);
    for (const [name, err] of Object.entries(errors)) expect(err, `${name}: ${JSON.stringify(errors)}`).toBeLessThanOrEqual(TOL);
  });
});

import { freshDim, type Graph, type Value } from '../ir/graph.js';
import type { Op, OpCase } from '../ir/op-schema.js';
import { type Dim, formatShape, normAxis, ShapeError } from '../ir/shape.js';
import { tensorData } from '../ir/tensor.js';
import { asShapeOf, constInts, moveAxisLast, need, ravel, unravel, zerosLike } from './common.js';
import { dimsOut, heldDims } from './concat.js';

/** An end at or beyond this means "to the end of the axis" (INT_MAX and INT64_MAX both qualify). */
const TO_END = 2 ** 31 - 1;

interface AxisSlice {
  axis: number;
  start: number;
  end: number;
  step: number;
}

/** The node's starts/ends/axes/steps, one entry per sliced axis (constants required). */
function sliceSpec(rank: number, ins: readonly (Value | undefined)[]): AxisSlice[] {
  const starts = constInts(ins[1], 'starts') ?? [];
  const ends = constInts(ins[2], 'ends') ?? [];
  const axes = constInts(ins[3], 'axes') ?? starts.map((_, i) => i);
  const steps = constInts(ins[4], 'steps') ?? starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    throw new ShapeError(
      `starts, ends, axes and steps must have one length, got ${starts.length}, ${ends.length}, ${axes.length}, ${steps.length}`,
    );
  }
  const norm = axes.map((a) => normAxis(a, rank, 'slice axis'));
  if (new Set(norm).size !== norm.length) throw new ShapeError(`axes ${formatShape(axes)} repeat an axis`);
  return norm.map((axis, i) => {
    if (steps[i] === 0) throw new ShapeError(`step 0 on axis ${axis}`);
    return { axis, start: starts[i], end: ends[i], step: steps[i] };
  });
}

/** ONNX's clamping of one axis's slice to a static size d: the first index and the element count. */
export function resolveSlice(d: number, s: AxisSlice): { first: number; count: number } {
  let { start, end } = s;
  if (start < 0) start += d;
  if (end < 0) end += d;
  if (s.step > 0) {
    start = Math.min(Math.max(start, 0), d);
    end = Math.min(Math.max(end, 0), d);
    return { first: start, count: Math.max(0, Math.ceil((end - start) / s.step)) };
  }
  start = Math.min(Math.max(start, 0), d - 1);
  end = Math.min(Math.max(end, -1), d - 1);
  return { first: start, count: Math.max(0, Math.ceil((start - end) / -s.step)) };
}

/** Whether a slice keeps a whole axis of any size in order (or reversed): [0:∞:1] or [-1:-∞:-1]. */
function wholeAxis(s: AxisSlice): boolean {
  if (s.step === 1) return (s.start === 0 || s.start <= -TO_END) && s.end >= TO_END;
  if (s.step === -1) return (s.start === -1 || s.start >= TO_END) && s.end <= -TO_END;
  return false;
}

/** g.Slice(x, starts, ends, axes?, steps?): the static starts, ends, axes and steps become int64 constants. */
function slice(
  g: Graph,
  x: Value,
  starts: readonly number[],
  ends: readonly number[],
  axes?: readonly number[],
  steps?: readonly number[],
): Value {
  return g.op1('Slice', [x, g.ints(starts), g.ints(ends), axes ? g.ints(axes) : undefined, steps ? g.ints(steps) : undefined]);
}

export const Slice: Op<typeof slice> = {
  opType: 'Slice',
  sinceVersion: 13,
  inputs: [3, 5],
  attrs: {},
  build: slice,
  differentiable: [0],
  infer(ctx) {
    const x = need(ctx, 0);
    for (const i of [1, 2, 3, 4]) {
      const v = ctx.inputs[i];
      if (v && ((v.dtype !== 'int64' && v.dtype !== 'int32') || v.rank !== 1)) {
        throw new ShapeError(`${['', 'starts', 'ends', 'axes', 'steps'][i]} '${v.name}' must be a 1-D int64 or int32 tensor, got ${v}`);
      }
    }
    const shape: Dim[] = [...x.shape];
    const spec = sliceSpec(x.rank, ctx.inputs);
    const ranges: { first: number; count: number; step: number }[] = [];
    for (const s of spec) {
      const d = x.shape[s.axis];
      if (typeof d === 'number') {
        const r = resolveSlice(d, s);
        shape[s.axis] = r.count;
        ranges[s.axis] = { ...r, step: s.step };
      } else shape[s.axis] = wholeAxis(s) ? d : freshDim('slice');
    }
    // Shape arithmetic: slicing a shape vector slices the dims it holds.
    const held = x.rank === 1 && x.dtype === 'int64' ? heldDims(x) : undefined;
    const r0 = ranges[0];
    if (held && (spec.length === 0 || r0)) {
      const picked = r0 ? Array.from({ length: r0.count }, (_, k) => held[r0.first + k * r0.step]) : held;
      return [dimsOut(picked)];
    }
    return [{ dtype: x.dtype, shape }];
  },
  // dX = dY scattered back to the sliced positions, zeros elsewhere: for steps ±1 a reversal (step −1) and a Pad
  // with the cut-off margins; for |step| = k > 1 dY is first spread out along the axis with k − 1 zeros after
  // each element (Unsqueeze, Pad, Reshape on the axis moved last), then padded the same way
  grad: ({ g, inputs, dy: [d] }) => {
    const x = inputs[0];
    if (!x || !d) return [];
    const spec = sliceSpec(x.rank, inputs);
    const begin = new Array<number>(x.rank).fill(0);
    const end = new Array<number>(x.rank).fill(0);
    let cur = d;
    for (const s of spec) {
      const size = x.shape[s.axis];
      if (typeof size !== 'number') {
        if (wholeAxis(s) && s.step === 1) continue;
        if (wholeAxis(s)) {
          cur = reverse(g, cur, s.axis);
          continue;
        }
        throw new Error(`Slice gradient needs a static size on the sliced axis ${s.axis} of ${x}`);
      }
      const { first, count } = resolveSlice(size, s);
      if (count === 0) return [zerosLike(g, x)];
      // The selected indices in increasing order: lo, lo + k, …, lo + (count − 1)·k.
      const k = Math.abs(s.step);
      const lo = s.step > 0 ? first : first + (count - 1) * s.step;
      if (s.step < 0 && count > 1) cur = reverse(g, cur, s.axis);
      if (k > 1 && count > 1) cur = spread(g, cur, s.axis, count, k);
      const span = count > 1 ? (count - 1) * k + 1 : 1;
      begin[s.axis] = lo;
      end[s.axis] = size - lo - span;
    }
    const pads = [...begin, ...end];
    const dx = pads.some((p) => p !== 0) ? g.op1('Pad', [cur, g.ints(pads)]) : cur;
    return [asShapeOf(g, dx, x)];
  },
  reference: ([x, st, en, ax, sp]) => {
    const rank = x.shape.length;
    const nums = (t: typeof x | undefined) => (t ? Array.from(t.data as ArrayLike<number | bigint>, Number) : undefined);
    const starts = nums(st) ?? [];
    const axes = (nums(ax) ?? starts.map((_, i) => i)).map((a) => (a < 0 ? a + rank : a));
    const ends = nums(en) ?? [];
    const steps = nums(sp) ?? starts.map(() => 1);
    const first = x.shape.map(() => 0);
    const step = x.shape.map(() => 1);
    const shape = [...x.shape];
    axes.forEach((a, i) => {
      const r = resolveSlice(x.shape[a], { axis: a, start: starts[i], end: ends[i], step: steps[i] });
      first[a] = r.first;
      step[a] = steps[i];
      shape[a] = r.count;
    });
    const n = shape.reduce((p, q) => p * q, 1);
    const out = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const xi = unravel(k, shape).map((j, i) => first[i] + j * step[i]);
      out[k] = Number(x.data[ravel(xi, x.shape)]);
    }
    return [tensorData('float64', shape, out)];
  },
  cases: sliceCases(),
};

/** x reversed along an axis. */
function reverse(g: Graph, x: Value, axis: number): Value {
  return g.Slice(x, [-1], [-(2 ** 62)], [axis], [-1]);
}

/** [.., n, ..] → [.., (n − 1)·k + 1, ..] along the axis, each element followed by k − 1 zeros (none after the last). */
function spread(g: Graph, x: Value, axis: number, n: number, k: number): Value {
  const r = x.rank;
  const { perm, inv } = moveAxisLast(r, axis);
  let t = axis === r - 1 ? x : g.Transpose(x, perm);
  t = g.Unsqueeze(t, [r]);
  t = g.op1('Pad', [t, g.ints([...new Array<number>(2 * r + 1).fill(0), k - 1])]);
  // Merge the last two dims; the 0s copy the leading dims, symbolic ones included.
  t = g.Reshape(t, [...new Array<number>(r - 1).fill(0), n * k]);
  t = g.Slice(t, [0], [(n - 1) * k + 1], [r - 1]);
  return axis === r - 1 ? t : g.Transpose(t, inv);
}

function sliceCases(): OpCase[] {
  const ints = (values: number[]) => ({ shape: [values.length], dtype: 'int64' as const, values, constant: true });
  const BIG = 2 ** 53 - 1; // stands for INT64_MAX: the checker's values are JS numbers
  return [
    { name: 'starts/ends only', inputs: [{ shape: [3, 4] }, ints([1, 0]), ints([3, 3])] },
    { name: 'axes', inputs: [{ shape: [3, 4] }, ints([1]), ints([3]), ints([1])] },
    { name: 'negative indices, negative axis', inputs: [{ shape: [2, 3, 4] }, ints([-3]), ints([-1]), ints([-1])] },
    { name: 'clamped start and end', inputs: [{ shape: [3, 4] }, ints([-10, 2]), ints([BIG, 100]), ints([0, 1])] },
    { name: 'step 2', inputs: [{ shape: [3, 5] }, ints([0]), ints([5]), ints([1]), ints([2])] },
    { name: 'step 3 on axis 0, offset', inputs: [{ shape: [7, 2] }, ints([1]), ints([7]), ints([0]), ints([3])] },
    { name: 'step -1 reverses', inputs: [{ shape: [2, 4] }, ints([-1]), ints([-BIG]), ints([1]), ints([-1])] },
    { name: 'step -2, clamped start', inputs: [{ shape: [2, 6] }, ints([10]), ints([0]), ints([1]), ints([-2])] },
    {
      name: 'mixed steps on three axes',
      inputs: [{ shape: [3, 2, 4] }, ints([2, 0, 1]), ints([-BIG, 2, 4]), ints([0, 1, 2]), ints([-2, 1, 2])],
    },
    { name: 'single element with step -3', inputs: [{ shape: [4, 3] }, ints([2]), ints([0]), ints([0]), ints([-3])] },
    { name: 'empty slice', inputs: [{ shape: [3, 4] }, ints([2]), ints([1]), ints([0])] },
  ];
}

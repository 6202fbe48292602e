/**
 * ONNX Loop (opset 16): runs a body graph while `i < M` and `cond` holds. Inputs M (int64 scalar, optional), cond
 * (bool scalar, optional), v_initial…; body inputs (iteration_num, cond_in, v…), body outputs (cond_out, v'…,
 * scan…). Outputs: the final loop-carried values, then each scan output stacked along a new leading axis.
 */
import type { DType } from '../ir/dtype.js';
import { Attrs, Graph, Value } from '../ir/graph.js';
import { lookupOp } from '../ir/op-registry.js';
import type { Op, OpCase } from '../ir/op-schema.js';
import { type Dim, formatShape, freshDim, ShapeError } from '../ir/shape.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { describe as describeValue } from './common.js';

function isScalarLike(v: Value): boolean {
  return v.rank === 0 || (v.rank === 1 && v.shape[0] === 1);
}

/** Whether the body passes cond_in straight through (directly or via one Identity), so only M ends the loop. */
function condPassesThrough(body: Graph): boolean {
  const out = body.outputs[0];
  const condIn = body.inputs[1];
  if (out === condIn) return true;
  const p = out.producer;
  return p !== undefined && p.opType === 'Identity' && p.inputs[0] === condIn;
}

/**
 * g.Loop(tripCount, carried, bodyFn): runs bodyFn's graph `tripCount` times. bodyFn gets the body graph,
 * iteration_num (int64 []) and body copies of `carried`, and returns their new values (optionally
 * `{ carried, scans }` with per-iteration scan outputs); it may read this graph's values by name (and take gradients
 * inside the body). Returns the final loop-carried values, then each scan output stacked along a new leading axis.
 */
function loop(
  g: Graph,
  tripCount: Value | number,
  carried: readonly Value[],
  bodyFn: (body: Graph, iter: Value, carried: Value[]) => Value[] | { carried: Value[]; scans?: Value[] },
): Value[] {
  const body = g.subgraph('loop_body');
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
  body.output(body.op1('Identity', [condIn]));
  // A body output must be produced in the body and listed once: pass-throughs and outer values get an Identity.
  for (const v of [...next, ...scans]) {
    body.output(v.graph !== body || !v.producer || body.outputs.includes(v) ? body.op1('Identity', [v]) : v);
  }
  const m = tripCount instanceof Value ? tripCount : g.scalar(tripCount, 'int64');
  return g.op('Loop', [m, undefined, ...carried], { body }, { outputs: carried.length + scans.length });
}

export const Loop: Op<typeof loop> = {
  opType: 'Loop',
  sinceVersion: 16,
  inputs: [2, Infinity],
  attrs: { body: 'graph' },
  build: loop,
  infer(ctx) {
    const [m, cond, ...init] = ctx.inputs;
    const body = ctx.attrs.graph('body');
    if (m && (m.dtype !== 'int64' || !isScalarLike(m)))
      throw new ShapeError(`trip count M must be an int64 scalar, got ${describeValue(m)}`);
    if (cond && (cond.dtype !== 'bool' || !isScalarLike(cond)))
      throw new ShapeError(`cond must be a bool scalar, got ${describeValue(cond)}`);
    const carried: Value[] = init.map((v, i) => {
      if (!v) throw new ShapeError(`loop-carried input ${i + 2} is omitted; every v_initial is required`);
      return v;
    });
    const n = carried.length;
    if (body.inputs.length !== n + 2) {
      throw new ShapeError(
        `body '${body.name}' has ${body.inputs.length} inputs; it needs ${n + 2} (iteration_num, cond_in and one per loop-carried value)`,
      );
    }
    const [iterIn, condIn] = body.inputs;
    if (iterIn.dtype !== 'int64') throw new ShapeError(`body input 0 (iteration_num) must be int64, got ${describeValue(iterIn)}`);
    if (condIn.dtype !== 'bool') throw new ShapeError(`body input 1 (cond_in) must be bool, got ${describeValue(condIn)}`);
    if (body.outputs.length < n + 1) {
      throw new ShapeError(
        `body '${body.name}' has ${body.outputs.length} outputs; it needs at least ${n + 1} (cond_out and one per loop-carried value)`,
      );
    }
    const condOut = body.outputs[0];
    if (condOut.dtype !== 'bool') throw new ShapeError(`body output 0 (cond_out) must be bool, got ${describeValue(condOut)}`);
    const k = body.outputs.length - 1 - n;
    if (ctx.numOutputs !== undefined && ctx.numOutputs !== n + k) {
      throw new ShapeError(`${n} loop-carried and ${k} scan outputs make ${n + k} outputs, but ${ctx.numOutputs} were requested`);
    }
    const outs = carried.map((v, i) => {
      const bodyIn = body.inputs[i + 2];
      const bodyOut = body.outputs[i + 1];
      for (const [what, b] of [
        ['input', bodyIn],
        ['output', bodyOut],
      ] as const) {
        if (b.dtype !== v.dtype || b.rank !== v.rank) {
          throw new ShapeError(
            `loop-carried value ${i} starts as ${describeValue(v)} but body ${what} '${b.name}' is ${b.dtype}${formatShape(b.shape)}; dtype and rank must agree`,
          );
        }
      }
      // A dim the body changes statically is unknown after the loop; otherwise the initial value's dims hold.
      const shape = v.shape.map((d, j) => {
        const e = bodyOut.shape[j];
        return typeof d === 'number' && typeof e === 'number' && d !== e ? freshDim('loop') : d;
      });
      return { dtype: v.dtype, shape };
    });
    // Scan outputs stack one slice per iteration: the trip count is static only if M is a constant and nothing
    // else can end the loop early.
    const mConst = m?.constValue ? Number(m.constValue.data[0]) : undefined;
    const condConst = cond === undefined || (cond.constValue !== undefined && Number(cond.constValue.data[0]) !== 0);
    const trips: Dim = mConst !== undefined && condConst && condPassesThrough(body) ? Math.max(0, mConst) : freshDim('loop_iters');
    const scans = body.outputs.slice(n + 1).map((s) => ({ dtype: s.dtype, shape: [trips, ...s.shape] }));
    return [...outs, ...scans];
  },
  // No gradient rule: Loop serves to fuse K optimizer steps, whose gradients are computed inside the body.
  reference: (ins, attrs) => {
    const [m, cond, ...init] = ins;
    const body = attrs.graph('body');
    const maxTrips = m ? Number(m.data[0]) : Infinity;
    let c = cond ? Number(cond.data[0]) !== 0 : true;
    let carried = init;
    const scans: TensorData[][] = body.outputs.slice(init.length + 1).map(() => []);
    for (let i = 0; i < maxTrips && c; i++) {
      const outs = evaluateGraph(body, [tensorData('int64', [], [BigInt(i)]), tensorData('bool', [], [c ? 1 : 0]), ...carried]);
      c = Number(outs[0].data[0]) !== 0;
      carried = outs.slice(1, init.length + 1);
      outs.slice(init.length + 1).forEach((s, j) => {
        scans[j].push(s);
      });
    }
    return [...carried, ...scans.map((ss, j) => stack(ss, body.outputs[init.length + 1 + j]))];
  },
  // A getter: the case body is built with builder methods, which ops/builder.ts installs after every op has loaded.
  get cases() {
    caseCache ??= [
      {
        name: '3 steps, carried and scan outputs',
        inputs: [
          { shape: [], dtype: 'int64', values: [3], constant: true },
          { shape: [], dtype: 'bool', values: [1], constant: true },
          { shape: [2, 3] },
        ],
        outputs: 2,
        attrs: { body: caseBody() },
        noGrad: 'Loop has no gradient rule by design: K fused optimizer steps compute their gradients inside the body',
      },
    ];
    return caseCache;
  },
};

let caseCache: OpCase[] | undefined;

/** The body of the test case: v' = 0.5·v + iteration_num, scan output v·v. */
function caseBody(): Graph {
  const b = new Graph('loop_case_body');
  return b.scope('loop_case', () => {
    const iter = b.input('loop_case.iteration_num', 'int64', []);
    const condIn = b.input('loop_case.cond_in', 'bool', []);
    const v = b.input('loop_case.v', 'float64', [2, 3]);
    b.output(b.Identity(condIn));
    b.output(b.Add(b.Mul(v, b.scalar(0.5, 'float64')), b.Cast(iter, 'float64')));
    b.output(b.Mul(v, v));
    return b;
  });
}

function stack(slices: TensorData[], like: Value): TensorData {
  const inner = slices[0]?.shape ?? like.shape.map((d) => (typeof d === 'number' ? d : 0));
  const per = inner.reduce((a, b) => a * b, 1);
  const dtype = slices[0]?.dtype ?? like.dtype;
  const vals: (number | bigint)[] = [];
  for (const s of slices) for (let e = 0; e < per; e++) vals.push(s.data[e]);
  return tensorData(dtype, [slices.length, ...inner], dtype === 'int64' ? vals.map((v) => BigInt(v)) : vals.map(Number));
}

/**
 * Runs a graph with the float64 references of its ops (the Loop reference). Values from an enclosing graph are
 * read from their constant value, the only kind a reference can know.
 */
export function evaluateGraph(g: Graph, feeds: TensorData[]): TensorData[] {
  const env = new Map<Value, TensorData>();
  g.inputs.forEach((v, i) => {
    env.set(v, feeds[i]);
  });
  for (const v of g.initializers) if (v.constValue) env.set(v, v.constValue);
  const read = (v: Value): TensorData => {
    const t = env.get(v) ?? v.constValue;
    if (!t) throw new Error(`reference of graph '${g.name}': value '${v.name}' is not known (an outer value without a constant)`);
    return t;
  };
  for (const node of g.nodes) {
    const def = lookupOp(node.opType, node.domain);
    if (!def?.reference) throw new Error(`reference of graph '${g.name}': ${node} has no reference implementation`);
    const ins = [...node.inputs];
    while (ins.length > 0 && ins[ins.length - 1] === undefined) ins.pop();
    const vals = ins.map((v, i) => {
      if (!v) throw new Error(`reference of graph '${g.name}': ${node} omits input ${i} in the middle`);
      return read(v);
    });
    const outs = def.reference(vals, new Attrs(node.attrs, String(node), def.attrs));
    node.outputs.forEach((o, i) => {
      env.set(o, outs[i]);
    });
  }
  return g.outputs.map(read);
}

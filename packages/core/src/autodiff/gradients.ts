import { isFloat } from '../ir/dtype.js';
import { Attrs, type Graph, type Node, type Value } from '../ir/graph.js';
import { lookupOp } from '../ir/op-registry.js';
import { type Dim, formatShape, ShapeError, sameShape } from '../ir/shape.js';
import { tensorData } from '../ir/tensor.js';
// Gradient rules build with the builder methods; this registers the ops and installs them.
import '../ops/builder.js';
import { GraphError } from '../errors.js';

export interface GradientOptions {
  /** dL/dy; required when y is not a scalar (then the result is the vector–Jacobian product). */
  seed?: Value;
  /** Name scope for the emitted nodes (default 'grad'). */
  scope?: string;
  /** Name each result `<wrt>_grad` (default true). */
  nameResults?: boolean;
}

/** No rule to differentiate a node (or one that fails): names the op and the node. */
export class GradientError extends GraphError {
  override name = 'GradientError';
}

/**
 * Reverse-mode gradients of y with respect to each of `wrt`, emitted as nodes of the same graph.
 * Broadcasting is undone here (gradient rules return the broadcast shape), contributions of a value that fans out
 * are summed, stop-gradient Identities block the flow, and a value with no path from y gets a zero gradient.
 */
export function gradients(g: Graph, y: Value, wrt: readonly Value[], opts: GradientOptions = {}): Value[] {
  if (!g.isVisible(y)) throw new GradientError(`gradients: ${y} is not a value of graph '${g.name}'`);
  // In a subgraph (a Loop body), y may depend on wrt through the enclosing graphs' nodes too; all precede g's.
  const nodes: Node[] = [];
  for (let s: Graph | undefined = g; s; s = s.parent) nodes.unshift(...s.nodes);
  // Values that depend on some wrt (forward reachability), including through values a node's body reads by name.
  const dependsOnWrt = new Set<Value>(wrt);
  const viaBody = new Map<Node, Value | undefined>();
  for (const n of nodes) {
    const captured = capturedValues(n).find((v) => dependsOnWrt.has(v));
    viaBody.set(n, captured);
    if (captured || n.inputs.some((v) => v && dependsOnWrt.has(v))) for (const o of n.outputs) dependsOnWrt.add(o);
  }
  // Values y depends on (backward reachability).
  const reachesY = new Set<Value>([y]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (n.outputs.some((o) => reachesY.has(o))) for (const v of n.inputs) if (v) reachesY.add(v);
  }

  const pending = new Map<Value, Value[]>();
  const created = new Set<Value>();
  const add = (v: Value, gv: Value) => {
    const list = pending.get(v);
    if (list) list.push(gv);
    else pending.set(v, [gv]);
  };
  const total = (v: Value): Value | undefined => {
    const list = pending.get(v);
    if (!list || list.length === 0) return undefined;
    if (list.length === 1) return list[0];
    const s = list.reduce((a, b) => g.Add(a, b));
    created.add(s);
    pending.set(v, [s]);
    return s;
  };

  return g.scope(opts.scope ?? 'grad', () => {
    let seed = opts.seed;
    if (!seed) {
      if (!y.shape.every((d) => d === 1)) {
        throw new GradientError(`gradients: ${y} is not a scalar; pass a seed gradient of its shape (opts.seed)`);
      }
      seed = g.Constant(tensorData(y.dtype, y.shape as number[], new Array(y.shape.length ? 1 : 1).fill(1)), 'seed');
    } else if (!sameShape(seed.shape, y.shape) || seed.dtype !== y.dtype) {
      throw new GradientError(`gradients: seed ${seed} must match ${y}`);
    }
    add(y, seed);

    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i];
      if (!node.outputs.some((o) => reachesY.has(o))) continue;
      const captured = viaBody.get(node);
      if (!captured && !node.inputs.some((v) => v && dependsOnWrt.has(v))) continue;
      const dy = node.outputs.map(total);
      if (dy.every((d) => d === undefined)) continue;
      if (node.stopGradient) continue;
      if (captured) {
        throw new GradientError(
          `${node.opType} ${describeNode(node)} reads '${captured.name}' inside its body, and that value depends on a value being differentiated; gradients through a subgraph are not supported (take them inside the body instead)`,
        );
      }
      const def = lookupOp(node.opType, node.domain);
      if (!def) throw new GradientError(`no definition for operator ${node.opType} (${describeNode(node)})`);
      if (def.grad === 'none') continue;
      const diff = def.differentiable;
      const needs = node.inputs.map(
        (v, k) => v !== undefined && dependsOnWrt.has(v) && isFloat(v.dtype) && (diff === undefined || diff.includes(k)),
      );
      if (!needs.some(Boolean)) continue;
      if (!def.grad) {
        throw new GradientError(
          `operator ${node.opType} has no gradient rule (${describeNode(node)}); it lies between the loss and a value being differentiated`,
        );
      }
      const where = describeNode(node);
      const grads = def.grad({
        g,
        node,
        inputs: node.inputs,
        outputs: node.outputs,
        dy,
        needs,
        attrs: new Attrs(node.attrs, where, def.attrs),
      });
      node.inputs.forEach((v, k) => {
        const gk = grads[k];
        if (!v || !needs[k] || !gk) return;
        if (gk.dtype !== v.dtype) throw new GradientError(`${where}: gradient for input ${k} is ${gk.dtype}, expected ${v.dtype}`);
        const red = unbroadcast(g, gk, v.shape, where);
        created.add(red);
        add(v, red);
      });
    }

    return wrt.map((w) => {
      let gw = total(w);
      if (!gw) gw = zerosLike(g, w);
      if (opts.nameResults !== false && created.has(gw) && gw.producer?.graph === g && !g.outputs.includes(gw)) {
        const want = `${w.name}_grad`;
        try {
          g.renameValue(gw, want);
        } catch {
          // The name is taken (e.g. gradients were taken twice); keep the generated name.
        }
      }
      return gw;
    });
  });
}

/** Values of enclosing graphs that a node's subgraph attributes (Loop/If bodies) read by name. */
function capturedValues(n: Node): Value[] {
  const out: Value[] = [];
  const visit = (sub: Graph) => {
    const own = new Set<Value>([...sub.inputs, ...sub.initializers, ...sub.nodes.flatMap((m) => m.outputs)]);
    for (const m of sub.nodes) {
      for (const v of m.inputs) if (v && !own.has(v) && v.graph !== sub) out.push(v);
      for (const a of m.attrs.values()) if (a.type === 'graph') visit(a.value);
    }
    for (const v of sub.outputs) if (!own.has(v)) out.push(v);
  };
  for (const a of n.attrs.values()) if (a.type === 'graph') visit(a.value);
  return out;
}

function describeNode(n: Node): string {
  return `node '${n.name}', inputs ${n.inputs.map((v) => (v ? `${v.name}${formatShape(v.shape)}` : '-')).join(', ')}`;
}

function zerosLike(g: Graph, w: Value): Value {
  if (w.shape.every((d) => typeof d === 'number')) {
    return g.Constant(tensorData(w.dtype, w.shape as number[]), 'zeros');
  }
  return g.ConstantOfShape(g.Shape(w), tensorData(w.dtype, [1]));
}

/** Sums a gradient of a broadcast shape down to `target` (the input's shape). */
export function unbroadcast(g: Graph, gv: Value, target: readonly Dim[], where = ''): Value {
  if (sameShape(gv.shape, target)) return gv;
  const k = gv.shape.length - target.length;
  if (k < 0) throw new ShapeError(`${where}: gradient ${formatShape(gv.shape)} has lower rank than its input ${formatShape(target)}`);
  const axes: number[] = [];
  for (let i = 0; i < gv.shape.length; i++) {
    if (i < k) {
      axes.push(i);
      continue;
    }
    const t = target[i - k];
    const s = gv.shape[i];
    if (t === s) continue;
    if (t === 1) axes.push(i);
    else throw new ShapeError(`${where}: cannot reduce gradient ${formatShape(gv.shape)} to input shape ${formatShape(target)}`);
  }
  let r = axes.length ? g.ReduceSum(gv, axes, true) : gv;
  if (k > 0)
    r = g.Squeeze(
      r,
      Array.from({ length: k }, (_, i) => i),
    );
  return r;
}

/** Optimizers as graph fragments: they read gradients and state as values and return the updated ones. */
import type { Graph, Value } from '../ir/graph.js';

export interface OptimizerConfig {
  type: 'adam' | 'adamw' | 'sgd';
  beta1: number;
  beta2: number;
  eps: number;
  /** AdamW's decoupled weight decay (and L2-free for Adam/SGD). */
  weightDecay: number;
  /** SGD momentum μ (0 = plain SGD). */
  momentum: number;
  /** Global-norm gradient clipping threshold; undefined or 0 turns it off. */
  clipNorm?: number;
}

export interface ParamSlot {
  name: string;
  value: Value;
  grad: Value;
  /** Optimizer state values in the order of stateNames(). */
  state: Value[];
}

export interface UpdatedSlot {
  value: Value;
  state: Value[];
}

/** Names of the optimizer state tensors of one parameter: `<param>.adam_m`, `<param>.adam_v` or `<param>.momentum`. */
export function stateNames(cfg: OptimizerConfig, param: string): string[] {
  if (cfg.type === 'sgd') return cfg.momentum > 0 ? [`${param}.momentum`] : [];
  return [`${param}.adam_m`, `${param}.adam_v`];
}

/**
 * Scales all gradients by min(1, c/‖g‖) where ‖g‖ is the global L2 norm: the direction is kept, the step bounded.
 * Returns the clipped gradients and the norm before clipping.
 */
export function clipByGlobalNorm(g: Graph, grads: Value[], maxNorm: number): { grads: Value[]; norm: Value } {
  const sq = grads.map((gr) => g.ReduceSumSquare(gr, undefined, false));
  const norm = g.Sqrt(sq.length === 1 ? sq[0] : g.Sum(...sq));
  const scale = g.Min(g.Div(g.scalar(maxNorm, norm.dtype), g.Add(norm, 1e-6)), g.scalar(1, norm.dtype));
  return { grads: grads.map((gr) => g.Mul(gr, scale)), norm };
}

/**
 * One optimizer step for every slot. `lr` is a scalar input; `t` is the 1-based step number as a float scalar
 * (for Adam's bias correction).
 */
export function applyOptimizer(
  g: Graph,
  cfg: OptimizerConfig,
  slots: ParamSlot[],
  lr: Value,
  t: Value,
): { updated: UpdatedSlot[]; gradNorm?: Value } {
  return g.scope('optim', () => {
    let grads = slots.map((s) => s.grad);
    let gradNorm: Value | undefined;
    if (cfg.clipNorm && cfg.clipNorm > 0) {
      const c = clipByGlobalNorm(g, grads, cfg.clipNorm);
      grads = c.grads;
      gradNorm = c.norm;
    }
    if (cfg.type === 'sgd') return { updated: slots.map((s, i) => sgdStep(g, cfg, s, grads[i], lr)), gradNorm };
    // Bias corrections 1 − β1ᵗ and 1 − β2ᵗ are shared by all parameters, and folded into two scalars:
    // lr·m̂/(√v̂ + ε) = (lr·√c2/c1)·m/(√v + ε·√c2), which saves two full-size ops per parameter.
    const c1 = g.Sub(1, g.Pow(g.scalar(cfg.beta1, t.dtype), t));
    const sc2 = g.Sqrt(g.Sub(1, g.Pow(g.scalar(cfg.beta2, t.dtype), t)));
    const lrT = g.Div(g.Mul(lr, sc2), c1);
    const epsT = g.Mul(sc2, cfg.eps);
    return { updated: slots.map((s, i) => adamStep(g, cfg, s, grads[i], lr, lrT, epsT)), gradNorm };
  });
}

/**
 * Adam (Kingma & Ba): m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p − lr·m̂/(√v̂ + ε), m̂ = m/(1−β1ᵗ),
 * v̂ = v/(1−β2ᵗ), computed as p − lrT·m/(√v + epsT). AdamW adds the decoupled decay p ← p − lr·λ·p.
 */
function adamStep(g: Graph, cfg: OptimizerConfig, s: ParamSlot, grad: Value, lr: Value, lrT: Value, epsT: Value): UpdatedSlot {
  return g.scope(s.name, () => {
    const [m, v] = s.state;
    const m2 = g.Add(g.Mul(m, cfg.beta1), g.Mul(grad, 1 - cfg.beta1));
    const v2 = g.Add(g.Mul(v, cfg.beta2), g.Mul(g.Mul(grad, grad), 1 - cfg.beta2));
    let value = g.Sub(s.value, g.Mul(g.Div(m2, g.Add(g.Sqrt(v2), epsT)), lrT));
    if (cfg.type === 'adamw' && cfg.weightDecay > 0) value = g.Sub(value, g.Mul(s.value, g.Mul(lr, cfg.weightDecay)));
    return { value, state: [m2, v2] };
  });
}

/** SGD with momentum (PyTorch's form): b ← μ·b + g; p ← p − lr·b. Without momentum: p ← p − lr·g. */
function sgdStep(g: Graph, cfg: OptimizerConfig, s: ParamSlot, grad: Value, lr: Value): UpdatedSlot {
  return g.scope(s.name, () => {
    let d = grad;
    if (cfg.weightDecay > 0) d = g.Add(d, g.Mul(s.value, cfg.weightDecay));
    if (cfg.momentum > 0) {
      const b = g.Add(g.Mul(s.state[0], cfg.momentum), d);
      return { value: g.Sub(s.value, g.Mul(b, lr)), state: [b] };
    }
    return { value: g.Sub(s.value, g.Mul(d, lr)), state: [] };
  });
}

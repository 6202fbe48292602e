/** Optimizers as graph fragments: they read gradients and state as values and return the updated ones. */
import type { Graph, Value } from '../ir/graph.js';
import { tensorData } from '../ir/tensor.js';

export interface OptimizerConfig {
  type: 'adam' | 'adamw' | 'sgd';
  beta1: number;
  beta2: number;
  eps: number;
  /** Weight decay λ ≥ 0: L2 (g ← g + λ·p) for Adam and SGD, decoupled (p ← p − lr·λ·p) for AdamW, as in PyTorch. */
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
    const { lrT, epsT } = adamScalars(g, cfg, lr, t);
    return { updated: slots.map((s, i) => adamStep(g, cfg, s, grads[i], lr, lrT, epsT)), gradNorm };
  });
}

/**
 * Adam's bias corrections c1 = 1 − β1ᵗ and c2 = 1 − β2ᵗ, shared by all parameters and folded into two scalars:
 * lr·m̂/(√v̂ + ε) = (lr·√c2/c1)·m/(√v + ε·√c2) = lrT·m/(√v + epsT), which saves two full-size ops per parameter.
 */
function adamScalars(g: Graph, cfg: OptimizerConfig, lr: Value, t: Value): { lrT: Value; epsT: Value } {
  const c = oneMinusPow(g, [cfg.beta1, cfg.beta2], t);
  const c1 = g.Gather(c, g.scalar(0, 'int64'), 0);
  const sc2 = g.Sqrt(g.Gather(c, g.scalar(1, 'int64'), 0));
  return { lrT: g.Div(g.Mul(lr, sc2), c1), epsT: g.Mul(sc2, cfg.eps) };
}

/**
 * [1 − βᵗ for each β] at step t (t: a float scalar, or any shape that broadcasts against [betas.length]), to within a
 * few roundings of the exact value: what torch.optim.Adam uses, which computes it in double.
 *
 * float64: 1 − βᵗ as written, as PyTorch does.
 *
 * float32: written that way it cancels. fl32(0.999) = 0.999 + δ, δ = 1.3e-8, so β2ᵗ is off by ≈ t·δ and
 * 1 − β2ᵗ ≈ t·1e-3 by δ/(1 − β2) = 1.3e-5 relative for t ≪ 1000: every step of every parameter was scaled by the
 * same wrong factor, and float32 training drifted from a float64 reference 40–150× faster than float32 rounding makes
 * it (adam-precision.test.ts: loss 3.2e-5 relative after 100 steps, against 2.2e-7 now). Instead ln β is taken in double (one rounding) and 1 − βᵗ = −expm1(a), a = t·ln β ≤ 0:
 * - a ≥ −1/2: expm1(a) = a·Σⱼ aʲ/(j+1)!, j = 0…8 by Horner; the first term left out is < 0.5⁹/10! ≈ 5e-10 relative.
 * - a < −1/2: 1 − eᵃ ≥ 0.39 does not cancel; its relative error is at most 1.6× that of Exp.
 * Measured: within 2.6 float32 ulps on onnxruntime CPU and WASM, 4.7 on WebGPU (was 445 for β = 0.999).
 *
 * Why float32 ops and not (a) float64 in the graph or (b) host-side inputs: (a) fails on onnxruntime-web 1.30's
 * WebGPU build, which has no float64 Cast kernel (session creation fails; checked in Chromium), and (b) would change
 * train_step's signature for every host (Trainer, FineTuner, Refiner, Python users) and need one value per step of a
 * fused Loop. These ~30 scalar nodes (Mul, Add, Exp, Where) run on every runtime, and inside the fused ONNX Loop,
 * which counts t in the graph (exact in float32 up to 2²⁴ steps).
 */
export function oneMinusPow(g: Graph, betas: readonly number[], t: Value): Value {
  const dt = t.dtype;
  const vec = (v: readonly number[]) => g.Constant(tensorData(dt, [v.length], v));
  if (dt === 'float64') return g.Sub(1, g.Pow(vec(betas), t));
  const a = g.Mul(t, vec(betas.map(Math.log))); // β = 0: a = −∞, and 1 − eᵃ = 1
  const small = g.Max(a, g.scalar(-0.5, dt)); // the series only where it is used (no overflow in the branch Where drops)
  const COEF = [1, 2, 6, 24, 120, 720, 5040, 40320, 362880].map((f) => 1 / f); // 1/(j+1)!
  let h = g.scalar(COEF[COEF.length - 1], dt);
  for (let j = COEF.length - 2; j >= 0; j--) h = g.Add(g.Mul(small, h), COEF[j]);
  const series = g.Neg(g.Mul(small, h));
  return g.Where(g.Less(a, -0.5), g.Sub(1, g.Exp(a)), series);
}

/**
 * Adam (Kingma & Ba): m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p − lr·m̂/(√v̂ + ε), m̂ = m/(1−β1ᵗ),
 * v̂ = v/(1−β2ᵗ), computed as p − lrT·m/(√v + epsT). Weight decay λ, as in PyTorch: Adam's is L2, added to the
 * gradient before the moments (g ← g + λ·p, torch.optim.Adam); AdamW's is decoupled, p ← p − lr·λ·p on the old p
 * (torch.optim.AdamW).
 */
function adamStep(g: Graph, cfg: OptimizerConfig, s: ParamSlot, grad: Value, lr: Value, lrT: Value, epsT: Value): UpdatedSlot {
  return g.scope(s.name, () => {
    const [m, v] = s.state;
    const d = cfg.type === 'adam' && cfg.weightDecay > 0 ? g.Add(grad, g.Mul(s.value, cfg.weightDecay)) : grad;
    const m2 = g.Add(g.Mul(m, cfg.beta1), g.Mul(d, 1 - cfg.beta1));
    const v2 = g.Add(g.Mul(v, cfg.beta2), g.Mul(g.Mul(d, d), 1 - cfg.beta2));
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

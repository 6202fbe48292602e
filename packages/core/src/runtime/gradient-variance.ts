/**
 * Gradient-variance report: on one model and one batch, the gradient of the loss −ELBO estimated again and again
 * with fresh noise, per estimator — reparameterization, score function without a baseline, and with each baseline.
 * Each estimator's per-element mean and variance over the draws is summarized per parameter tensor. The graphs are
 * models/gradient-variance.ts's; the sessions come from the host's factory (its provider and options).
 *
 * @example
 * const r = await measureGradientVariance(ort, createSession, cfg, state.params, x, 64, { draws: 200 });
 * for (const e of r.estimators) console.log(e.name, e.meanVariance, e.ratio);
 */

import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { serializeModel } from '../ir/serialize.js';
import type { TensorData } from '../ir/tensor.js';
import { inputSize, type VaeConfig } from '../models/config.js';
import { fillLatentNoise, latentWidth } from '../models/discrete.js';
import { buildGradientGraph, defaultEstimators, type EstimatorChoice, GRADIENT_GRAPH_BASELINE } from '../models/gradient-variance.js';
import { parameterSpecs } from '../models/graphs.js';
import { isEstimatorParam } from '../models/nvil.js';
import { baselineDecayOf } from '../models/score-function.js';
import { initParams } from '../nn/params.js';
import { Prng } from '../random/prng.js';
import type { OrtModule, SessionFactory } from './runtime.js';
import { floatTensor } from './tensors.js';

export interface ParamGradientStats {
  name: string;
  shape: number[];
  /** Per-element mean of the gradient estimate over the draws. */
  mean: Float64Array;
  /** Per-element variance over the draws (unbiased, n − 1). */
  variance: Float64Array;
  /** Mean over the tensor's elements of the per-element variance. */
  meanVariance: number;
}

export interface EstimatorStats extends EstimatorChoice {
  params: ParamGradientStats[];
  /** Mean over all parameter elements of the per-element variance. */
  meanVariance: number;
  /** meanVariance relative to the reference estimator's (reparam, or score without baseline for discrete latents). */
  ratio: number;
  /** meanVariance relative to the lowest of the report's (1 for the best row). */
  ratioToBest: number;
  /** The moving-average baseline's value used (after the warm-up), if any. */
  baselineValue?: number;
}

export interface VarianceOptions {
  /** Gradient estimates per estimator (default 200). */
  draws?: number;
  /** Samples M per estimate (default the config's). */
  samples?: number;
  seed?: number;
  estimators?: EstimatorChoice[];
  /** Moving-average warm-up: updates of b ← α·b + (1 − α)·mean r before the draws are measured (default 50). */
  warmup?: number;
  onProgress?: (estimator: string, done: number, total: number) => void;
}

export interface VarianceReport {
  draws: number;
  samples: number;
  batch: number;
  /** Name of the estimator the ratios divide by. */
  reference: string;
  /** Name of the estimator with the lowest mean variance (ratioToBest divides by it). */
  best: string;
  estimators: EstimatorStats[];
}

/**
 * Runs each estimator `draws` times on the same parameters and batch x (batch × D values) with independent noise
 * streams, and returns the per-element mean and variance of the gradient of −ELBO. Each estimator's graph gets its
 * session from `createSession` (named 'gradients.onnx').
 */
export async function measureGradientVariance(
  ort: OrtModule,
  createSession: SessionFactory,
  cfg: VaeConfig,
  params: Record<string, TensorData>,
  x: Float32Array | Float64Array,
  batch: number,
  opts: VarianceOptions = {},
): Promise<VarianceReport> {
  const draws = opts.draws ?? 200;
  const m = opts.samples ?? cfg.samples;
  if (!Number.isInteger(draws) || draws < 2) throw new Error(`gradient variance: draws must be an integer ≥ 2, got ${draws}`);
  if (!Number.isInteger(m) || m < 1) throw new Error(`gradient variance: samples must be a positive integer, got ${m}`);
  const d = inputSize(cfg);
  if (x.length !== batch * d) throw new Error(`gradient variance: x has ${x.length} values, expected ${batch} × ${d}`);
  const dt = cfg.dtype;
  const arr = (n: number) => (dt === 'float32' ? new Float32Array(n) : new Float64Array(n));
  const tensor = (data: Float32Array | Float64Array, dims: number[]) => floatTensor(ort, dt, data, dims);
  const xt = tensor(dt === 'float32' ? Float32Array.from(x) : Float64Array.from(x), [batch, d]);
  const choices = opts.estimators ?? defaultEstimators(cfg, m);
  const master = new Prng(opts.seed ?? 0);
  const w = latentWidth(cfg);
  const results: EstimatorStats[] = [];
  for (const choice of choices) {
    const g = buildGradientGraph(cfg, choice, m);
    const session = await createSession(serializeModel(g), 'gradients.onnx');
    const paramFeeds: Record<string, Tensor> = {};
    const inputs = g.inputs.map((v) => v.name).filter((n) => n !== 'x' && n !== 'eps' && n !== GRADIENT_GRAPH_BASELINE);
    // The model's parameters are measured; an estimator's own (NVIL's b_ψ) are fitted during the warm-up.
    const names = inputs.filter((n) => !isEstimatorParam(n));
    const own = inputs.filter(isEstimatorParam);
    const ownValues = own.length ? estimatorParams(cfg, params, own, opts.seed ?? 0) : {};
    for (const n of inputs) {
      const t = params[n] ?? ownValues[n];
      if (!t) throw new Error(`gradient variance: parameter '${n}' is missing`);
      paramFeeds[n] = tensor(
        t.dtype === dt
          ? (t.data as Float32Array)
          : dt === 'float32'
            ? Float32Array.from(t.data as Float64Array)
            : Float64Array.from(t.data as Float32Array),
        [...t.shape],
      );
    }
    const prng = master.split();
    const run = async (baseline?: number) => {
      const eps = fillLatentNoise(cfg, prng, arr(m * batch * w));
      const feeds: Record<string, Tensor> = { x: xt, eps: tensor(eps, [m, batch, w]), ...paramFeeds };
      if (baseline !== undefined)
        feeds[GRADIENT_GRAPH_BASELINE] = tensor(dt === 'float32' ? Float32Array.of(baseline) : Float64Array.of(baseline), [1]);
      return session.run(feeds);
    };
    let baselineValue: number | undefined;
    if (choice.baseline === 'moving-average') baselineValue = await warmUpBaseline(run, baselineDecayOf(cfg), opts.warmup ?? 50);
    if (choice.baseline === 'nvil') {
      // c as the moving average is warmed up, and b_ψ fitted to r − c by Adam on the same draws (twice as many).
      const adam = new HostAdam(
        own.map((n) => ownValues[n] ?? params[n]),
        1e-2,
      );
      baselineValue = await warmUpBaseline(run, baselineDecayOf(cfg), 2 * (opts.warmup ?? 50), (out) => {
        adam.step(own.map((n) => out[`${n}_grad`].data as Float32Array | Float64Array));
        own.forEach((n, i) => {
          const v = adam.values[i];
          paramFeeds[n] = tensor(dt === 'float32' ? Float32Array.from(v) : v, [...(ownValues[n] ?? params[n]).shape]);
        });
      });
    }
    const stats = names.map((n) => ({ name: n, shape: [...params[n].shape], acc: new Welford(params[n].data.length) }));
    for (let i = 0; i < draws; i++) {
      const out = await run(baselineValue);
      for (const s of stats) s.acc.add(out[`${s.name}_grad`].data as Float32Array);
      opts.onProgress?.(choice.name, i + 1, draws);
    }
    await session.release();
    const ps: ParamGradientStats[] = stats.map((s) => {
      const variance = s.acc.variance();
      return { name: s.name, shape: s.shape, mean: s.acc.mean, variance, meanVariance: average(variance) };
    });
    const all = ps.flatMap((p) => Array.from(p.variance));
    results.push({ ...choice, params: ps, meanVariance: average(all), ratio: Number.NaN, ratioToBest: Number.NaN, baselineValue });
  }
  // The reference is an exact estimator of the model's own bound: reparameterization, else the baseline-free score.
  const own = results.filter((r) => !r.relaxation);
  const ref = own.find((r) => r.estimator === 'reparam') ?? own.find((r) => r.baseline === 'none') ?? results[0];
  const best = results.reduce((a, r) => (r.meanVariance < a.meanVariance ? r : a), results[0]);
  for (const r of results) {
    r.ratio = r.meanVariance / ref.meanVariance;
    r.ratioToBest = r.meanVariance / best.meanVariance;
  }
  return { draws, samples: m, batch, reference: ref.name, best: best.name, estimators: results };
}

/** Runs the moving-average recursion b ← α·b + (1 − α)·mean r (bias-corrected) for n draws; returns its value. */
async function warmUpBaseline(
  run: (baseline?: number) => Promise<InferenceSession.OnnxValueMapType>,
  alpha: number,
  n: number,
  onDraw?: (out: InferenceSession.OnnxValueMapType) => void,
): Promise<number> {
  let b = 0;
  let used = 0;
  for (let t = 1; t <= n; t++) {
    used = t > 1 ? b / (1 - alpha ** (t - 1)) : 0;
    const out = await run(used);
    b = alpha * b + (1 - alpha) * Number((out.reward_mean.data as Float32Array)[0]);
    onDraw?.(out);
  }
  return n > 0 ? b / (1 - alpha ** n) : used;
}

/** An estimator's own parameters: the given ones (a model trained with it), else fresh from parameterSpecs' inits. */
function estimatorParams(cfg: VaeConfig, params: Record<string, TensorData>, names: string[], seed: number): Record<string, TensorData> {
  if (names.every((n) => params[n])) return {};
  const specs = parameterSpecs({
    ...cfg,
    estimator: 'score',
    objective: cfg.objective === 'iwae' ? 'kl' : cfg.objective,
    baseline: 'nvil',
  });
  return initParams(
    specs.filter((s) => names.includes(s.name)),
    new Prng(seed).split(),
    cfg.dtype,
  );
}

/** Adam on host arrays (float64), for the few parameters a warm-up fits. */
class HostAdam {
  readonly values: Float64Array[];
  private readonly m: Float64Array[];
  private readonly v: Float64Array[];
  private t = 0;
  constructor(
    init: TensorData[],
    private readonly lr: number,
  ) {
    this.values = init.map((t) => Float64Array.from(t.data as Float64Array));
    this.m = this.values.map((a) => new Float64Array(a.length));
    this.v = this.values.map((a) => new Float64Array(a.length));
  }
  step(grads: ArrayLike<number>[]): void {
    this.t += 1;
    const [b1, b2] = [0.9, 0.999];
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    this.values.forEach((w, i) => {
      const g = grads[i];
      for (let j = 0; j < w.length; j++) {
        this.m[i][j] = b1 * this.m[i][j] + (1 - b1) * g[j];
        this.v[i][j] = b2 * this.v[i][j] + (1 - b2) * g[j] * g[j];
        w[j] -= (this.lr * (this.m[i][j] / c1)) / (Math.sqrt(this.v[i][j] / c2) + 1e-8);
      }
    });
  }
}

function average(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return a.length ? s / a.length : 0;
}

/** Welford's running mean and variance per element (float64, stable for many draws). */
class Welford {
  readonly mean: Float64Array;
  private readonly m2: Float64Array;
  private n = 0;
  constructor(size: number) {
    this.mean = new Float64Array(size);
    this.m2 = new Float64Array(size);
  }
  add(v: ArrayLike<number>): void {
    this.n += 1;
    for (let i = 0; i < this.mean.length; i++) {
      const delta = v[i] - this.mean[i];
      this.mean[i] += delta / this.n;
      this.m2[i] += delta * (v[i] - this.mean[i]);
    }
  }
  variance(): Float64Array {
    return this.m2.map((s) => s / Math.max(1, this.n - 1));
  }
}

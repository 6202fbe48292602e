/**
 * Gradient-variance report: on one model and one batch, the gradient of the loss −ELBO estimated again and again
 * with fresh noise, per estimator — reparameterization, score function without a baseline, and with each baseline.
 * Each estimator's per-element mean and variance over the draws is summarized per parameter tensor.
 *
 * The gradients come from a graph that outputs them (`buildGradientGraph`: forward, reverse sweep, `<param>_grad`
 * outputs), run once per draw with the host PRNG's noise.
 *
 * @example
 * const r = await measureGradientVariance(ort, cfg, state.params, x, 64, { draws: 200 });
 * for (const e of r.estimators) console.log(e.name, e.meanVariance, e.ratio);
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { gradients } from '../autodiff/gradients.js';
import { Graph, type Value } from '../ir/graph.js';
import { serializeModel } from '../ir/serialize.js';
import type { TensorData } from '../ir/tensor.js';
import { ParamBinder } from '../nn/params.js';
import { Prng } from '../random/prng.js';
import type { OrtModule } from '../runtime/session.js';
import { inputSize, type VaeConfig } from './config.js';
import { fillLatentNoise, isDiscrete, latentWidth } from './discrete.js';
import { type Baseline, baselineDecayOf, type Estimator, scoreObjective } from './score-function.js';
import { elboTerms } from './vae.js';

/** One gradient estimator to compare. */
export interface EstimatorChoice {
  /** Label in tables and plots, e.g. 'score+loo'. */
  name: string;
  estimator: Estimator;
  baseline: Baseline;
}

/** The estimators a model supports: reparam (Gaussian only), score, score with each baseline (leave-one-out if M > 1). */
export function defaultEstimators(cfg: VaeConfig, samples: number): EstimatorChoice[] {
  const out: EstimatorChoice[] = [];
  if (!isDiscrete(cfg)) out.push({ name: 'reparam', estimator: 'reparam', baseline: 'none' });
  out.push({ name: 'score', estimator: 'score', baseline: 'none' });
  out.push({ name: 'score+moving-avg', estimator: 'score', baseline: 'moving-average' });
  if (samples > 1) out.push({ name: 'score+leave-one-out', estimator: 'score', baseline: 'leave-one-out' });
  return out;
}

export const GRADIENT_GRAPH_BASELINE = 'baseline';

/**
 * A graph (x [batch, D], eps [M, batch, W], params… [, baseline [1]]) → `<param>_grad`… and `reward_mean`: the
 * gradient of −ELBO (batch mean, β = 1, no free bits) under one estimator. The moving-average variant takes the
 * baseline's value as the input `baseline`; score variants also output the mean reward that updates it.
 */
export function buildGradientGraph(cfg: VaeConfig, choice: EstimatorChoice, samples: number): Graph {
  if (cfg.objective === 'iwae')
    throw new Error("gradient variance: use the 'kl' or 'entropy' objective (the report compares ELBO gradients)");
  if (choice.estimator === 'reparam' && isDiscrete(cfg))
    throw new Error(`gradient variance: ${cfg.latentType} latents have no reparameterization`);
  const g = new Graph('gradients');
  const dt = cfg.dtype;
  const x = g.input('x', dt, ['batch', inputSize(cfg)]);
  const eps = g.input('eps', dt, [samples, 'batch', latentWidth(cfg)]);
  const p = ParamBinder.inputs(dt);
  let loss: Value;
  let rewardMean: Value | undefined;
  const plain = { ...cfg, freeBits: 0 };
  if (choice.estimator === 'reparam') {
    const t = elboTerms(g, p, plain, x, eps, cfg.objective === 'entropy' ? 'entropy' : 'kl');
    loss = g.Sub(g.ReduceMean(t.kl), g.ReduceMean(t.rec));
  } else {
    const movingAverage = choice.baseline === 'moving-average' ? g.input(GRADIENT_GRAPH_BASELINE, dt, [1]) : undefined;
    const o = scoreObjective(g, p, plain, x, eps, { baseline: choice.baseline, movingAverage, freeBits: false });
    loss = o.loss;
    rewardMean = o.rewardMean;
  }
  const params = p.specs.map((s) => p.value(s.name) as Value);
  const grads = gradients(g, loss, params);
  g.output(loss, 'loss');
  p.specs.forEach((s, i) => {
    g.output(grads[i], `${s.name}_grad`);
  });
  if (rewardMean) g.output(rewardMean, 'reward_mean');
  return g;
}

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
  estimators: EstimatorStats[];
}

/**
 * Runs each estimator `draws` times on the same parameters and batch x (batch × D values) with independent noise
 * streams, and returns the per-element mean and variance of the gradient of −ELBO.
 */
export async function measureGradientVariance(
  ort: OrtModule,
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
  const tensor = (data: Float32Array | Float64Array, dims: number[]) => new ort.Tensor(dt, data as Float32Array, dims);
  const xt = tensor(dt === 'float32' ? Float32Array.from(x) : Float64Array.from(x), [batch, d]);
  const choices = opts.estimators ?? defaultEstimators(cfg, m);
  const master = new Prng(opts.seed ?? 0);
  const w = latentWidth(cfg);
  const results: EstimatorStats[] = [];
  for (const choice of choices) {
    const g = buildGradientGraph(cfg, choice, m);
    const session = await ort.InferenceSession.create(serializeModel(g));
    const paramFeeds: Record<string, Tensor> = {};
    const names = g.inputs.map((v) => v.name).filter((n) => n !== 'x' && n !== 'eps' && n !== GRADIENT_GRAPH_BASELINE);
    for (const n of names) {
      const t = params[n];
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
    results.push({ ...choice, params: ps, meanVariance: average(all), ratio: Number.NaN, baselineValue });
  }
  const ref = results.find((r) => r.estimator === 'reparam') ?? results.find((r) => r.baseline === 'none') ?? results[0];
  for (const r of results) r.ratio = r.meanVariance / ref.meanVariance;
  return { draws, samples: m, batch, reference: ref.name, estimators: results };
}

/** Runs the moving-average recursion b ← α·b + (1 − α)·mean r (bias-corrected) for n draws; returns its value. */
async function warmUpBaseline(
  run: (baseline?: number) => Promise<InferenceSession.OnnxValueMapType>,
  alpha: number,
  n: number,
): Promise<number> {
  let b = 0;
  let used = 0;
  for (let t = 1; t <= n; t++) {
    used = t > 1 ? b / (1 - alpha ** (t - 1)) : 0;
    const out = await run(used);
    b = alpha * b + (1 - alpha) * Number((out.reward_mean.data as Float32Array)[0]);
  }
  return n > 0 ? b / (1 - alpha ** n) : used;
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

/** The report as a text table: mean per-element variance per parameter tensor and estimator, and the ratio. */
export function formatVarianceTable(r: VarianceReport): string {
  const cols = r.estimators.map((e) => e.name);
  const width = Math.max(12, ...cols.map((c) => c.length + 2));
  const nameW = Math.max(9, ...r.estimators[0].params.map((p) => p.name.length + 2));
  const pad = (s: string, n: number) => s.padStart(n);
  const fmt = (v: number) => (Number.isFinite(v) ? v.toExponential(3) : String(v));
  const lines = [
    `gradient variance over ${r.draws} draws, M = ${r.samples} samples, batch ${r.batch} (mean per-element variance of ∂(−ELBO)/∂θ)`,
    `${'parameter'.padEnd(nameW)}${cols.map((c) => pad(c, width)).join('')}`,
  ];
  r.estimators[0].params.forEach((p, i) => {
    lines.push(`${p.name.padEnd(nameW)}${r.estimators.map((e) => pad(fmt(e.params[i].meanVariance), width)).join('')}`);
  });
  lines.push(`${'all'.padEnd(nameW)}${r.estimators.map((e) => pad(fmt(e.meanVariance), width)).join('')}`);
  lines.push(`${`÷ ${r.reference}`.padEnd(nameW)}${r.estimators.map((e) => pad(e.ratio.toPrecision(4), width)).join('')}`);
  return lines.join('\n');
}

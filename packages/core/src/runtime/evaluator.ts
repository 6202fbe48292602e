/**
 * Evaluator: the ELBO and the importance-weighted estimate of log p(x) with K samples, over eval.onnx.
 * log p̂_K(x) = log (1/K) Σ_k w_k, w_k = p(x, z_k)/q(z_k|x); E[log p̂_K] ≤ log p(x) and rises with K (IWAE).
 * Samples are processed in chunks with a running log-sum-exp, so memory stays bounded for K in the thousands.
 */

import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { Manifest } from '../artifacts/bundle.js';
import { FeedError, OnnxvaeError } from '../errors.js';
import type { TensorData } from '../ir/tensor.js';
import { fillLatentNoise, latentWidth } from '../models/discrete.js';
import { Prng } from '../random/prng.js';
import { RunningLogMeanExp } from './log-mean-exp.js';
import type { OrtModule } from './runtime.js';
import { floatTensor, fromTensorData, oneHotTensor } from './tensors.js';

export interface EvalOptions {
  /** Importance samples per example (K); 1 gives only the ELBO. */
  k?: number;
  /** Samples per session run (ignored where the eval graph fixes it)  [sized with batch to ~EVAL_ROWS rows]. */
  chunk?: number;
  /** Examples per session run  [sized with chunk to ~EVAL_ROWS rows]. */
  batch?: number;
  seed?: number;
  /** The n examples' integer labels (conditional models). */
  y?: ArrayLike<number>;
  /** Called after each session run with examples done, total, and samples drawn so far (for a progress bar). */
  onProgress?: (done: number, total: number) => void;
}

export interface EvalResult {
  /** Mean ELBO per example, nats (analytic KL, reconstruction averaged over the samples). */
  elbo: number;
  rec: number;
  kl: number;
  /** Mean importance-weighted estimate of log p(x) with k samples, nats. */
  iwae: number;
  k: number;
  n: number;
  /** Per-example values. */
  perExample: { elbo: Float64Array; iwae: Float64Array };
}

/**
 * Decoder rows (samples × examples) per session run by default. Measured on the reference model (bench/eval.mjs): at
 * 1,000–2,000 rows the [rows, 784] logits stay in cache and the run goes at the MatMul rate; at 12,800 rows (128
 * samples × 100 examples, the old default) the elementwise ops ran from memory at half that.
 */
export const EVAL_ROWS = 1536;

/** Samples per run and examples per run for K samples: K split into equal chunks of ≤ rows, and examples to fill. */
export function evalChunking(k: number, rows = EVAL_ROWS): { chunk: number; batch: number } {
  const chunk = k <= rows ? k : Math.ceil(k / Math.ceil(k / rows));
  return { chunk, batch: Math.max(1, Math.floor(rows / chunk)) };
}

export class Evaluator {
  private readonly params: Record<string, Tensor>;
  constructor(
    private readonly ort: OrtModule,
    private readonly session: InferenceSession,
    readonly manifest: Manifest,
    params: Record<string, TensorData> | Readonly<Record<string, Tensor>>,
  ) {
    this.params = {};
    const dt = manifest.config.dtype;
    // eval.onnx takes the parameters the bound uses: not a per-datapoint model's q table (it is for the training
    // examples; eval.onnx fits q for each x it is given), nor an estimator's own (NVIL's baseline network).
    const wanted = new Set(session.inputNames);
    for (const e of manifest.params) {
      if (!wanted.has(e.name)) continue;
      const p = params[e.name];
      if (!p) throw new FeedError(`Evaluator: parameter '${e.name}' is missing`);
      this.params[e.name] = 'dims' in p ? p : fromTensorData(ort, p, dt);
    }
  }

  async evaluate(x: Float32Array | Float64Array, n: number, opts: EvalOptions = {}): Promise<EvalResult> {
    const cfg = this.manifest.config;
    const d = cfg.inputShape.reduce((a, b) => a * b, 1);
    if (x.length !== n * d) throw new FeedError(`evaluate: x has ${x.length} values, expected ${n} × ${d}`);
    const k = opts.k ?? 1;
    if (!Number.isInteger(k) || k < 1) throw new FeedError(`evaluate: k must be a positive integer, got ${k}`);
    const fixed = typeof this.manifest.evalSamples === 'number' ? this.manifest.evalSamples : undefined;
    // At least ~20 runs over the examples when K is small, so progress (and its ETA) moves.
    const auto = evalChunking(k);
    auto.batch = Math.min(auto.batch, Math.max(1, Math.ceil(n / 20)));
    const chunk = fixed ?? Math.max(1, Math.min(k, opts.chunk ?? auto.chunk));
    const batch = Math.max(1, opts.batch ?? (opts.chunk === undefined && fixed === undefined ? auto.batch : 100));
    const prng = new Prng(opts.seed ?? 0);
    const dt = cfg.dtype;
    const elbo = new Float64Array(n);
    const rec = new Float64Array(n);
    const kl = new Float64Array(n);
    const iwae = new Float64Array(n);
    const L = latentWidth(cfg); // noise values per sample and example (models/discrete.ts)
    const classes = cfg.conditional?.classes;
    if (classes !== undefined && opts.y?.length !== n) {
      throw new FeedError(`evaluate: this model is conditional (${classes} classes); pass the ${n} examples' labels as y`);
    }
    // The runs in order (batch-major, then sample chunks), each one's noise drawn from the one stream in that order.
    // The next run's noise is drawn while the current run computes (onnxruntime runs off the JS thread), so the
    // PRNG's time hides behind the session's and the numbers are those of drawing it just before each run.
    const runs: { start: number; b: number; c: number; take: number; last: boolean }[] = [];
    for (let start = 0; start < n; start += batch) {
      const b = Math.min(batch, n - start);
      for (let used = 0; used < k; ) {
        const c = fixed ?? Math.min(chunk, k - used);
        const take = Math.min(c, k - used);
        used += take;
        runs.push({ start, b, c, take, last: used >= k });
      }
    }
    const noise = (r: (typeof runs)[number]) => {
      const eps = dt === 'float32' ? new Float32Array(r.c * r.b * L) : new Float64Array(r.c * r.b * L);
      fillLatentNoise(cfg, prng, eps);
      return eps;
    };
    let xt: Tensor | undefined;
    let yFeed: Record<string, Tensor> = {};
    let lme = new RunningLogMeanExp(1);
    let chunks = 0;
    let nextEps = runs.length ? noise(runs[0]) : undefined;
    for (let ri = 0; ri < runs.length; ri++) {
      const { start, b, c, take, last } = runs[ri];
      if (ri === 0 || runs[ri - 1].start !== start) {
        xt = floatTensor(this.ort, dt, x.subarray(start * d, (start + b) * d), [b, d], { copy: true });
        yFeed = {};
        if (classes !== undefined && opts.y) {
          const labels = Array.from({ length: b }, (_, i) => (opts.y as ArrayLike<number>)[start + i]);
          yFeed.y = oneHotTensor(this.ort, dt, labels, classes);
        }
        lme = new RunningLogMeanExp(b);
        chunks = 0;
      }
      const eps = nextEps as Float32Array | Float64Array;
      const pending = this.session.run({ x: xt as Tensor, eps: floatTensor(this.ort, dt, eps, [c, b, L]), ...yFeed, ...this.params });
      nextEps = ri + 1 < runs.length ? noise(runs[ri + 1]) : undefined;
      const out = await pending;
      const lw = out.log_w.data as Float32Array;
      const el = out.elbo.data as Float32Array;
      const re = out.rec.data as Float32Array;
      const kk = out.kl.data as Float32Array;
      for (let i = 0; i < b; i++) {
        elbo[start + i] += el[i];
        rec[start + i] += re[i];
        kl[start + i] = kk[i];
        for (let s = 0; s < take; s++) lme.add(i, lw[s * b + i]);
      }
      chunks += 1;
      for (const t of Object.values(out)) t.dispose?.();
      if (last) {
        opts.onProgress?.(start + b, n);
        for (let i = 0; i < b; i++) {
          elbo[start + i] /= chunks;
          rec[start + i] /= chunks;
          iwae[start + i] = lme.value(i, k);
        }
      }
    }
    const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);
    const res = { elbo: mean(elbo), rec: mean(rec), kl: mean(kl), iwae: mean(iwae), k, n, perExample: { elbo, iwae } };
    if (!Number.isFinite(res.elbo) || !Number.isFinite(res.iwae)) {
      throw new OnnxvaeError(
        `evaluate: the bound is not finite (elbo ${res.elbo}, iwae ${res.iwae}); check the data range and the checkpoint`,
      );
    }
    return res;
  }
}

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
  /** Samples per session run (ignored where the eval graph fixes it). */
  chunk?: number;
  /** Examples per session run. */
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
    for (const e of manifest.params) {
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
    const chunk = fixed ?? Math.max(1, Math.min(k, opts.chunk ?? 128));
    const batch = Math.max(1, opts.batch ?? 100);
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
    for (let start = 0; start < n; start += batch) {
      const b = Math.min(batch, n - start);
      const xs = x.subarray(start * d, (start + b) * d);
      const xt = floatTensor(this.ort, dt, xs, [b, d], { copy: true });
      const yFeed: Record<string, Tensor> = {};
      if (classes !== undefined && opts.y) {
        const labels = Array.from({ length: b }, (_, i) => (opts.y as ArrayLike<number>)[start + i]);
        yFeed.y = oneHotTensor(this.ort, dt, labels, classes);
      }
      const lme = new RunningLogMeanExp(b);
      let used = 0;
      let chunks = 0;
      while (used < k) {
        const c = fixed ?? Math.min(chunk, k - used);
        const take = Math.min(c, k - used);
        const eps = dt === 'float32' ? new Float32Array(c * b * L) : new Float64Array(c * b * L);
        fillLatentNoise(cfg, prng, eps);
        const out = await this.session.run({
          x: xt,
          eps: floatTensor(this.ort, dt, eps, [c, b, L]),
          ...yFeed,
          ...this.params,
        });
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
        used += take;
        chunks += 1;
        for (const t of Object.values(out)) t.dispose?.();
      }
      opts.onProgress?.(start + b, n);
      for (let i = 0; i < b; i++) {
        elbo[start + i] /= chunks;
        rec[start + i] /= chunks;
        iwae[start + i] = lme.value(i, k);
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

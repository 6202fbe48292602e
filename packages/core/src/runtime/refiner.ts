/**
 * Refiner: per-datapoint inference on any InferenceSession (its graphs: refineGraphs in models/per-datapoint.ts),
 * and the measurement behind the amortization-gap report (the report itself is the node CLI's, node/src/gap.ts).
 *
 * For each example, three numbers (Cremer, Li & Duvenaud 2018, "Inference suboptimality in VAEs"):
 *   ELBO with the encoder's q(z|x)            L[q_φ]
 *   ELBO after refining q_i by gradient ascent  L[q*]   (q* ≈ the best Gaussian for this decoder)
 *   log p(x), estimated by IWAE with K samples
 * amortization gap = L[q*] − L[q_φ] (what a per-example optimizer finds that the shared encoder misses);
 * approximation gap = log p(x) − L[q*] (what no Gaussian can reach: KL(q* ‖ p(z|x))).
 */

import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { Manifest } from '../artifacts/bundle.js';
import { serializeModel } from '../ir/serialize.js';
import type { TensorData } from '../ir/tensor.js';
import { oneHot } from '../models/conditional.js';
import type { VaeConfig } from '../models/config.js';
import { updatedName } from '../models/graphs.js';
import { Q_LOGVAR, Q_MU, type RefineGraphOptions, refineGraphs } from '../models/per-datapoint.js';
import { Prng } from '../random/prng.js';
import { RunningLogMeanExp } from './log-mean-exp.js';
import type { OrtModule, SessionFactory } from './runtime.js';
import { floatTensor, oneHotTensor } from './tensors.js';

type FloatArray = Float32Array | Float64Array;

/** Diagonal Gaussians for n examples: μ and log σ², n × L values each. */
export interface Gaussians {
  mu: FloatArray;
  logvar: FloatArray;
}

export interface RefineOptions {
  /** Optimizer steps per example. */
  steps: number;
  /** Adam's learning rate; default 1e-2. */
  lr?: number;
  /** Examples per session run; default 100. */
  batch?: number;
  /** Steps per session run (the Loop's trip count); default 100. */
  chunk?: number;
  seed?: number;
  /** Integer labels of the n examples (conditional models). */
  y?: ArrayLike<number>;
  onProgress?: (done: number, total: number) => void;
}

export interface BoundOptions {
  /** Samples per example: the ELBO's Monte Carlo samples and the IWAE's K. Default 1000. */
  k?: number;
  /** Samples per session run; default 128 (fixed at build time for conv models). */
  chunk?: number;
  batch?: number;
  seed?: number;
  y?: ArrayLike<number>;
  /** Called after each batch of examples with examples done and the total. */
  onProgress?: (done: number, total: number) => void;
}

export interface BoundResult {
  /** Per example: ELBO (analytic KL, reconstruction averaged over k samples), nats. */
  elbo: Float64Array;
  /** Per example: the Monte Carlo standard error of that ELBO, sd(log p(x|z))/√k. */
  elboStdErr: Float64Array;
  /** Per example: log (1/k) Σ_k w_k, the importance-weighted bound with this q as proposal. */
  iwae: Float64Array;
  k: number;
}

/** Samples per refinement step, the q's optimizer and a conv model's posterior_eval chunk (models/per-datapoint.ts). */
export type RefinerOptions = RefineGraphOptions;

export class Refiner {
  private constructor(
    private readonly ort: OrtModule,
    readonly cfg: VaeConfig,
    private readonly refineSession: InferenceSession,
    private readonly evalSession: InferenceSession,
    private readonly samples: number,
    private readonly stateNames: string[],
    private readonly fixedChunk: number | undefined,
  ) {}

  /** Builds refine_step and posterior_eval with the decoder's weights embedded, and opens their sessions. */
  static async create(
    ort: OrtModule,
    createSession: SessionFactory,
    cfg: VaeConfig,
    params: Record<string, TensorData>,
    opts: RefinerOptions = {},
  ): Promise<Refiner> {
    const graphs = refineGraphs(cfg, params, opts);
    // The Refiner feeds and returns Gaussians (μ, log σ² per example).
    if (graphs.posteriorInputs.join() !== [Q_MU, Q_LOGVAR].join())
      throw new Error(
        `Refiner: q's free parameters are ${graphs.posteriorInputs.join(', ')}; it refines Gaussian q (${Q_MU}, ${Q_LOGVAR})`,
      );
    return new Refiner(
      ort,
      cfg,
      await createSession(serializeModel(graphs.refineStep), 'refine_step.onnx'),
      await createSession(serializeModel(graphs.posteriorEval), 'posterior_eval.onnx'),
      opts.samples ?? 1,
      graphs.stateNames,
      graphs.evalChunk,
    );
  }

  private tensor(data: FloatArray, dims: number[]): Tensor {
    const dt = this.cfg.dtype;
    // Views (subarrays) are copied: a tensor then owns its whole buffer.
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    return floatTensor(this.ort, dt, data, dims, { copy: !whole });
  }

  private alloc(n: number): FloatArray {
    return this.cfg.dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  }

  private checkInputs(x: FloatArray, n: number, y: ArrayLike<number> | undefined, what: string): number {
    const d = this.cfg.inputShape.reduce((a, b) => a * b, 1);
    if (x.length !== n * d) throw new Error(`${what}: x has ${x.length} values, expected ${n} × ${d}`);
    const c = this.cfg.conditional?.classes;
    if (c !== undefined && y?.length !== n) throw new Error(`${what}: this model is conditional (${c} classes); pass the ${n} labels y`);
    return d;
  }

  private labelFeed(y: ArrayLike<number> | undefined, start: number, b: number): Record<string, Tensor> {
    const c = this.cfg.conditional?.classes;
    if (c === undefined || !y) return {};
    const labels = Array.from({ length: b }, (_, i) => y[start + i]);
    return { y: this.tensor(oneHot(labels, c, this.cfg.dtype), [b, c]) };
  }

  /**
   * Optimizes each example's q_i = N(μ_i, σ_i²) for `steps` Adam steps on its own ELBO, starting from `init` (the
   * encoder's q: test-time refinement) or from N(0, I) (plain non-amortized inference). Returns the final q's and
   * the mean ELBO estimate at each step (single-draw estimates before each update: noisy, for a progress curve).
   */
  async refine(x: FloatArray, n: number, init: Gaussians | undefined, opts: RefineOptions): Promise<Gaussians & { trace: Float64Array }> {
    const d = this.checkInputs(x, n, opts.y, 'refine');
    const L = this.cfg.latent;
    const S = this.samples;
    if (!Number.isInteger(opts.steps) || opts.steps < 0) throw new Error(`refine: steps must be a non-negative integer, got ${opts.steps}`);
    if (init && (init.mu.length !== n * L || init.logvar.length !== n * L))
      throw new Error(`refine: init must hold ${n} × ${L} values for μ and log σ², got ${init.mu.length} and ${init.logvar.length}`);
    const lr = opts.lr ?? 1e-2;
    if (!(lr > 0)) throw new Error(`refine: lr must be > 0, got ${lr}`);
    const batch = Math.max(1, opts.batch ?? 100);
    const chunk = Math.max(1, opts.chunk ?? 100);
    const prng = new Prng(opts.seed ?? 0);
    const mu = this.alloc(n * L);
    const logvar = this.alloc(n * L);
    if (init) {
      mu.set(init.mu);
      logvar.set(init.logvar);
    }
    const trace = new Float64Array(opts.steps);
    for (let start = 0; start < n; start += batch) {
      const b = Math.min(batch, n - start);
      const xt = this.tensor(x.subarray(start * d, (start + b) * d), [b, d]);
      const ys = this.labelFeed(opts.y, start, b);
      let state: Record<string, Tensor> = {
        [Q_MU]: this.tensor(mu.subarray(start * L, (start + b) * L), [b, L]),
        [Q_LOGVAR]: this.tensor(logvar.subarray(start * L, (start + b) * L), [b, L]),
      };
      for (const s of this.stateNames) state[s] = this.tensor(this.alloc(b * L), [b, L]);
      for (let done = 0; done < opts.steps; ) {
        const c = Math.min(chunk, opts.steps - done);
        const eps = this.alloc(c * S * b * L);
        prng.fillNormal(eps);
        const out = await this.refineSession.run({
          x: xt,
          ...ys,
          eps: this.tensor(eps, [c, S, b, L]),
          step: this.tensor(Float64Array.of(done + 1), []),
          lr: this.tensor(Float64Array.of(lr), []),
          ...state,
        });
        const el = out.elbo.data as FloatArray;
        for (let s = 0; s < c; s++) for (let i = 0; i < b; i++) trace[done + s] += el[s * b + i] / n;
        state = Object.fromEntries(Object.keys(state).map((k) => [k, out[updatedName(k)]]));
        done += c;
        opts.onProgress?.(start * opts.steps + b * done, n * opts.steps);
      }
      mu.set(state[Q_MU].data as FloatArray, start * L);
      logvar.set(state[Q_LOGVAR].data as FloatArray, start * L);
    }
    for (let i = 0; i < mu.length; i++) {
      if (!Number.isFinite(mu[i]) || !Number.isFinite(logvar[i])) {
        throw new Error(`refine: q diverged (non-finite μ or log σ² for example ${Math.floor(i / L)}); lower lr (was ${lr})`);
      }
    }
    return { mu, logvar, trace };
  }

  /**
   * The ELBO and the importance-weighted bound of each example under the given q's, with k samples: the same seed
   * gives the same ε for any q, so two q's are compared on common random numbers.
   */
  async bound(x: FloatArray, n: number, q: Gaussians, opts: BoundOptions = {}): Promise<BoundResult> {
    const d = this.checkInputs(x, n, opts.y, 'bound');
    const L = this.cfg.latent;
    const k = opts.k ?? 1000;
    if (!Number.isInteger(k) || k < 2)
      throw new Error(`bound: k must be an integer ≥ 2 (the ELBO's standard error needs two samples), got ${k}`);
    const chunk = this.fixedChunk ?? Math.max(1, Math.min(k, opts.chunk ?? 128));
    const batch = Math.max(1, opts.batch ?? 100);
    const prng = new Prng(opts.seed ?? 0);
    const elbo = new Float64Array(n);
    const elboStdErr = new Float64Array(n);
    const iwae = new Float64Array(n);
    for (let start = 0; start < n; start += batch) {
      const b = Math.min(batch, n - start);
      const feeds: Record<string, Tensor> = {
        x: this.tensor(x.subarray(start * d, (start + b) * d), [b, d]),
        ...this.labelFeed(opts.y, start, b),
        [Q_MU]: this.tensor(q.mu.subarray(start * L, (start + b) * L), [b, L]),
        [Q_LOGVAR]: this.tensor(q.logvar.subarray(start * L, (start + b) * L), [b, L]),
      };
      // Running log-mean-exp of the log-weights and running moments of log p(x|z).
      const lme = new RunningLogMeanExp(b);
      const s1 = new Float64Array(b);
      const s2 = new Float64Array(b);
      const kl = new Float64Array(b);
      for (let used = 0; used < k; ) {
        const c = this.fixedChunk ?? Math.min(chunk, k - used);
        const take = Math.min(c, k - used);
        const eps = this.alloc(c * b * L);
        prng.fillNormal(eps);
        const out = await this.evalSession.run({ ...feeds, eps: this.tensor(eps, [c, b, L]) });
        const lw = out.log_w.data as FloatArray;
        const lp = out.log_px.data as FloatArray;
        const kk = out.kl.data as FloatArray;
        for (let i = 0; i < b; i++) {
          kl[i] = kk[i];
          for (let s = 0; s < take; s++) {
            lme.add(i, lw[s * b + i]);
            s1[i] += lp[s * b + i];
            s2[i] += lp[s * b + i] ** 2;
          }
        }
        used += take;
      }
      for (let i = 0; i < b; i++) {
        const m = s1[i] / k;
        elbo[start + i] = m - kl[i];
        elboStdErr[start + i] = Math.sqrt(Math.max(0, (s2[i] - k * m * m) / (k - 1)) / k);
        iwae[start + i] = lme.value(i, k);
      }
      opts.onProgress?.(start + b, n);
    }
    return { elbo, elboStdErr, iwae, k };
  }
}

/** Runs encoder.onnx (weights embedded) on n examples: the amortized q(z|x). */
export async function encodeAll(
  ort: OrtModule,
  encoder: InferenceSession,
  cfg: VaeConfig,
  x: FloatArray,
  n: number,
  opts: { batch?: number; y?: ArrayLike<number> } = {},
): Promise<Gaussians> {
  const d = cfg.inputShape.reduce((a, b) => a * b, 1);
  const L = cfg.latent;
  const dt = cfg.dtype;
  const c = cfg.conditional?.classes;
  if (c !== undefined && opts.y?.length !== n) throw new Error(`encode: this model is conditional (${c} classes); pass the ${n} labels y`);
  const mu = dt === 'float32' ? new Float32Array(n * L) : new Float64Array(n * L);
  const logvar = dt === 'float32' ? new Float32Array(n * L) : new Float64Array(n * L);
  const batch = Math.max(1, opts.batch ?? 500);
  for (let start = 0; start < n; start += batch) {
    const b = Math.min(batch, n - start);
    const xs = x.subarray(start * d, (start + b) * d);
    const feeds: Record<string, Tensor> = {
      x: floatTensor(ort, dt, xs, [b, d], { copy: true }),
    };
    if (c !== undefined && opts.y) {
      const labels = Array.from({ length: b }, (_, i) => (opts.y as ArrayLike<number>)[start + i]);
      feeds.y = oneHotTensor(ort, dt, labels, c);
    }
    const out = await encoder.run(feeds);
    mu.set(out.mu.data as FloatArray, start * L);
    logvar.set(out.logvar.data as FloatArray, start * L);
  }
  return { mu, logvar };
}

export interface GapOptions {
  /** Refinement steps per example. */
  steps: number;
  /** Adam's learning rate for the refinement; default 1e-2. */
  lr?: number;
  /** Samples per example for the bounds (ELBO Monte Carlo and IWAE's K); default 1000. */
  k?: number;
  /** Reparameterized samples per refinement step; default 1. */
  samples?: number;
  batch?: number;
  seed?: number;
  y?: ArrayLike<number>;
  /** Refinement: example-steps done of n × steps; bounds: examples done of 2n (the encoder's q, then the refined q). */
  onProgress?: (phase: 'refine' | 'bound', done: number, total: number) => void;
}

/** Per-example bounds of the encoder's and the refined q's on the same ε, and the refinement's trace. */
export interface GapMeasurement {
  n: number;
  steps: number;
  lr: number;
  k: number;
  /** With the encoder's q(z|x): ELBO, its standard error and IWAE per example. */
  encoder: BoundResult;
  /** With each refined q_i. */
  refined: BoundResult;
  /** Mean single-draw ELBO estimate at each refinement step. */
  trace: Float64Array;
}

/**
 * What the amortization-gap report of a bundle on n examples is made of: encode, refine each q_i for `steps` Adam
 * steps, then bound both q's on the same ε (seeded), IWAE with K samples for log p(x).
 */
export async function measureAmortizationGap(
  ort: OrtModule,
  createSession: SessionFactory,
  bundle: { manifest: Manifest; files: { 'encoder.onnx': Uint8Array }; state: { params: Record<string, TensorData> } },
  x: FloatArray,
  n: number,
  opts: GapOptions,
): Promise<GapMeasurement> {
  const cfg = bundle.manifest.config;
  const seed = opts.seed ?? 0;
  const k = opts.k ?? 1000;
  const lr = opts.lr ?? 1e-2;
  const enc = await encodeAll(ort, await createSession(bundle.files['encoder.onnx'], 'encoder.onnx'), cfg, x, n, { y: opts.y });
  const refiner = await Refiner.create(ort, createSession, cfg, bundle.state.params, { samples: opts.samples });
  const refined = await refiner.refine(x, n, enc, {
    steps: opts.steps,
    lr,
    seed,
    y: opts.y,
    batch: opts.batch,
    onProgress: (a, b) => opts.onProgress?.('refine', a, b),
  });
  // One seed for both bounds: the encoder's and the refined q see the same ε (common random numbers).
  const bopts = { k, seed: seed + 1, y: opts.y, batch: opts.batch };
  const encoder = await refiner.bound(x, n, enc, { ...bopts, onProgress: (d) => opts.onProgress?.('bound', d, 2 * n) });
  const ref = await refiner.bound(x, n, refined, { ...bopts, onProgress: (d) => opts.onProgress?.('bound', n + d, 2 * n) });
  return { n, steps: opts.steps, lr, k, encoder, refined: ref, trace: refined.trace };
}

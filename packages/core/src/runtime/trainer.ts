/**
 * Trainer: runs train_step.onnx on any InferenceSession. Parameters and optimizer state live as runtime tensors
 * between steps (on WebGPU they can stay on the GPU); eps comes from a seeded PRNG so runs are reproducible.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { Manifest, ModelState } from '../artifacts/bundle.js';
import { FeedError, OnnxvaeError } from '../errors.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { oneHot } from '../models/conditional.js';
import { fillLatentNoise, latentWidth } from '../models/discrete.js';
import { FLAT_PARAMS, type FlatEntry, flatLayout, flatStateNames, TRAIN_METRICS, updatedName } from '../models/graphs.js';
import { tableTensorNames } from '../models/per-datapoint-training.js';
import { Prng } from '../random/prng.js';
import type { OrtModule } from './runtime.js';
import { type FloatArray, floatTensor, hostData, meanOf, namedFeeds, scalarTensor, toTensorData } from './tensors.js';

export interface StepMetrics {
  loss: number;
  rec: number;
  kl: number;
  elbo: number;
  /** Examples in this step (summed over fused steps). */
  examples: number;
  step: number;
}

export interface TrainerOptions {
  /** Learning rate, or a schedule of the 1-based step. */
  lr: number | ((step: number) => number);
  /** β weight of the KL term; default 1. */
  beta?: number;
  /** KL warm-up: β rises linearly from 0 to `beta` over this many steps (0 = off). */
  klWarmupSteps?: number;
}

export class TrainingDivergedError extends OnnxvaeError {
  override name = 'TrainingDivergedError';
  /** The 1-based epoch the step belonged to, when `fit` ran it. */
  epoch?: number;
}

export class Trainer {
  /** The feeds that carry the parameters and optimizer state, by input name (per tensor, or the flat vectors). */
  private params: Record<string, Tensor> = {};
  private optState: Record<string, Tensor> = {};
  /** The flat layout's entries, when train_step takes the parameters as one vector. */
  private readonly flat?: FlatEntry[];
  private readonly prng: Prng;
  step: number;
  private readonly dtype: 'float32' | 'float64';
  /**
   * Per-datapoint models: the q table, its Adam state and per-row update counts on the host, by name, with the
   * values per row; each step feeds the batch's rows and writes the updated rows back.
   */
  private readonly table?: Map<string, { data: FloatArray; width: number; shape: number[] }>;

  constructor(
    private readonly ort: OrtModule,
    private readonly session: InferenceSession,
    readonly manifest: Manifest,
    private readonly state: ModelState,
    private readonly opts: TrainerOptions,
  ) {
    this.dtype = manifest.config.dtype;
    const names = new Set(session.inputNames);
    const tableNames = manifest.config.inference === 'per-datapoint' ? new Set(tableTensorNames(manifest.config)) : new Set<string>();
    if (tableNames.size) {
      this.table = new Map();
      const n = manifest.config.examples as number;
      for (const e of [...manifest.params, ...manifest.optimizerState]) {
        if (!tableNames.has(e.name)) continue;
        const t = state.params[e.name] ?? state.optState[e.name];
        if (!t) throw new FeedError(`per-datapoint table '${e.name}' is missing from the state`);
        const size = e.shape.reduce((a, b) => a * b, 1);
        if (t.data.length !== size)
          throw new FeedError(`per-datapoint table '${e.name}' has ${t.data.length} values, [${e.shape}] needs ${size}`);
        const data = this.dtype === 'float32' ? Float32Array.from(t.data as FloatArray) : Float64Array.from(t.data as FloatArray);
        this.table.set(e.name, { data, width: size / n, shape: [...e.shape] });
      }
    }
    if (names.has(FLAT_PARAMS)) {
      // The flat layout (models/graphs.ts): one vector of all parameters, one per optimizer state kind.
      this.flat = flatLayout(manifest.params).entries;
      const kinds = flatStateNames(manifest.config);
      const perParam = new Set(manifest.params.flatMap((e) => kinds.map((k) => `${e.name}.${k}`)));
      this.params = { [FLAT_PARAMS]: this.pack(state.params, '', 'parameter') };
      for (const k of kinds) this.optState[k] = this.pack(state.optState, `.${k}`, 'optimizer state');
      const rest = manifest.optimizerState.map((e) => e.name).filter((n) => !perParam.has(n));
      Object.assign(this.optState, namedFeeds(ort, this.dtype, rest, state.optState, 'optimizer state'));
    } else {
      this.params = namedFeeds(
        ort,
        this.dtype,
        manifest.params.map((e) => e.name).filter((n) => !tableNames.has(n)),
        state.params,
        'parameter',
      );
      this.optState = namedFeeds(
        ort,
        this.dtype,
        manifest.optimizerState.map((e) => e.name).filter((n) => !tableNames.has(n)),
        state.optState,
        'optimizer state',
      );
    }
    this.prng = Prng.fromState(state.training.prngState);
    this.step = state.training.step;
    const labelInput = manifest.config.conditional ? ['y'] : [];
    const inputs = [
      'x',
      'eps',
      ...labelInput,
      'step',
      'lr',
      'beta',
      ...Object.keys(this.params),
      ...Object.keys(this.optState),
      ...tableNames,
    ];
    for (const n of inputs) {
      if (!names.has(n)) throw new FeedError(`train_step session has no input '${n}'; is it the bundle's train_step.onnx?`);
    }
  }

  /** The β in force at a step (KL warm-up). */
  betaAt(step: number): number {
    const b = this.opts.beta ?? 1;
    const w = this.opts.klWarmupSteps ?? 0;
    return w > 0 ? b * Math.min(1, step / w) : b;
  }

  lrAt(step: number): number {
    return typeof this.opts.lr === 'function' ? this.opts.lr(step) : this.opts.lr;
  }

  /**
   * One train_step run on a batch (x: batch × D values, row-major). With a fused bundle, x holds K batches
   * (K × batch × D) and K optimizer steps run at once. A conditional model also takes the labels y: K × batch
   * integer classes, or their one-hot rows (K × batch × C values). A per-datapoint model also takes the examples'
   * `indices` in the training set (distinct, 0 … examples − 1): their rows of the q table are trained.
   */
  async trainStep(
    x: Float32Array | Float64Array,
    batch: number,
    y?: Int32Array | Float32Array | Float64Array,
    indices?: ArrayLike<number>,
  ): Promise<StepMetrics> {
    const cfg = this.manifest.config;
    const k = this.manifest.fusedSteps;
    const d = cfg.inputShape.reduce((a, b) => a * b, 1);
    if (x.length !== k * batch * d) {
      throw new FeedError(`trainStep: x has ${x.length} values, expected ${k > 1 ? `${k} × ` : ''}${batch} × ${d} = ${k * batch * d}`);
    }
    // eps: N(0, 1) for Gaussian latents, U(0, 1) for discrete ones, [.., M, batch, W] (models/discrete.ts).
    const w = latentWidth(cfg);
    const epsN = k * cfg.samples * batch * w;
    const eps = this.dtype === 'float32' ? new Float32Array(epsN) : new Float64Array(epsN);
    fillLatentNoise(cfg, this.prng, eps);
    const t = this.step + 1;
    const feeds: Record<string, Tensor> = {
      x: floatTensor(this.ort, this.dtype, x, k > 1 ? [k, batch, d] : [batch, d]),
      eps: floatTensor(this.ort, this.dtype, eps, k > 1 ? [k, cfg.samples, batch, w] : [cfg.samples, batch, w]),
      step: scalarTensor(this.ort, this.dtype, t),
      lr: scalarTensor(this.ort, this.dtype, this.lrAt(t)),
      beta: scalarTensor(this.ort, this.dtype, this.betaAt(t)),
      ...this.labelFeed(y, k, batch),
      ...this.params,
      ...this.optState,
      ...this.gatherRows(indices, batch),
    };
    const out = await this.session.run(feeds);
    const m = Object.fromEntries(TRAIN_METRICS.map((n) => [n, meanOf(out[n])])) as Record<(typeof TRAIN_METRICS)[number], number>;
    if (!Number.isFinite(m.loss)) {
      for (const v of Object.values(out)) if (!Object.values(this.params).includes(v)) v.dispose?.();
      throw new TrainingDivergedError(
        `loss is ${m.loss} at step ${t} (rec ${m.rec}, kl ${m.kl}); parameters were not updated — lower the learning rate or enable gradient clipping`,
      );
    }
    if (this.table) await this.scatterRows(out, indices as ArrayLike<number>);
    for (const name of Object.keys(this.params)) this.swap(this.params, name, out[updatedName(name)]);
    for (const name of Object.keys(this.optState)) this.swap(this.optState, name, out[updatedName(name)]);
    for (const n of TRAIN_METRICS) out[n].dispose?.();
    this.step += k;
    return { ...m, examples: k * batch, step: this.step };
  }

  /** The batch's rows of every table tensor as feeds [batch, width] ([batch] for the update counts). */
  private gatherRows(indices: ArrayLike<number> | undefined, batch: number): Record<string, Tensor> {
    if (!this.table) return {};
    const n = this.manifest.config.examples as number;
    if (!indices) throw new FeedError(`trainStep: this model has per-datapoint q's (${n} rows); pass the batch's example indices`);
    if (indices.length !== batch) throw new FeedError(`trainStep: ${indices.length} indices for a batch of ${batch} examples`);
    const seen = new Set<number>();
    for (let i = 0; i < batch; i++) {
      const r = indices[i];
      if (!(Number.isInteger(r) && r >= 0 && r < n))
        throw new FeedError(`trainStep: example index ${r} (position ${i}) is not a row of the q table (0 … ${n - 1})`);
      if (seen.has(r)) throw new FeedError(`trainStep: example index ${r} appears twice in one batch (each row takes one update per step)`);
      seen.add(r);
    }
    const feeds: Record<string, Tensor> = {};
    for (const [name, t] of this.table) {
      const w = t.width;
      const rows = this.dtype === 'float32' ? new Float32Array(batch * w) : new Float64Array(batch * w);
      for (let i = 0; i < batch; i++) rows.set(t.data.subarray(indices[i] * w, (indices[i] + 1) * w), i * w);
      feeds[name] = floatTensor(this.ort, this.dtype, rows, t.shape.length === 1 ? [batch] : [batch, w]);
    }
    return feeds;
  }

  /** The updated rows back into the table. */
  private async scatterRows(out: Record<string, Tensor>, indices: ArrayLike<number>): Promise<void> {
    for (const [name, t] of this.table ?? []) {
      const o = out[updatedName(name)];
      if (!o) throw new FeedError(`train_step did not return '${updatedName(name)}'`);
      const rows = (await hostData(o)) as FloatArray;
      const w = t.width;
      for (let i = 0; i < indices.length; i++) t.data.set(rows.subarray(i * w, (i + 1) * w), indices[i] * w);
      o.dispose?.();
    }
  }

  /** The y feed of a conditional model (none for a plain one): integer labels become one-hot rows. */
  private labelFeed(y: Int32Array | Float32Array | Float64Array | undefined, k: number, batch: number): Record<string, Tensor> {
    const c = this.manifest.config.conditional?.classes;
    if (c === undefined) return {};
    if (!y) throw new FeedError(`trainStep: this model is conditional (${c} classes); pass the batch's labels y`);
    const rows = y instanceof Int32Array ? oneHot(y, c, this.dtype) : y;
    if (rows.length !== k * batch * c) {
      throw new FeedError(`trainStep: y has ${y.length} values, expected ${k * batch} labels or ${k * batch} × ${c} one-hot values`);
    }
    return { y: floatTensor(this.ort, this.dtype, rows, k > 1 ? [k, batch, c] : [batch, c]) };
  }

  /** The flat vector of `<param><suffix>` for every parameter, in the layout's order, checked against its shapes. */
  private pack(tensors: Readonly<Record<string, TensorData>>, suffix: string, what: string): Tensor {
    const layout = this.flat as FlatEntry[];
    const size = layout.reduce((a, e) => a + e.size, 0);
    const out = this.dtype === 'float32' ? new Float32Array(size) : new Float64Array(size);
    for (const e of layout) {
      const t = tensors[`${e.name}${suffix}`];
      if (!t) throw new FeedError(`${what} '${e.name}${suffix}' is missing`);
      if (t.data.length !== e.size)
        throw new FeedError(`${what} '${e.name}${suffix}' has ${t.data.length} values, its shape [${e.shape.join(', ')}] needs ${e.size}`);
      out.set(t.data as FloatArray, e.offset);
    }
    return floatTensor(this.ort, this.dtype, out, [size]);
  }

  /** The flat vector's host data cut back into the named tensors `<param><suffix>` (copies). */
  private unpack(data: FloatArray, suffix: string, into: Record<string, TensorData>): void {
    for (const e of this.flat as FlatEntry[])
      into[`${e.name}${suffix}`] = tensorData(this.dtype, e.shape, data.slice(e.offset, e.offset + e.size));
  }

  private swap(store: Record<string, Tensor>, name: string, next: Tensor | undefined): void {
    if (!next) throw new FeedError(`train_step did not return '${updatedName(name)}'`);
    const old = store[name];
    store[name] = next;
    if (old.location === 'gpu-buffer') old.dispose();
  }

  /** Current parameters and optimizer state copied to the host, plus the PRNG state, for a checkpoint. */
  async snapshot(): Promise<ModelState> {
    const params: Record<string, TensorData> = {};
    const optState: Record<string, TensorData> = {};
    if (this.flat) {
      this.unpack((await hostData(this.params[FLAT_PARAMS])) as FloatArray, '', params); // unpack copies
      const kinds = new Set(flatStateNames(this.manifest.config));
      for (const [k, t] of Object.entries(this.optState)) {
        if (kinds.has(k)) this.unpack((await hostData(t)) as FloatArray, `.${k}`, optState);
        else optState[k] = await toTensorData(t, this.dtype);
      }
      // In the manifest's order, as the named layout gives them.
      const ordered: Record<string, TensorData> = {};
      for (const e of this.manifest.optimizerState) ordered[e.name] = optState[e.name];
      return {
        params,
        optState: ordered,
        training: { ...this.state.training, step: this.step, prngState: this.prng.state() },
        metrics: this.state.metrics,
      };
    }
    for (const [k, t] of Object.entries(this.params)) params[k] = await toTensorData(t, this.dtype);
    for (const [k, t] of Object.entries(this.optState)) optState[k] = await toTensorData(t, this.dtype);
    if (this.table) {
      // The table's copies, and every tensor in the manifest's order.
      const byName: Record<string, TensorData> = {};
      for (const [k, t] of this.table) byName[k] = tensorData(this.dtype, t.shape, t.data.slice());
      const order = (entries: { name: string }[], named: Record<string, TensorData>) =>
        Object.fromEntries(entries.map((e) => [e.name, named[e.name] ?? byName[e.name]]));
      return {
        params: order(this.manifest.params, params),
        optState: order(this.manifest.optimizerState, optState),
        training: { ...this.state.training, step: this.step, prngState: this.prng.state() },
        metrics: this.state.metrics,
      };
    }
    return {
      params,
      optState,
      training: { ...this.state.training, step: this.step, prngState: this.prng.state() },
      metrics: this.state.metrics,
    };
  }

  /** Completed epochs (the checkpoint's, then as recorded by setEpoch). */
  get epoch(): number {
    return this.state.training.epoch;
  }

  /** Records completed epochs (saved with the next snapshot). */
  setEpoch(epoch: number): void {
    this.state.training.epoch = epoch;
  }

  /** The PRNG drawing eps; the host may use it to shuffle so one seed fixes the whole run. */
  get random(): Prng {
    return this.prng;
  }

  /**
   * Current parameter tensors by name (e.g. to feed eval.onnx without a host copy). With the flat layout they are
   * views into the current vector (valid until the next step); a vector kept on a GPU has no such views.
   */
  get parameterTensors(): Readonly<Record<string, Tensor>> {
    if (!this.flat) return this.params;
    const v = this.params[FLAT_PARAMS];
    if (v.location !== 'cpu' && v.location !== 'cpu-pinned')
      throw new FeedError(`parameterTensors: the flat parameter vector is on the device (${v.location}); use snapshot() for a host copy`);
    const data = v.data as FloatArray;
    const out: Record<string, Tensor> = {};
    for (const e of this.flat) out[e.name] = floatTensor(this.ort, this.dtype, data.subarray(e.offset, e.offset + e.size), e.shape);
    return out;
  }
}

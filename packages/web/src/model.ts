/**
 * A deployed model in the browser: the decoder (and encoder) of a bundle on WebGPU or WASM, with the shared Sampler,
 * and fine-tuning with the shared Trainer over train_step.onnx.
 *
 * @example
 * const rt = await createWebRuntime();                         // webgpu if the browser has an adapter, else wasm
 * const model = await WebModel.load(rt, '/models/mnist', { onProgress: (p) => console.log(p.file, p.loaded) });
 * const { x } = await model.sampler.sample(16, { temperature: 0.8 });
 * drawImages(canvas, x, 16, 28, 28, 4);
 */

import {
  type BatchSource,
  buildDecoder,
  buildEncoder,
  checkpointParams,
  type FitOptions,
  type FitResult,
  fit,
  imageDims,
  type LoadedBundle,
  type Manifest,
  openSampler,
  type Sampler,
  type SessionHost,
  type StepMetrics,
  serializeModel,
  type TensorData,
  Trainer,
} from '@onnxvae/core';
import { TRAIN_METRICS } from '@onnxvae/core/internal';
import { fetchBundle, fetchManifest, fetchVerified, ModelLoadError, type ProgressCallback } from './load.js';
import { RunQueue, serialized } from './schedule.js';
import type { WebRuntime } from './session.js';

export { LatestOnly, RunQueue, serialized } from './schedule.js';

const queues = new WeakMap<object, RunQueue>();

/**
 * The queue that every WebModel and FineTuner session of this onnxruntime-web instance runs through: its WebGPU
 * backend takes one run at a time across all sessions ("Session mismatch" otherwise), so runs never overlap.
 */
export function runQueue(runtime: { ort: object }): RunQueue {
  const q = queues.get(runtime.ort) ?? new RunQueue();
  queues.set(runtime.ort, q);
  return q;
}

/** The runtime with every session it opens running through the runtime's queue (see runQueue). */
export function queuedSessions(runtime: SessionHost): SessionHost {
  const q = runQueue(runtime);
  return {
    ort: runtime.ort,
    createSession: async (model, name, options) => serialized(await runtime.createSession(model, name, options), q),
  };
}

export class WebModel {
  private rebuilt = false;
  private constructor(
    readonly runtime: WebRuntime,
    readonly baseUrl: string,
    readonly manifest: Manifest,
    private current: Sampler,
  ) {}

  /** The Sampler over the model's current weights (the bundle's, or fine-tuned ones after `useParams`). */
  get sampler(): Sampler {
    return this.current;
  }

  /**
   * Decodes and encodes with other weights from now on (e.g. `(await tuner.trainer.snapshot()).params` after
   * fine-tuning): decoder.onnx and encoder.onnx are rebuilt in the page with those weights embedded.
   */
  async useParams(params: Record<string, TensorData>): Promise<void> {
    const cfg = this.manifest.config;
    for (const e of this.manifest.params) if (!params[e.name]) throw new Error(`useParams: parameter '${e.name}' is missing`);
    const files = { 'decoder.onnx': serializeModel(buildDecoder(cfg, params)), 'encoder.onnx': serializeModel(buildEncoder(cfg, params)) };
    const next = await openSampler(
      queuedSessions(this.runtime),
      { manifest: this.manifest, files },
      {
        params,
        source: `${this.baseUrl} (rebuilt)`,
      },
    );
    const old = this.current;
    this.current = next;
    this.rebuilt = true;
    await old.release();
  }

  /** Latent size of the model (what z must have per example). */
  get latent(): number {
    return this.sampler.latent;
  }

  /** The classes of a conditional model (sample with `label`), undefined for a plain one. */
  get classes(): number | undefined {
    return this.manifest.config.conditional?.classes;
  }

  /**
   * How decoder.onnx and encoder.onnx store their weights: 'float16' for a bundle exported with `onnxvae export
   * --fp16` (half the download; the graphs still take and give float32), else the config's dtype. After
   * `useParams` the graphs are rebuilt at the config's dtype.
   */
  get weights(): string {
    return (this.rebuilt ? undefined : this.manifest.deploy?.weights) ?? this.manifest.config.dtype;
  }

  /** Height and width of an example, for drawing. */
  get imageSize(): [number, number] {
    return imageDims(this.manifest.config) ?? [1, this.manifest.config.inputShape[0]];
  }

  /**
   * Loads manifest.json, decoder.onnx and encoder.onnx from baseUrl, verifying each against the manifest; for a
   * conditional model also the checkpoint, whose parameters give the prior p(z|y) of each class.
   */
  static async load(runtime: WebRuntime, baseUrl: string, opts: { onProgress?: ProgressCallback } = {}): Promise<WebModel> {
    const manifest = await fetchManifest(baseUrl);
    const files = {
      'decoder.onnx': await fetchVerified(baseUrl, manifest, 'decoder.onnx', opts.onProgress),
      'encoder.onnx': await fetchVerified(baseUrl, manifest, 'encoder.onnx', opts.onProgress),
    };
    const params = manifest.config.conditional
      ? checkpointParams(await fetchVerified(baseUrl, manifest, 'checkpoint.safetensors', opts.onProgress))
      : undefined;
    const sampler = await openSampler(queuedSessions(runtime), { manifest, files }, { params, source: baseUrl });
    return new WebModel(runtime, baseUrl, manifest, sampler);
  }

  /** Prepares fine-tuning: fetches train_step.onnx and the checkpoint (verified) and opens a Trainer. */
  async fineTuner(opts: { lr?: number; onProgress?: ProgressCallback } = {}): Promise<FineTuner> {
    const bundle = await fetchBundle(this.baseUrl, opts.onProgress);
    return FineTuner.create(this.runtime, bundle, opts.lr ?? 1e-3);
  }
}

/**
 * Fine-tuning in the browser. On WebGPU the updated parameters and optimizer state stay on the GPU between steps
 * (gpu-buffer outputs fed back as inputs); on WASM they stay in wasm memory-backed CPU tensors.
 */
export class FineTuner {
  readonly losses: number[] = [];
  private constructor(
    readonly trainer: Trainer,
    readonly bundle: LoadedBundle,
    readonly provider: string,
  ) {}

  /** Opens the bundle's train_step.onnx through the runtime's session factory, its runs on the runtime's queue. */
  static async create(runtime: WebRuntime, bundle: LoadedBundle, lr: number): Promise<FineTuner> {
    // The updated parameters and optimizer state are fed back next step: on WebGPU they stay on the GPU.
    // Every output but the metrics: the parameters and optimizer state (per tensor, or the flat layout's vectors).
    const metrics = new Set<string>(TRAIN_METRICS);
    const outputsOnDevice = bundle.manifest.graphs.train_step.outputs.map((o) => o.name).filter((n) => !metrics.has(n));
    let session: Awaited<ReturnType<WebRuntime['createSession']>>;
    try {
      session = await queuedSessions(runtime).createSession(bundle.files['train_step.onnx'], 'train_step.onnx', { outputsOnDevice });
    } catch (e) {
      throw new ModelLoadError((e as Error).message);
    }
    const trainer = new Trainer(runtime.ort, session, bundle.manifest, bundle.state, { lr });
    return new FineTuner(trainer, bundle, runtime.provider);
  }

  /** One optimizer step on a batch (n examples, values in [0, 1]; a conditional model's integer labels). */
  async step(x: Float32Array, n: number, labels?: ArrayLike<number>): Promise<StepMetrics> {
    const m = await this.trainer.trainStep(x, n, labels === undefined || labels instanceof Int32Array ? labels : Int32Array.from(labels));
    this.losses.push(m.loss);
    return m;
  }

  /**
   * Epochs over a batch source with core's training loop (fit): fused groups, labels, per-epoch means, stopping on
   * `signal`, a diverged step reported with its epoch. Each step's loss is added to `losses`.
   */
  fit(source: BatchSource, opts: FitOptions): Promise<FitResult> {
    return fit(this.trainer, source, {
      ...opts,
      onStep: (m, epoch) => {
        this.losses.push(m.loss);
        return opts.onStep?.(m, epoch);
      },
    });
  }
}

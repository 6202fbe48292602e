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
  buildDecoder,
  buildEncoder,
  type LoadedBundle,
  type Manifest,
  Sampler,
  type StepMetrics,
  samplerLatent,
  serializeModel,
  type TensorData,
  Trainer,
} from '@onnxvae/core';
import type { InferenceSession } from 'onnxruntime-web';
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

export class WebModel {
  private constructor(
    readonly runtime: WebRuntime,
    readonly baseUrl: string,
    readonly manifest: Manifest,
    private current: Sampler,
    private sessions: InferenceSession[],
  ) {}

  /** The Sampler over the model's current weights (the bundle's, or fine-tuned ones after `useParams`). */
  get sampler(): Sampler {
    return this.current;
  }

  private static async openSampler(runtime: WebRuntime, manifest: Manifest, dec: Uint8Array, enc: Uint8Array, where: string) {
    const cfg = manifest.config;
    const q = runQueue(runtime);
    const sessions = [
      serialized(await runtime.createSession(dec, `${where}/decoder.onnx`), q),
      serialized(await runtime.createSession(enc, `${where}/encoder.onnx`), q),
    ];
    const sampler = new Sampler(runtime.ort, sessions[0], sessions[1], {
      ...samplerLatent(cfg),
      outputSize: cfg.inputShape.reduce((a, b) => a * b, 1),
      dtype: cfg.dtype,
    });
    return { sampler, sessions };
  }

  /**
   * Decodes and encodes with other weights from now on (e.g. `(await tuner.trainer.snapshot()).params` after
   * fine-tuning): decoder.onnx and encoder.onnx are rebuilt in the page with those weights embedded.
   */
  async useParams(params: Record<string, TensorData>): Promise<void> {
    const cfg = this.manifest.config;
    for (const e of this.manifest.params) if (!params[e.name]) throw new Error(`useParams: parameter '${e.name}' is missing`);
    const dec = serializeModel(buildDecoder(cfg, params));
    const enc = serializeModel(buildEncoder(cfg, params));
    const next = await WebModel.openSampler(this.runtime, this.manifest, dec, enc, `${this.baseUrl} (rebuilt)`);
    const old = this.sessions;
    [this.current, this.sessions] = [next.sampler, next.sessions];
    for (const s of old) await s.release();
  }

  /** Latent size of the model (what z must have per example). */
  get latent(): number {
    return this.sampler.latent;
  }

  /** Height and width of an example, for drawing. */
  get imageSize(): [number, number] {
    const s = this.manifest.config.inputShape;
    if (s.length === 3) return [s[1], s[2]];
    const side = Math.round(Math.sqrt(s[0]));
    return side * side === s[0] ? [side, side] : [1, s[0]];
  }

  /** Loads manifest.json, decoder.onnx and encoder.onnx from baseUrl, verifying each against the manifest. */
  static async load(runtime: WebRuntime, baseUrl: string, opts: { onProgress?: ProgressCallback } = {}): Promise<WebModel> {
    const manifest = await fetchManifest(baseUrl);
    const dec = await fetchVerified(baseUrl, manifest, 'decoder.onnx', opts.onProgress);
    const enc = await fetchVerified(baseUrl, manifest, 'encoder.onnx', opts.onProgress);
    const { sampler, sessions } = await WebModel.openSampler(runtime, manifest, dec, enc, baseUrl);
    return new WebModel(runtime, baseUrl, manifest, sampler, sessions);
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

  static async create(runtime: WebRuntime, bundle: LoadedBundle, lr: number): Promise<FineTuner> {
    const names = [...bundle.manifest.params, ...bundle.manifest.optimizerState].map((e) => `${e.name}_new`);
    const options =
      runtime.provider === 'webgpu'
        ? { executionProviders: ['webgpu'], preferredOutputLocation: Object.fromEntries(names.map((n) => [n, 'gpu-buffer' as const])) }
        : { executionProviders: ['wasm'] };
    let session: Awaited<ReturnType<typeof runtime.ort.InferenceSession.create>>;
    try {
      session = await runtime.ort.InferenceSession.create(bundle.files['train_step.onnx'], options);
    } catch (e) {
      throw new ModelLoadError(`cannot open train_step.onnx on ${runtime.provider}: ${(e as Error).message}`);
    }
    const trainer = new Trainer(runtime.ort, serialized(session, runQueue(runtime)), bundle.manifest, bundle.state, { lr });
    return new FineTuner(trainer, bundle, runtime.provider);
  }

  /** One optimizer step on a batch (n examples, values in [0, 1]). */
  async step(x: Float32Array, n: number, labels?: ArrayLike<number>): Promise<StepMetrics> {
    const m = await this.trainer.trainStep(x, n, labels as Int32Array | undefined);
    this.losses.push(m.loss);
    return m;
  }
}

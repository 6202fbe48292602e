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
import { type LoadedBundle, type Manifest, Sampler, type StepMetrics, samplerLatent, Trainer } from '@onnxvae/core';
import { fetchBundle, fetchManifest, fetchVerified, ModelLoadError, type ProgressCallback } from './load.js';
import type { WebRuntime } from './session.js';

export class WebModel {
  private constructor(
    readonly runtime: WebRuntime,
    readonly baseUrl: string,
    readonly manifest: Manifest,
    readonly sampler: Sampler,
  ) {}

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
    const cfg = manifest.config;
    const sampler = new Sampler(
      runtime.ort,
      await runtime.createSession(dec, `${baseUrl}/decoder.onnx`),
      await runtime.createSession(enc, `${baseUrl}/encoder.onnx`),
      { ...samplerLatent(cfg), outputSize: cfg.inputShape.reduce((a, b) => a * b, 1), dtype: cfg.dtype },
    );
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
    const trainer = new Trainer(runtime.ort, session, bundle.manifest, bundle.state, { lr });
    return new FineTuner(trainer, bundle, runtime.provider);
  }

  /** One optimizer step on a batch (n examples, values in [0, 1]). */
  async step(x: Float32Array, n: number, labels?: ArrayLike<number>): Promise<StepMetrics> {
    const m = await this.trainer.trainStep(x, n, labels as Int32Array | undefined);
    this.losses.push(m.loss);
    return m;
  }
}

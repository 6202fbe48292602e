/**
 * Conditional sampling in the browser ("draw 7s"): a conditional bundle's decoder.onnx takes z and a one-hot label y;
 * z is drawn from the model's prior p(z|y), whose per-class table comes from the checkpoint.
 *
 * @example
 * const rt = await createWebRuntime();
 * const bundle = await loadBundle(async (f) => new Uint8Array(await (await fetch(`model/${f}`)).arrayBuffer()));
 * const sevens = await ConditionalSampler.create(rt, bundle).then((s) => s.draw(7, 16)); // 16 × 784 pixel means
 */
import { type ModelState, openSampler, type Sampler, type SessionHost, type VaeConfig } from '@onnxvae/core';
import { queuedSessions } from './model.js';

/** What the sampler needs of a loaded bundle: the config, decoder.onnx and the checkpoint's parameters. */
export interface ConditionalBundle {
  manifest: { config: VaeConfig };
  files: { 'decoder.onnx': Uint8Array };
  state: Pick<ModelState, 'params'>;
}

export class ConditionalSampler {
  private constructor(
    private readonly sampler: Sampler,
    readonly classes: number,
    readonly outputSize: number,
  ) {}

  /** Opens the bundle's decoder on the runtime (WebGPU or WASM); fails clearly for a model without labels. */
  static async create(runtime: SessionHost, bundle: ConditionalBundle): Promise<ConditionalSampler> {
    const cfg = bundle.manifest.config;
    if (!cfg.conditional) throw new Error('ConditionalSampler: this bundle is not a conditional model (its config has no `conditional`)');
    // Its runs share the queue of every other session of this onnxruntime-web instance (WebGPU takes one at a time).
    const sampler = await openSampler(queuedSessions(runtime), bundle, { encoder: false });
    return new ConditionalSampler(
      sampler,
      cfg.conditional.classes,
      cfg.inputShape.reduce((a, b) => a * b, 1),
    );
  }

  /**
   * n samples of class `label`: z ~ N(μ_p(y), T²·σ_p(y)²), decoded to pixel probabilities (or means), n × D values.
   * The same seed gives the same z as the Node sampler, so both runtimes draw the same pictures.
   */
  draw(label: number, n: number, opts: { temperature?: number; seed?: number } = {}): Promise<{ z: Float32Array; x: Float32Array }> {
    if (!Number.isInteger(label) || label < 0 || label >= this.classes) {
      return Promise.reject(new Error(`draw: label must be a class of the model, 0 to ${this.classes - 1}, got ${label}`));
    }
    return this.sampler.sample(n, { ...opts, label });
  }
}

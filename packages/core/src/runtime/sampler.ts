/** Sampler: prior samples with temperature, reconstructions and latent interpolation over decoder/encoder graphs. */

import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { FeedError } from '../errors.js';
import { type DiscretePrior, fillDiscretePrior } from '../models/discrete.js';
import { Prng } from '../random/prng.js';
import type { OrtModule } from './runtime.js';
import { floatTensor, hostFloat32, oneHotTensor } from './tensors.js';

export interface SamplerOptions {
  latent: number;
  dtype?: 'float32' | 'float64';
  /** Elements per example of the decoder's output (e.g. 784). */
  outputSize: number;
  /** Conditional models: the number of classes (the decoder and encoder then take one-hot labels y). */
  classes?: number;
  /** Conditional models with a learned prior: μ_p(c), log σ_p²(c) as C × L tables (conditionalPriorTable). */
  prior?: { mu: Float32Array; logvar: Float32Array };
  /**
   * Discrete-latent models (models/discrete.ts): `latent` is the decoder's input width and sample() draws z from
   * this prior (temperature does not apply). `samplerLatent(cfg)` gives both.
   */
  discrete?: DiscretePrior;
  /**
   * Structured-output models (families/structured.ts): decoder.onnx also takes the observed part `c` [n, outputSize]
   * (the whole image may be given: the graph keeps only the observed pixels); use complete().
   */
  completes?: boolean;
}

export class Sampler {
  private readonly dtype: 'float32' | 'float64';
  constructor(
    private readonly ort: OrtModule,
    private readonly decoder: InferenceSession,
    private readonly encoder: InferenceSession | undefined,
    private readonly opts: SamplerOptions,
  ) {
    this.dtype = opts.dtype ?? 'float32';
    if (decoder.inputNames.includes('c') !== (opts.completes === true)) {
      throw new FeedError(
        decoder.inputNames.includes('c')
          ? "the decoder completes images (it takes the observed part 'c'): pass completes: true (a structured-output model)"
          : 'completes was given, but the decoder takes no observed part c: is this the bundle of a structured-output model?',
      );
    }
    if (!decoder.inputNames.includes('z')) throw new FeedError(`decoder has no input 'z' (inputs: ${decoder.inputNames.join(', ')})`);
    if (decoder.inputNames.includes('y') !== (opts.classes !== undefined)) {
      throw new FeedError(
        decoder.inputNames.includes('y')
          ? "the decoder is conditional (it takes labels 'y'): pass the model's classes (manifest.config.conditional.classes)"
          : 'the decoder takes no labels, but classes were given: is this the bundle of a conditional model?',
      );
    }
  }

  /** The one-hot y feed of a conditional model for n labels (none for a plain model). */
  private labels(y: number | ArrayLike<number> | undefined, n: number, what: string): Record<string, Tensor> {
    const c = this.opts.classes;
    if (c === undefined) return {};
    if (y === undefined) throw new FeedError(`${what}: this model is conditional (${c} classes); pass a label or one label per example`);
    const ys = typeof y === 'number' ? new Array<number>(n).fill(y) : y;
    if (ys.length !== n) throw new FeedError(`${what}: ${ys.length} labels for ${n} examples`);
    return { y: oneHotTensor(this.ort, this.dtype, ys, c) };
  }

  get latent(): number {
    return this.opts.latent;
  }

  /** The number of classes of a conditional model (undefined for a plain one). */
  get classes(): number | undefined {
    return this.opts.classes;
  }

  /** Releases the decoder and encoder sessions (the sampler cannot run afterwards). */
  async release(): Promise<void> {
    await this.decoder.release();
    await this.encoder?.release();
  }

  /** Decodes n latent vectors (n × L values) to the decoder's mean, n × D; a conditional model also takes labels y. */
  async decode(z: Float32Array, n: number, y?: number | ArrayLike<number>): Promise<Float32Array> {
    if (this.opts.completes)
      throw new FeedError('this model completes images from an observed part: use complete(observed, n) (or decodeGiven(z, c, n))');
    return this.run(z, n, y);
  }

  /**
   * A structured-output model's completions of n images from the same draws z: c holds n images (n × outputSize;
   * only their observed pixels are used), the result the completed images, the observed pixels as given.
   */
  async decodeGiven(z: Float32Array, c: Float32Array, n: number): Promise<Float32Array> {
    if (!this.opts.completes) throw new FeedError('decodeGiven: this model takes no observed part (not a structured-output model)');
    const d = this.opts.outputSize;
    if (c.length !== n * d) throw new FeedError(`decodeGiven: c has ${c.length} values, expected ${n} × ${d}`);
    for (let i = 0; i < c.length; i++) if (!Number.isFinite(c[i])) throw new FeedError(`decodeGiven: c[${i}] is ${c[i]}`);
    return this.run(z, n, undefined, { c: floatTensor(this.ort, this.dtype, c, [n, d]) });
  }

  /**
   * `samples` completions of each of n images (c: n × outputSize, the observed part; other pixels are ignored):
   * z = μ_p(c) + T·σ_p(c)·u for standard-normal draws u (inside decoder.onnx), n × samples images, image-major.
   */
  async complete(
    c: Float32Array,
    n: number,
    opts: { samples?: number; temperature?: number; seed?: number; prng?: Prng } = {},
  ): Promise<{ z: Float32Array; x: Float32Array; samples: number }> {
    const k = opts.samples ?? 8;
    if (!Number.isInteger(k) || k < 1) throw new FeedError(`complete: samples must be a positive integer, got ${k}`);
    const t = opts.temperature ?? 1;
    if (!(t >= 0)) throw new FeedError(`complete: temperature must be ≥ 0, got ${t}`);
    const d = this.opts.outputSize;
    if (c.length !== n * d) throw new FeedError(`complete: c has ${c.length} values, expected ${n} × ${d}`);
    const prng = opts.prng ?? new Prng(opts.seed ?? 0);
    const z = prng.fillNormal(new Float32Array(n * k * this.opts.latent), 0, t);
    const rows = new Float32Array(n * k * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) rows.set(c.subarray(i * d, (i + 1) * d), (i * k + j) * d);
    return { z, x: await this.decodeGiven(z, rows, n * k), samples: k };
  }

  private async run(z: Float32Array, n: number, y?: number | ArrayLike<number>, extra: Record<string, Tensor> = {}): Promise<Float32Array> {
    const L = this.opts.latent;
    if (z.length !== n * L) throw new FeedError(`decode: z has ${z.length} values, expected ${n} × ${L} (the model's latent size is ${L})`);
    for (let i = 0; i < z.length; i++) if (!Number.isFinite(z[i])) throw new FeedError(`decode: z[${i}] is ${z[i]}`);
    const out = await this.decoder.run({ z: floatTensor(this.ort, this.dtype, z, [n, L]), ...this.labels(y, n, 'decode'), ...extra });
    const x = out.x_mean;
    const res = await hostFloat32(x);
    x.dispose?.();
    return res;
  }

  /**
   * n samples from the prior N(0, T²·I) decoded: temperature T < 1 trades diversity for typicality. A conditional
   * model draws from p(z|y) = N(μ_p(y), T²·σ_p(y)²) for `label` (one class for all, or one per sample): "draw 7s".
   */
  async sample(
    n: number,
    opts: { temperature?: number; seed?: number; prng?: Prng; label?: number | ArrayLike<number> } = {},
  ): Promise<{ z: Float32Array; x: Float32Array }> {
    const t = opts.temperature ?? 1;
    if (!(t >= 0)) throw new FeedError(`sample: temperature must be ≥ 0, got ${t}`);
    const prng = opts.prng ?? new Prng(opts.seed ?? 0);
    const L = this.opts.latent;
    const z = new Float32Array(n * L);
    if (this.opts.discrete) fillDiscretePrior(this.opts.discrete, prng, z);
    else prng.fillNormal(z, 0, t);
    const prior = this.opts.prior;
    if (prior && opts.label !== undefined) {
      for (let i = 0; i < n; i++) {
        const c = typeof opts.label === 'number' ? opts.label : opts.label[i];
        if (!(Number.isInteger(c) && c >= 0 && c < (this.opts.classes ?? 0)))
          throw new FeedError(`sample: label ${c} is not a class of this model (0 to ${(this.opts.classes ?? 0) - 1})`);
        for (let j = 0; j < L; j++) z[i * L + j] = prior.mu[c * L + j] + Math.exp(0.5 * prior.logvar[c * L + j]) * z[i * L + j];
      }
    }
    return { z, x: await this.decode(z, n, opts.label) };
  }

  /** Encoder means μ(x) for n examples (μ(x, y) for a conditional model). */
  async encode(x: Float32Array, n: number, y?: number | ArrayLike<number>): Promise<{ mu: Float32Array; logvar: Float32Array }> {
    if (!this.encoder) throw new FeedError('this sampler has no encoder session; load encoder.onnx to reconstruct');
    const d = this.opts.outputSize;
    if (x.length !== n * d) throw new FeedError(`encode: x has ${x.length} values, expected ${n} × ${d}`);
    const out = await this.encoder.run({ x: floatTensor(this.ort, this.dtype, x, [n, d]), ...this.labels(y, n, 'encode') });
    return { mu: await hostFloat32(out.mu), logvar: await hostFloat32(out.logvar) };
  }

  /** Reconstructions: decode the encoder's mean (with the examples' labels y for a conditional model). */
  async reconstruct(x: Float32Array, n: number, y?: number | ArrayLike<number>): Promise<Float32Array> {
    const { mu } = await this.encode(x, n, y);
    return this.decode(mu, n, y);
  }

  /**
   * Decodes `steps` points between z0 and z1: linear, or spherical (slerp), which keeps the norm typical of the
   * Gaussian prior in high dimensions.
   */
  async interpolate(
    z0: Float32Array,
    z1: Float32Array,
    steps: number,
    mode: 'linear' | 'slerp' = 'linear',
    label?: number,
  ): Promise<{ z: Float32Array; x: Float32Array }> {
    const L = this.opts.latent;
    if (z0.length !== L || z1.length !== L)
      throw new FeedError(`interpolate: endpoints must have ${L} values, got ${z0.length} and ${z1.length}`);
    if (!Number.isInteger(steps) || steps < 2) throw new FeedError(`interpolate: steps must be an integer ≥ 2, got ${steps}`);
    const z = new Float32Array(steps * L);
    const dot = z0.reduce((s, v, i) => s + v * z1[i], 0);
    const n0 = Math.hypot(...z0);
    const n1 = Math.hypot(...z1);
    const omega = Math.acos(Math.min(1, Math.max(-1, dot / (n0 * n1 || 1))));
    for (let s = 0; s < steps; s++) {
      const a = s / (steps - 1);
      let w0 = 1 - a;
      let w1 = a;
      if (mode === 'slerp' && omega > 1e-6) {
        w0 = Math.sin((1 - a) * omega) / Math.sin(omega);
        w1 = Math.sin(a * omega) / Math.sin(omega);
      }
      for (let i = 0; i < L; i++) z[s * L + i] = w0 * z0[i] + w1 * z1[i];
    }
    return { z, x: await this.decode(z, steps, label) };
  }
}

/** Sampler: prior samples with temperature, reconstructions and latent interpolation over decoder/encoder graphs. */
import type { InferenceSession } from 'onnxruntime-common';
import { Prng } from './prng.js';
import type { OrtModule } from './session.js';

export interface SamplerOptions {
  latent: number;
  dtype?: 'float32' | 'float64';
  /** Elements per example of the decoder's output (e.g. 784). */
  outputSize: number;
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
    if (!decoder.inputNames.includes('z')) throw new Error(`decoder has no input 'z' (inputs: ${decoder.inputNames.join(', ')})`);
  }

  get latent(): number {
    return this.opts.latent;
  }

  /** Decodes n latent vectors (n × L values) to the decoder's mean, n × D. */
  async decode(z: Float32Array, n: number): Promise<Float32Array> {
    const L = this.opts.latent;
    if (z.length !== n * L) throw new Error(`decode: z has ${z.length} values, expected ${n} × ${L} (the model's latent size is ${L})`);
    for (let i = 0; i < z.length; i++) if (!Number.isFinite(z[i])) throw new Error(`decode: z[${i}] is ${z[i]}`);
    const data = this.dtype === 'float32' ? z : Float64Array.from(z);
    const out = await this.decoder.run({ z: new this.ort.Tensor(this.dtype, data as Float32Array, [n, L]) });
    const x = out.x_mean;
    const res = x.location === 'cpu' ? Float32Array.from(x.data as Float32Array) : Float32Array.from((await x.getData()) as Float32Array);
    x.dispose?.();
    return res;
  }

  /** n samples from the prior N(0, T²·I) decoded: temperature T < 1 trades diversity for typicality. */
  async sample(n: number, opts: { temperature?: number; seed?: number; prng?: Prng } = {}): Promise<{ z: Float32Array; x: Float32Array }> {
    const t = opts.temperature ?? 1;
    if (!(t >= 0)) throw new Error(`sample: temperature must be ≥ 0, got ${t}`);
    const prng = opts.prng ?? new Prng(opts.seed ?? 0);
    const z = new Float32Array(n * this.opts.latent);
    prng.fillNormal(z, 0, t);
    return { z, x: await this.decode(z, n) };
  }

  /** Encoder means μ(x) for n examples. */
  async encode(x: Float32Array, n: number): Promise<{ mu: Float32Array; logvar: Float32Array }> {
    if (!this.encoder) throw new Error('this sampler has no encoder session; load encoder.onnx to reconstruct');
    const d = this.opts.outputSize;
    if (x.length !== n * d) throw new Error(`encode: x has ${x.length} values, expected ${n} × ${d}`);
    const data = this.dtype === 'float32' ? x : Float64Array.from(x);
    const out = await this.encoder.run({ x: new this.ort.Tensor(this.dtype, data as Float32Array, [n, d]) });
    const get = async (name: string) => {
      const t = out[name];
      return Float32Array.from((t.location === 'cpu' ? t.data : await t.getData()) as Float32Array);
    };
    return { mu: await get('mu'), logvar: await get('logvar') };
  }

  /** Reconstructions: decode the encoder's mean. */
  async reconstruct(x: Float32Array, n: number): Promise<Float32Array> {
    const { mu } = await this.encode(x, n);
    return this.decode(mu, n);
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
  ): Promise<{ z: Float32Array; x: Float32Array }> {
    const L = this.opts.latent;
    if (z0.length !== L || z1.length !== L)
      throw new Error(`interpolate: endpoints must have ${L} values, got ${z0.length} and ${z1.length}`);
    if (!Number.isInteger(steps) || steps < 2) throw new Error(`interpolate: steps must be an integer ≥ 2, got ${steps}`);
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
    return { z, x: await this.decode(z, steps) };
  }
}

/**
 * openSampler: the one way a host turns a loaded bundle into a Sampler, for every model kind — plain Gaussian
 * latents, discrete latents (the decoder's input width and the prior to draw from) and conditional models (their
 * classes and the prior table p(z|y) from the checkpoint). Node's CLI and training pictures, the browser's WebModel
 * and ConditionalSampler all come through here.
 *
 * @example
 * const rt = await createWebRuntime();                   // or createNodeRuntime({ provider: 'cpu' })
 * const sampler = await openSampler(rt, await fetchBundle('/models/cvae'));
 * const sevens = await sampler.sample(16, { label: 7 });
 */

import type { ModelState } from '../artifacts/bundle.js';
import { decodeSafetensors } from '../artifacts/safetensors.js';
import { FeedError } from '../errors.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { conditionalPriorTable } from '../models/conditional.js';
import type { VaeConfig } from '../models/config.js';
import { samplerLatent } from '../models/discrete.js';
import type { SessionHost } from './runtime.js';
import { Sampler } from './sampler.js';

/**
 * What openSampler reads of a bundle: the config, decoder.onnx (and encoder.onnx to encode and reconstruct), and,
 * for a conditional model, its parameters: `state.params` (a loaded bundle), else the checkpoint's.
 */
export interface SamplerBundle {
  manifest: { config: VaeConfig };
  files: { 'decoder.onnx': Uint8Array; 'encoder.onnx'?: Uint8Array; 'checkpoint.safetensors'?: Uint8Array };
  state?: Pick<ModelState, 'params'>;
}

export interface OpenSamplerOptions {
  /** Open encoder.onnx too (default: when the bundle has it). */
  encoder?: boolean;
  /** Parameters for a conditional model's prior table instead of the bundle's (e.g. fine-tuned ones). */
  params?: Record<string, TensorData>;
  /** Where the bundle came from (a folder, a URL), prefixed to the file names in errors. */
  source?: string;
}

/** The float parameters in a bundle's checkpoint bytes (verified against the manifest when the bundle was loaded). */
export function checkpointParams(bytes: Uint8Array): Record<string, TensorData> {
  const out: Record<string, TensorData> = {};
  for (const [k, t] of Object.entries(decodeSafetensors(bytes).tensors)) {
    if (t.dtype === 'float32' || t.dtype === 'float64') out[k] = tensorData(t.dtype, t.shape, t.data);
  }
  return out;
}

/** Opens the bundle's decoder (and encoder) through the host's session factory and wraps them in a Sampler. */
export async function openSampler(runtime: SessionHost, bundle: SamplerBundle, opts: OpenSamplerOptions = {}): Promise<Sampler> {
  const cfg = bundle.manifest.config;
  const name = (f: string) => (opts.source ? `${opts.source}/${f}` : f);
  const withEncoder = opts.encoder ?? bundle.files['encoder.onnx'] !== undefined;
  const encoderBytes = bundle.files['encoder.onnx'];
  if (withEncoder && !encoderBytes)
    throw new FeedError(`openSampler: ${name('encoder.onnx')} is missing (load it, or pass encoder: false)`);
  let prior: ReturnType<typeof conditionalPriorTable> | undefined;
  if (cfg.conditional) {
    const ck = bundle.files['checkpoint.safetensors'];
    const params = opts.params ?? bundle.state?.params ?? (ck ? checkpointParams(ck) : undefined);
    if (!params) {
      throw new FeedError(
        `openSampler: ${opts.source ?? 'the bundle'} is a conditional model (${cfg.conditional.classes} classes); its prior p(z|y) needs the parameters: ` +
          'pass the loaded bundle (with state) or checkpoint.safetensors',
      );
    }
    prior = conditionalPriorTable(cfg, params);
  }
  const decoder = await runtime.createSession(bundle.files['decoder.onnx'], name('decoder.onnx'));
  const encoder = withEncoder ? await runtime.createSession(encoderBytes as Uint8Array, name('encoder.onnx')) : undefined;
  return new Sampler(runtime.ort, decoder, encoder, {
    ...samplerLatent(cfg), // the latent width, and a discrete model's prior
    outputSize: cfg.inputShape.reduce((a, c) => a * c, 1),
    dtype: cfg.dtype,
    ...(cfg.conditional && prior ? { classes: cfg.conditional.classes, prior } : {}),
    ...(cfg.structured ? { completes: true } : {}),
  });
}

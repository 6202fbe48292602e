/** Conditional models in the Node tools: label checks, label batches, and samplers that know the classes and prior. */
import {
  conditionalPriorTable,
  decodeSafetensors,
  type OrtModule,
  Sampler,
  type SessionFactory,
  samplerLatent,
  type TensorData,
  tensorData,
  type VaeConfig,
} from '@onnxvae/core';
import type { Dataset } from './data/dataset.js';

/** Fails, naming the data, when a conditional model gets data without labels or with labels outside its classes. */
export function checkLabels(cfg: VaeConfig, ds: Dataset, what: string): void {
  const c = cfg.conditional?.classes;
  if (c === undefined) return;
  if (!ds.labels) {
    throw new Error(
      `${what} (${ds.name}) has no labels, but the model is conditional (${c} classes): pass --labels FILE (MNIST has them built in)`,
    );
  }
  for (let i = 0; i < ds.labels.length; i++) {
    const y = ds.labels[i];
    if (!(y >= 0 && y < c)) throw new Error(`${what} (${ds.name}): example ${i} has label ${y}, the model has classes 0 to ${c - 1}`);
  }
}

/** Joins the label arrays of fused batches. */
export function concatLabels(parts: (Int32Array | undefined)[]): Int32Array | undefined {
  if (parts.some((p) => p === undefined)) return undefined;
  const out = new Int32Array(parts.reduce((a, p) => a + (p as Int32Array).length, 0));
  let o = 0;
  for (const p of parts as Int32Array[]) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The float parameters in a bundle's checkpoint bytes (already verified against the manifest when loaded). */
export function checkpointParams(bytes: Uint8Array): Record<string, TensorData> {
  const out: Record<string, TensorData> = {};
  for (const [k, t] of Object.entries(decodeSafetensors(bytes).tensors)) {
    if (t.dtype === 'float32' || t.dtype === 'float64') out[k] = tensorData(t.dtype, t.shape, t.data);
  }
  return out;
}

/** A Sampler over a bundle's decoder (and encoder): for a conditional model with its classes and its prior table. */
export async function bundleSampler(
  ort: OrtModule,
  createSession: SessionFactory,
  b: { manifest: { config: VaeConfig }; files: { 'decoder.onnx': Uint8Array; 'encoder.onnx': Uint8Array } },
  params: Record<string, TensorData>,
  withEncoder = true,
): Promise<Sampler> {
  const cfg = b.manifest.config;
  return new Sampler(
    ort,
    await createSession(b.files['decoder.onnx'], 'decoder.onnx'),
    withEncoder ? await createSession(b.files['encoder.onnx'], 'encoder.onnx') : undefined,
    {
      ...samplerLatent(cfg), // the latent width, and a discrete model's prior
      outputSize: cfg.inputShape.reduce((a, c) => a * c, 1),
      dtype: cfg.dtype,
      ...(cfg.conditional ? { classes: cfg.conditional.classes, prior: conditionalPriorTable(cfg, params) } : {}),
    },
  );
}

/**
 * Labels for a grid of n samples: `label` for all, or — for a conditional model given none — one class per column
 * (returns the column count to use), undefined for a plain model.
 */
export function gridLabels(cfg: VaeConfig, n: number, label?: number): { labels?: Int32Array; cols?: number } {
  const c = cfg.conditional?.classes;
  if (label !== undefined) {
    if (c === undefined) throw new Error('--label needs a conditional model (config `conditional: {classes, prior}`); this one is not');
    if (!Number.isInteger(label) || label < 0 || label >= c)
      throw new Error(`--label must be a class of the model, 0 to ${c - 1}, got ${label}`);
    return { labels: new Int32Array(n).fill(label) };
  }
  if (c === undefined) return {};
  return { labels: Int32Array.from({ length: n }, (_, i) => i % c), cols: c };
}

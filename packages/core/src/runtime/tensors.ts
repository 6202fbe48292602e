/**
 * Feeds and fetches: host arrays to ONNX Runtime tensors of a model's float dtype and back, in one place. A graph
 * built in float64 takes float64 feeds, whatever the host arrays are; outputs may live on the GPU (gpu-buffer) and
 * are copied to the host only when read.
 */

import type { Tensor } from 'onnxruntime-common';
import { FeedError } from '../errors.js';
import type { DType } from '../ir/dtype.js';
import { type TensorData, tensorData } from '../ir/tensor.js';
import { oneHot } from '../models/conditional.js';
import type { OrtModule } from './runtime.js';

/** The float dtypes a model runs in (VaeConfig.dtype). */
export type FloatDType = 'float32' | 'float64';

export type FloatArray = Float32Array | Float64Array;

/**
 * `data` as an array of `dtype`: the same array when it already is one (no copy), else a converted copy.
 * `copy: true` always copies (e.g. a subarray view that must not alias the host's buffer).
 */
export function asFloat(data: ArrayLike<number>, dtype: FloatDType, opts: { copy?: boolean } = {}): FloatArray {
  if (dtype === 'float32') return !opts.copy && data instanceof Float32Array ? data : Float32Array.from(data);
  return !opts.copy && data instanceof Float64Array ? data : Float64Array.from(data);
}

/** A CPU tensor of `dtype` over `data` (converted if it is of the other float type), of shape `dims`. */
export function floatTensor(
  ort: OrtModule,
  dtype: FloatDType,
  data: ArrayLike<number>,
  dims: readonly number[],
  opts: { copy?: boolean } = {},
): Tensor {
  return new ort.Tensor(dtype, asFloat(data, dtype, opts) as Float32Array, [...dims]);
}

/** A rank-0 tensor holding v (step, learning rate, β). */
export function scalarTensor(ort: OrtModule, dtype: FloatDType, v: number): Tensor {
  return new ort.Tensor(dtype, dtype === 'float32' ? Float32Array.of(v) : Float64Array.of(v), []);
}

/** The one-hot rows of n integer labels as an n × C tensor (a conditional model's y). */
export function oneHotTensor(ort: OrtModule, dtype: FloatDType, labels: ArrayLike<number>, classes: number): Tensor {
  return new ort.Tensor(dtype, oneHot(labels, classes, dtype) as Float32Array, [labels.length, classes]);
}

/** Host tensors (a checkpoint's parameters) as runtime tensors of `dtype`, by name, in the order of `names`. */
export function namedFeeds(
  ort: OrtModule,
  dtype: FloatDType,
  names: Iterable<string>,
  tensors: Readonly<Record<string, TensorData>>,
  what = 'tensor',
): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const name of names) {
    const t = tensors[name];
    if (!t) throw new FeedError(`${what} '${name}' is missing`);
    out[name] = fromTensorData(ort, t, dtype);
  }
  return out;
}

/** A host TensorData as a runtime tensor; a float one converted to `dtype` when given (no copy when it matches). */
export function fromTensorData(ort: OrtModule, t: TensorData, dtype?: FloatDType): Tensor {
  if (dtype && (t.dtype === 'float32' || t.dtype === 'float64')) return floatTensor(ort, dtype, t.data as FloatArray, t.shape);
  if (t.dtype === 'float16' || t.dtype === 'string') throw new FeedError(`tensors of dtype ${t.dtype} are not supported here`);
  return new ort.Tensor(t.dtype, t.data as Float32Array, [...t.shape]);
}

/** A runtime tensor's elements on the host: its own array on the CPU (no copy), a download from the GPU. */
export async function hostData(t: Tensor): Promise<Tensor['data']> {
  return t.location === 'cpu' ? t.data : await t.getData();
}

/** A runtime tensor's elements copied into a new Float32Array (from the CPU or the GPU, from float32 or float64). */
export async function hostFloat32(t: Tensor): Promise<Float32Array> {
  return Float32Array.from((await hostData(t)) as Float32Array);
}

/** A runtime tensor copied to the host as TensorData of `dtype` (a checkpoint's tensor). */
export async function toTensorData(t: Tensor, dtype: FloatDType = t.type as FloatDType): Promise<TensorData> {
  return tensorData(dtype, [...t.dims], ((await hostData(t)) as FloatArray).slice());
}

/** The mean of a float output's elements (a per-step metric: one value, or one per fused step). */
export function meanOf(t: Tensor): number {
  const v = t.data as FloatArray;
  let s = 0;
  for (const e of v) s += e;
  return s / v.length;
}

/** A runtime tensor as a TensorData over its CPU data (no copy). */
export function fromOrtTensor(t: Tensor): TensorData {
  const dtype = t.type as DType;
  return { dtype, shape: [...t.dims], data: t.data as Float32Array };
}

/** A TensorData as a runtime tensor of its own dtype (no copy). */
export function toOrtTensor(ort: OrtModule, t: TensorData): Tensor {
  return fromTensorData(ort, t);
}

import type { InferenceSession, Tensor, TensorConstructor } from 'onnxruntime-common';
import type { DType } from '../ir/dtype.js';
import type { TensorData } from '../ir/tensor.js';

/**
 * What core needs from an ONNX Runtime package: onnxruntime-node and onnxruntime-web both satisfy it
 * (`import * as ort from 'onnxruntime-node'`), so core's wrappers run on either.
 */
export interface OrtModule {
  InferenceSession: { create(buffer: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: TensorConstructor;
}

/** Makes a session from model bytes; node and web supply one with their providers and options. */
export type SessionFactory = (model: Uint8Array, name: string) => Promise<InferenceSession>;

export function toOrtTensor(ort: OrtModule, t: TensorData): Tensor {
  if (t.dtype === 'float16' || t.dtype === 'string') throw new Error(`tensors of dtype ${t.dtype} are not supported here`);
  return new ort.Tensor(t.dtype, t.data as Float32Array, [...t.shape]);
}

export function fromOrtTensor(t: Tensor): TensorData {
  const dtype = t.type as DType;
  return { dtype, shape: [...t.dims], data: t.data as Float32Array };
}

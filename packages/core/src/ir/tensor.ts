import { type DType, type TypedArray, typedArrayFor } from './dtype.js';
import { formatShape, sizeOf } from './shape.js';

/** A host-side tensor: dtype, static shape, and its elements in row-major order. */
export interface TensorData {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TypedArray;
}

export function tensorData(dtype: DType, shape: readonly number[], data?: ArrayLike<number> | ArrayLike<bigint> | TypedArray): TensorData {
  const n = sizeOf(shape) ?? 0;
  let arr: TypedArray;
  if (data === undefined) arr = typedArrayFor(dtype, n);
  else if (isTypedOf(dtype, data)) arr = data as TypedArray;
  else {
    arr = typedArrayFor(dtype, n);
    if (dtype === 'int64') {
      const a = arr as BigInt64Array;
      for (let i = 0; i < data.length; i++) a[i] = BigInt(data[i] as number | bigint);
    } else {
      const a = arr as Float64Array;
      for (let i = 0; i < data.length; i++) a[i] = Number(data[i]);
    }
  }
  if (arr.length !== n) {
    throw new Error(`tensor data has ${arr.length} elements but shape ${formatShape(shape)} needs ${n}`);
  }
  return { dtype, shape: [...shape], data: arr };
}

function isTypedOf(dtype: DType, data: unknown): boolean {
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array;
    case 'float64':
      return data instanceof Float64Array;
    case 'int64':
      return data instanceof BigInt64Array;
    case 'int32':
      return data instanceof Int32Array;
    case 'int8':
      return data instanceof Int8Array;
    case 'uint8':
    case 'bool':
      return data instanceof Uint8Array;
    case 'float16':
      return data instanceof Uint16Array;
    default:
      return false;
  }
}

/** Reads element i as a JS number (int64 included; exact below 2^53). */
export function elementAt(t: TensorData, i: number): number {
  return Number(t.data[i]);
}

export function toNumbers(t: TensorData): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

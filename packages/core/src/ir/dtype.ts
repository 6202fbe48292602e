/** Element types the builder knows, spelled as onnxruntime-common spells them. */
export type DType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool' | 'string';

export type TypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array | Uint16Array;

/** ONNX TensorProto.DataType codes. */
export const ONNX_DTYPE: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
};

const FROM_ONNX = new Map<number, DType>(Object.entries(ONNX_DTYPE).map(([k, v]) => [v, k as DType]));

export function dtypeFromOnnx(code: number): DType {
  const dt = FROM_ONNX.get(code);
  if (!dt) throw new Error(`unsupported ONNX element type ${code} (supported: ${[...FROM_ONNX.keys()].join(', ')})`);
  return dt;
}

export const BYTES_PER_ELEMENT: Record<DType, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  int64: 8,
  int32: 4,
  int8: 1,
  uint8: 1,
  bool: 1,
  string: 0,
};

export function isFloat(dt: DType): boolean {
  return dt === 'float32' || dt === 'float64' || dt === 'float16';
}

export function typedArrayFor(dt: DType, n: number): TypedArray {
  switch (dt) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'float16':
      return new Uint16Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(n);
    default:
      throw new Error(`no typed array for dtype ${dt}`);
  }
}

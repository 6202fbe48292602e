/**
 * IDX files, the format MNIST ships in: bytes 0x00 0x00, a type code, the number of dimensions, then each dimension
 * as a big-endian u32, then the data in row-major order, big-endian. Files may be gzipped (detected by content).
 *
 * @example
 * const images = readIdx('train-images-idx3-ubyte.gz'); // { dtype: 'uint8', shape: [60000, 28, 28], data }
 */
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { IdxError } from './errors.js';
import { FROM_CODE, type IdxDType, product, TYPE_CODES } from './idx-header.js';
import { copyBytes, readDataBytes } from './read-bytes.js';

export { idxByteLength } from './idx-header.js';
export type { IdxDType };
export { IdxError };

export type IdxTensor =
  | { dtype: 'uint8'; shape: number[]; data: Uint8Array }
  | { dtype: 'int8'; shape: number[]; data: Int8Array }
  | { dtype: 'int16'; shape: number[]; data: Int16Array }
  | { dtype: 'int32'; shape: number[]; data: Int32Array }
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'float64'; shape: number[]; data: Float64Array };

const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;

/** Parse IDX bytes (already gunzipped); `source` names the file in errors. */
export function parseIdx(bytes: Uint8Array, source: string): IdxTensor {
  if (bytes.length < 4) {
    throw new IdxError(`${source}: file is ${bytes.length} bytes, too short for the 4-byte IDX magic; expected an IDX file`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxError(`${source}: wrong magic ${hex(bytes[0])} ${hex(bytes[1])}; an IDX file begins with 0x00 0x00 <type> <ndims>`);
  }
  const dtype = FROM_CODE.get(bytes[2]);
  if (dtype === undefined) {
    const known = [...FROM_CODE].map(([c, d]) => `${hex(c)} (${d})`).join(', ');
    throw new IdxError(`${source}: unknown IDX type code ${hex(bytes[2])}; expected one of ${known}`);
  }
  const ndims = bytes[3];
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new IdxError(`${source}: truncated IDX header: expected ${headerBytes} bytes for ${ndims} dimensions, got ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < ndims; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const { itemSize } = TYPE_CODES[dtype];
  const n = product(shape);
  const expected = headerBytes + n * itemSize;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'corrupt (trailing bytes)';
    throw new IdxError(
      `${source}: IDX file is ${what}: shape [${shape.join(', ')}] of ${dtype} needs ${expected} bytes, got ${bytes.length}`,
    );
  }
  // Big-endian to host order, element by element, into fresh (aligned) arrays.
  switch (dtype) {
    case 'uint8':
      return { dtype, shape, data: copyBytes(bytes, headerBytes) };
    case 'int8':
      return { dtype, shape, data: new Int8Array(copyBytes(bytes, headerBytes).buffer) };
    case 'int16': {
      const data = new Int16Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getInt16(headerBytes + 2 * i, false);
      return { dtype, shape, data };
    }
    case 'int32': {
      const data = new Int32Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getInt32(headerBytes + 4 * i, false);
      return { dtype, shape, data };
    }
    case 'float32': {
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getFloat32(headerBytes + 4 * i, false);
      return { dtype, shape, data };
    }
    case 'float64': {
      const data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getFloat64(headerBytes + 8 * i, false);
      return { dtype, shape, data };
    }
  }
}

/** Read an IDX file, plain or gzipped (detected by the gzip magic, whatever the extension). */
export function readIdx(path: string): IdxTensor {
  return parseIdx(readDataBytes(path, IdxError), path);
}

/** Serialize to IDX bytes (uncompressed). */
export function encodeIdx(t: IdxTensor): Uint8Array {
  const { code, itemSize } = TYPE_CODES[t.dtype];
  if (t.shape.length > 255) throw new Error(`IDX supports at most 255 dimensions, got ${t.shape.length}`);
  for (const d of t.shape) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) {
      throw new Error(`IDX dimension ${d} in shape [${t.shape.join(', ')}] is not an unsigned 32-bit integer`);
    }
  }
  const n = product(t.shape);
  if (t.data.length !== n) {
    throw new Error(`IDX shape [${t.shape.join(', ')}] has ${n} elements but the data has ${t.data.length}`);
  }
  const headerBytes = 4 + 4 * t.shape.length;
  const out = new Uint8Array(headerBytes + n * itemSize);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = t.shape.length;
  t.shape.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  switch (t.dtype) {
    case 'uint8':
      out.set(t.data, headerBytes);
      break;
    case 'int8':
      for (let i = 0; i < n; i++) view.setInt8(headerBytes + i, t.data[i]);
      break;
    case 'int16':
      for (let i = 0; i < n; i++) view.setInt16(headerBytes + 2 * i, t.data[i], false);
      break;
    case 'int32':
      for (let i = 0; i < n; i++) view.setInt32(headerBytes + 4 * i, t.data[i], false);
      break;
    case 'float32':
      for (let i = 0; i < n; i++) view.setFloat32(headerBytes + 4 * i, t.data[i], false);
      break;
    case 'float64':
      for (let i = 0; i < n; i++) view.setFloat64(headerBytes + 8 * i, t.data[i], false);
      break;
  }
  return out;
}

/** Write an IDX file; gzipped when `gzip` is true (default: when the path ends in `.gz`). */
export function writeIdx(path: string, t: IdxTensor, options: { gzip?: boolean } = {}): void {
  const bytes = encodeIdx(t);
  const gzip = options.gzip ?? path.endsWith('.gz');
  writeFileSync(path, gzip ? gzipSync(bytes) : bytes);
}

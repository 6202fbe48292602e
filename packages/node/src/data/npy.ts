/**
 * NumPy's .npy format, versions 1.0, 2.0 and 3.0 (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 * the magic "\x93NUMPY", a major and minor version byte, the header length (u16 LE for 1.x, u32 LE for 2.x/3.x),
 * a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces and ending
 * in '\n' so the data starts at a multiple of 64, then the raw data.
 *
 * @example
 * writeNpy('x.npy', { dtype: 'float32', shape: [2, 3], data: new Float32Array(6) });
 * const { shape, data } = readNpy('x.npy');
 */
import { writeFileSync } from 'node:fs';
import { NpyError } from './errors.js';
import { MAGIC, type NpyDType, parseNpyHeader, product } from './npy-header.js';
import { copyBytes, readDataBytes } from './read-bytes.js';

export { NPY_MAX_HEADER_BYTES, npyByteLength } from './npy-header.js';
export type { NpyDType };
export { NpyError };

export type NpyTensor =
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'float64'; shape: number[]; data: Float64Array }
  | { dtype: 'int32'; shape: number[]; data: Int32Array }
  | { dtype: 'int64'; shape: number[]; data: BigInt64Array }
  | { dtype: 'uint8'; shape: number[]; data: Uint8Array }
  | { dtype: 'bool'; shape: number[]; data: Uint8Array };

const DESCR_OF: Readonly<Record<NpyDType, string>> = {
  float32: '<f4',
  float64: '<f8',
  int32: '<i4',
  int64: '<i8',
  uint8: '|u1',
  bool: '|b1',
};

/** Parse .npy bytes; `source` names the file in errors. */
export function parseNpy(bytes: Uint8Array, source: string): NpyTensor {
  const { descr, info, little, shape, n, dataStart } = parseNpyHeader(bytes, source);
  const expected = dataStart + n * info.itemSize;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'corrupt (trailing bytes)';
    throw new NpyError(
      `${source}: .npy file is ${what}: shape [${shape.join(', ')}] of '${descr}' needs ${expected} bytes, got ${bytes.length}`,
    );
  }
  const raw = copyBytes(bytes, dataStart); // fresh buffer at offset 0: aligned
  const dv = new DataView(raw.buffer);
  switch (info.dtype) {
    case 'uint8':
      return { dtype: 'uint8', shape, data: raw };
    case 'bool':
      // numpy writes 0/1; treat any nonzero byte as True, as numpy does when viewing bytes as bool.
      for (let k = 0; k < n; k++) raw[k] = raw[k] === 0 ? 0 : 1;
      return { dtype: 'bool', shape, data: raw };
    case 'float32': {
      const data = new Float32Array(n);
      for (let k = 0; k < n; k++) data[k] = dv.getFloat32(4 * k, little);
      return { dtype: 'float32', shape, data };
    }
    case 'float64': {
      const data = new Float64Array(n);
      for (let k = 0; k < n; k++) data[k] = dv.getFloat64(8 * k, little);
      return { dtype: 'float64', shape, data };
    }
    case 'int32': {
      const data = new Int32Array(n);
      for (let k = 0; k < n; k++) data[k] = dv.getInt32(4 * k, little);
      return { dtype: 'int32', shape, data };
    }
    case 'int64': {
      const data = new BigInt64Array(n);
      for (let k = 0; k < n; k++) data[k] = dv.getBigInt64(8 * k, little);
      return { dtype: 'int64', shape, data };
    }
  }
}

/** Read a .npy file (gzipped .npy is accepted too, detected by content). */
export function readNpy(path: string): NpyTensor {
  return parseNpy(readDataBytes(path, NpyError), path);
}

/** Serialize to .npy bytes, laid out exactly as numpy's `np.save` does (format 1.0, or 2.0 for huge headers). */
export function encodeNpy(t: NpyTensor): Uint8Array {
  for (const d of t.shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`.npy shape [${t.shape.join(', ')}] has an invalid dimension ${d}`);
  }
  const n = product(t.shape);
  if (t.data.length !== n) {
    throw new Error(`.npy shape [${t.shape.join(', ')}] has ${n} elements but the data has ${t.data.length}`);
  }
  const shapeText = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let dict = `{'descr': '${DESCR_OF[t.dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // numpy leaves room for the first axis to grow to 21 digits, so files can be appended to in place.
  if (t.shape.length > 0) dict += ' '.repeat(21 - String(t.shape[0]).length);
  let version = 1;
  let preamble = 10;
  if (dict.length + 1 + preamble > 65535) {
    version = 2;
    preamble = 12;
  }
  const total = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  const header = `${dict}${' '.repeat(total - preamble - dict.length - 1)}\n`;
  const itemSize = t.dtype === 'uint8' || t.dtype === 'bool' ? 1 : t.data.BYTES_PER_ELEMENT;
  const out = new Uint8Array(total + n * itemSize);
  out.set(MAGIC, 0);
  out[6] = version;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let k = 0; k < header.length; k++) out[preamble + k] = header.charCodeAt(k); // ASCII
  switch (t.dtype) {
    case 'uint8':
      out.set(t.data, total);
      break;
    case 'bool':
      for (let k = 0; k < n; k++) out[total + k] = t.data[k] === 0 ? 0 : 1;
      break;
    case 'float32':
      for (let k = 0; k < n; k++) view.setFloat32(total + 4 * k, t.data[k], true);
      break;
    case 'float64':
      for (let k = 0; k < n; k++) view.setFloat64(total + 8 * k, t.data[k], true);
      break;
    case 'int32':
      for (let k = 0; k < n; k++) view.setInt32(total + 4 * k, t.data[k], true);
      break;
    case 'int64':
      for (let k = 0; k < n; k++) view.setBigInt64(total + 8 * k, t.data[k], true);
      break;
  }
  return out;
}

/** Write a .npy file that `numpy.load` reads as is. */
export function writeNpy(path: string, t: NpyTensor): void {
  writeFileSync(path, encodeNpy(t));
}

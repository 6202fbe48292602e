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
import { copyBytes, NpyError, readDataBytes } from './read-bytes.js';

export { NpyError };

export type NpyTensor =
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'float64'; shape: number[]; data: Float64Array }
  | { dtype: 'int32'; shape: number[]; data: Int32Array }
  | { dtype: 'int64'; shape: number[]; data: BigInt64Array }
  | { dtype: 'uint8'; shape: number[]; data: Uint8Array }
  | { dtype: 'bool'; shape: number[]; data: Uint8Array };

export type NpyDType = NpyTensor['dtype'];

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** descr type code (after the byte-order character) → dtype and item size. */
const DESCR: ReadonlyMap<string, { dtype: NpyDType; itemSize: number }> = new Map([
  ['f4', { dtype: 'float32', itemSize: 4 }],
  ['f8', { dtype: 'float64', itemSize: 8 }],
  ['i4', { dtype: 'int32', itemSize: 4 }],
  ['i8', { dtype: 'int64', itemSize: 8 }],
  ['u1', { dtype: 'uint8', itemSize: 1 }],
  ['b1', { dtype: 'bool', itemSize: 1 }],
]);

const DESCR_OF: Readonly<Record<NpyDType, string>> = {
  float32: '<f4',
  float64: '<f8',
  int32: '<i4',
  int64: '<i8',
  uint8: '|u1',
  bool: '|b1',
};

type PyValue = string | number | boolean | null | PyValue[] | Map<string, PyValue>;

/**
 * Largest header this reader accepts: numpy's own reader refuses more by default (`max_header_size=10000` in
 * numpy.lib.format since 1.24), and np.save writes 128 bytes for any ordinary array.
 */
export const NPY_MAX_HEADER_BYTES = 10_000;
/** Nesting of the header literal: a dict of tuples is 2 deep, a structured dtype's descr a few more; 32 is plenty. */
const MAX_LITERAL_DEPTH = 32;

/**
 * Parse the subset of Python literal syntax numpy writes in .npy headers: dicts, tuples, lists, strings,
 * integers (with Python 2's optional L suffix), True, False, None.
 */
function parsePyLiteral(text: string): PyValue {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  let depth = 0;
  const quoted = JSON.stringify(text.trim());
  const err = (what: string): Error =>
    new Error(`${what} at character ${i} of header ${quoted.length > 200 ? `${quoted.slice(0, 200)}…` : quoted}`);
  const expectChar = (c: string): void => {
    ws();
    if (text[i] !== c) throw err(`expected '${c}'`);
    i++;
  };
  const seq = (close: string, item: () => void): void => {
    for (;;) {
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      item();
      ws();
      if (text[i] === ',') i++;
      else if (text[i] !== close) throw err(`expected ',' or '${close}'`);
    }
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if ((c === '{' || c === '(' || c === '[') && ++depth > MAX_LITERAL_DEPTH) throw err(`nesting deeper than ${MAX_LITERAL_DEPTH} levels`);
    if (c === '{') {
      i++;
      const m = new Map<string, PyValue>();
      seq('}', () => {
        const k = value();
        if (typeof k !== 'string') throw err('dict keys must be strings');
        expectChar(':');
        m.set(k, value());
      });
      depth--;
      return m;
    }
    if (c === '(' || c === '[') {
      i++;
      const items: PyValue[] = [];
      seq(c === '(' ? ')' : ']', () => items.push(value()));
      depth--;
      return items;
    }
    if (c === "'" || c === '"') {
      i++;
      let s = '';
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        s += text[i++];
      }
      if (text[i] !== c) throw err('unterminated string');
      i++;
      return s;
    }
    const word = /^(True|False|None|-?\d+L?)/.exec(text.slice(i));
    if (word === null) throw err('unexpected token');
    i += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    return Number(word[0].replace('L', ''));
  };
  const v = value();
  ws();
  if (i !== text.length) throw err('unexpected trailing text');
  return v;
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

interface NpyHeader {
  descr: string;
  info: { dtype: NpyDType; itemSize: number };
  little: boolean;
  shape: number[];
  /** Elements (the product of the shape). */
  n: number;
  dataStart: number;
}

/** Parses the preamble and header dict; `bytes` needs to hold the header only, not the data. */
function parseNpyHeader(bytes: Uint8Array, source: string): NpyHeader {
  if (bytes.length < 10 || !MAGIC.every((b, k) => bytes[k] === b)) {
    throw new NpyError(`${source}: wrong magic; a .npy file begins with "\\x93NUMPY" (is this really a NumPy .npy file?)`);
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerStart = 10;
    headerLen = view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyError(`${source}: truncated .npy preamble: expected 12 bytes, got ${bytes.length}`);
    headerStart = 12;
    headerLen = view.getUint32(8, true);
  } else {
    throw new NpyError(`${source}: unsupported .npy format version ${major}.${bytes[7]}; supported are 1.x, 2.x, 3.x`);
  }
  if (headerLen > NPY_MAX_HEADER_BYTES) {
    throw new NpyError(
      `${source}: .npy header is ${headerLen} bytes, more than the ${NPY_MAX_HEADER_BYTES} numpy itself reads; the file is corrupt`,
    );
  }
  const dataStart = headerStart + headerLen;
  if (bytes.length < dataStart) {
    throw new NpyError(`${source}: truncated .npy header: expected ${dataStart} bytes, got ${bytes.length}`);
  }
  // Versions 1 and 2 store the header in latin1, version 3 in UTF-8.
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  let header: PyValue;
  try {
    header = parsePyLiteral(text);
  } catch (e) {
    throw new NpyError(`${source}: malformed .npy header: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!(header instanceof Map)) throw new NpyError(`${source}: .npy header is not a dict: ${JSON.stringify(text.trim())}`);

  const descr = header.get('descr');
  const known = [...DESCR.keys()].join(', ');
  if (typeof descr !== 'string') {
    throw new NpyError(`${source}: unsupported dtype descr ${JSON.stringify(descr)} (structured or missing); supported are ${known}`);
  }
  const order = descr[0];
  const info = DESCR.get(descr.slice(1));
  if (info === undefined || !'<>|='.includes(order)) {
    throw new NpyError(`${source}: unsupported dtype descr '${descr}'; supported are ${known} (any byte order)`);
  }
  const fortran = header.get('fortran_order');
  if (fortran === true) {
    throw new NpyError(
      `${source}: fortran_order=True is not supported; save the array in C order (np.save(path, np.ascontiguousarray(a)))`,
    );
  }
  if (fortran !== false) throw new NpyError(`${source}: .npy header has no valid fortran_order (got ${String(fortran)})`);
  const shapeValue = header.get('shape');
  if (!Array.isArray(shapeValue) || !shapeValue.every((d): d is number => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new NpyError(`${source}: .npy header has an invalid shape ${JSON.stringify(shapeValue)}`);
  }
  const shape = shapeValue as number[];

  // '=' is native, which for every platform numpy writes from in practice is little
  return { descr, info, little: order !== '>', shape, n: product(shape), dataStart };
}

/**
 * The file size a .npy header implies (header plus data), or undefined when `head` does not begin with a complete,
 * valid .npy header. Lets a gzipped file be decompressed no further than that.
 */
export function npyByteLength(head: Uint8Array): number | undefined {
  try {
    const h = parseNpyHeader(head, '');
    return h.dataStart + h.n * h.info.itemSize;
  } catch {
    return undefined;
  }
}

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

/**
 * The .npy header, read before any data: the preamble (magic, version, header length) and the Python-literal header
 * dict, and the file size they imply. Below both npy.ts (the codec) and read-bytes.ts (which bounds a gzipped file's
 * decompression by that size), so neither imports the other.
 */
import { NpyError } from './errors.js';

export type NpyDType = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'bool';

/** Every .npy file's first six bytes. */
export const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** descr type code (after the byte-order character) → dtype and item size. */
const DESCR: ReadonlyMap<string, { dtype: NpyDType; itemSize: number }> = new Map([
  ['f4', { dtype: 'float32', itemSize: 4 }],
  ['f8', { dtype: 'float64', itemSize: 8 }],
  ['i4', { dtype: 'int32', itemSize: 4 }],
  ['i8', { dtype: 'int64', itemSize: 8 }],
  ['u1', { dtype: 'uint8', itemSize: 1 }],
  ['b1', { dtype: 'bool', itemSize: 1 }],
]);

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

/** The number of elements of an array of this shape. */
export function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export interface NpyHeader {
  descr: string;
  info: { dtype: NpyDType; itemSize: number };
  little: boolean;
  shape: number[];
  /** Elements (the product of the shape). */
  n: number;
  dataStart: number;
}

/** Parses the preamble and header dict; `bytes` needs to hold the header only, not the data. */
export function parseNpyHeader(bytes: Uint8Array, source: string): NpyHeader {
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

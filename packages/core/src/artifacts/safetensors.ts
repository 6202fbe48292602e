/**
 * The safetensors checkpoint format (https://github.com/huggingface/safetensors), written and read in pure
 * TypeScript so it works in browsers and Node alike.
 *
 * Layout: an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON
 * `{"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {"k": "v"}}`
 * (padded here with spaces so the data starts at a multiple of 8), then the byte buffer; offsets are relative to
 * the buffer's start, tensors are row-major and little-endian.
 *
 * @example
 * const bytes = encodeSafetensors({ 'encoder.fc1.weight': { dtype: 'float32', shape: [2, 2], data: w } }, { step: '10' });
 * const { tensors, metadata } = decodeSafetensors(bytes, 'run/checkpoint.safetensors');
 */

import { FormatError } from '../errors.js';
import { parseUntrustedJson } from './json.js';

/** A safetensors file that cannot be read; the message names the file and, where one is at fault, the tensor. */
export class SafetensorsError extends FormatError {
  override name = 'SafetensorsError';
}

export type SafetensorsDType = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';

/** One tensor; `bool` is stored one byte per element (0 or 1) in a Uint8Array. */
export type SafetensorsTensor =
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'float64'; shape: number[]; data: Float64Array }
  | { dtype: 'int64'; shape: number[]; data: BigInt64Array }
  | { dtype: 'int32'; shape: number[]; data: Int32Array }
  | { dtype: 'uint8'; shape: number[]; data: Uint8Array }
  | { dtype: 'bool'; shape: number[]; data: Uint8Array };

export interface SafetensorsFile {
  tensors: Record<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

interface DTypeInfo {
  readonly tag: 'F32' | 'F64' | 'I64' | 'I32' | 'U8' | 'BOOL';
  readonly itemSize: number;
}

const DTYPES: Readonly<Record<SafetensorsDType, DTypeInfo>> = {
  float32: { tag: 'F32', itemSize: 4 },
  float64: { tag: 'F64', itemSize: 8 },
  int64: { tag: 'I64', itemSize: 8 },
  int32: { tag: 'I32', itemSize: 4 },
  uint8: { tag: 'U8', itemSize: 1 },
  bool: { tag: 'BOOL', itemSize: 1 },
};

const FROM_TAG: ReadonlyMap<string, SafetensorsDType> = new Map((Object.keys(DTYPES) as SafetensorsDType[]).map((d) => [DTYPES[d].tag, d]));

const METADATA_KEY = '__metadata__';
/** Upper bound on the JSON header, as in the reference implementation: guards against absurd allocations. */
const MAX_HEADER_BYTES = 100_000_000;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverse the bytes of each `itemSize`-byte element in place (only needed on big-endian hosts). */
function swapBytes(bytes: Uint8Array, itemSize: number): void {
  if (itemSize === 1) return;
  for (let i = 0; i < bytes.length; i += itemSize) {
    for (let a = i, b = i + itemSize - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

function expectedArrayName(dtype: SafetensorsDType): string {
  switch (dtype) {
    case 'float32':
      return 'Float32Array';
    case 'float64':
      return 'Float64Array';
    case 'int64':
      return 'BigInt64Array';
    case 'int32':
      return 'Int32Array';
    case 'uint8':
    case 'bool':
      return 'Uint8Array';
  }
}

function dataMatchesDType(t: SafetensorsTensor): boolean {
  switch (t.dtype) {
    case 'float32':
      return t.data instanceof Float32Array;
    case 'float64':
      return t.data instanceof Float64Array;
    case 'int64':
      return t.data instanceof BigInt64Array;
    case 'int32':
      return t.data instanceof Int32Array;
    case 'uint8':
    case 'bool':
      return t.data instanceof Uint8Array;
  }
}

function isValidShape(shape: unknown): shape is number[] {
  return Array.isArray(shape) && shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0);
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Code-unit order, so the output does not depend on the host's locale. */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Serialize tensors (stored in name order, offsets ascending, no gaps) and optional string metadata.
 * Throws if a tensor's data type or length disagrees with its dtype and shape.
 */
export function encodeSafetensors(tensors: Record<string, SafetensorsTensor>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort(byName);
  // Null-prototype objects, so a key such as "__proto__" is stored as data rather than changing the prototype.
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (metadata !== undefined) {
    const meta: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const k of Object.keys(metadata).sort(byName)) {
      const v: unknown = metadata[k];
      if (typeof v !== 'string') {
        throw new Error(`safetensors metadata value for key "${k}" must be a string, got ${typeof v}`);
      }
      meta[k] = v;
    }
    header[METADATA_KEY] = meta;
  }
  let offset = 0;
  for (const name of names) {
    if (name === METADATA_KEY) throw new Error(`"${METADATA_KEY}" is reserved and cannot name a tensor`);
    const t = tensors[name];
    const info: DTypeInfo | undefined = DTYPES[t.dtype];
    if (info === undefined) {
      throw new Error(`tensor "${name}" has unsupported dtype "${String(t.dtype)}"; expected one of ${Object.keys(DTYPES).join(', ')}`);
    }
    if (!isValidShape(t.shape)) {
      throw new Error(`tensor "${name}" has invalid shape ${JSON.stringify(t.shape)}; expected non-negative integers`);
    }
    if (!dataMatchesDType(t)) {
      throw new Error(`tensor "${name}" has dtype ${t.dtype} but its data is not a ${expectedArrayName(t.dtype)}`);
    }
    const n = elementCount(t.shape);
    if (t.data.length !== n) {
      throw new Error(`tensor "${name}" has shape [${t.shape.join(', ')}] (${n} elements) but ${t.data.length} data elements`);
    }
    if (t.dtype === 'bool') {
      const bad = t.data.findIndex((v) => v > 1);
      if (bad >= 0) throw new Error(`bool tensor "${name}" has value ${t.data[bad]} at index ${bad}; expected 0 or 1`);
    }
    const span = n * info.itemSize;
    header[name] = { dtype: info.tag, shape: [...t.shape], data_offsets: [offset, offset + span] };
    offset += span;
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 8) * 8; // spaces pad the JSON so the data starts 8-byte aligned
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);

  let pos = 8 + headerLen;
  for (const name of names) {
    const { data, dtype } = tensors[name];
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    out.set(raw, pos);
    if (!LITTLE_ENDIAN_HOST) swapBytes(out.subarray(pos, pos + raw.length), DTYPES[dtype].itemSize);
    pos += raw.length;
  }
  return out;
}

/**
 * Copy bytes into a fresh ArrayBuffer at offset 0, so typed arrays over it are aligned. Not `bytes.slice()`: on a
 * Node Buffer, slice() returns a view into the same (possibly pooled, unaligned) memory.
 */
function copyBytes(bytes: Uint8Array, begin: number, end: number): Uint8Array {
  const out = new Uint8Array(end - begin);
  out.set(bytes.subarray(begin, end));
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Entry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Parse and validate a safetensors file. The input is treated as untrusted: every size, offset and dtype is
 * checked, tensors must tile the byte buffer exactly (no gaps, no overlaps), and every error names `source` and the
 * tensor. Returned arrays are fresh copies, correctly aligned, never views into `bytes`.
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'checkpoint'): SafetensorsFile {
  const fail: (msg: string) => never = (msg) => {
    throw new SafetensorsError(`${source}: ${msg}`);
  };
  // Values quoted in messages are cut short: a hostile header can hold a shape of a million numbers.
  const brief = (v: unknown): string => {
    const t = JSON.stringify(v) ?? String(v);
    return t.length > 100 ? `${t.slice(0, 100)}…` : t;
  };
  if (bytes.length < 8) {
    fail(`file is ${bytes.length} bytes, too short for the 8-byte header length; the file is truncated or not safetensors`);
  }
  const headerLen64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLen64 > BigInt(bytes.length - 8)) {
    fail(
      `header length ${headerLen64} exceeds the ${bytes.length - 8} bytes after the length field; the file is truncated or not safetensors`,
    );
  }
  const headerLen = Number(headerLen64);
  if (headerLen > MAX_HEADER_BYTES) fail(`header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (headerLen < 2) fail(`header length ${headerLen} is too small for a JSON object`);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    fail('header is not valid UTF-8');
  }
  // Nesting and repeated tensor names are refused before parsing (JSON.parse keeps only the last of two "w" keys).
  const parsed = parseUntrustedJson(text, (why) => fail(`header: ${why}`));
  if (!isPlainObject(parsed)) fail('header must be a JSON object');

  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (name === METADATA_KEY) {
      if (!isPlainObject(value)) fail(`"${METADATA_KEY}" must be an object of strings`);
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`"${METADATA_KEY}" value for key ${brief(k)} must be a string, got ${brief(v)}`);
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const where = `tensor ${brief(name)}`;
    if (!isPlainObject(value)) fail(`${where}: header entry must be an object`);
    const tag = value.dtype;
    const dtype = typeof tag === 'string' ? FROM_TAG.get(tag) : undefined;
    if (dtype === undefined) {
      fail(`${where}: unsupported dtype ${brief(tag)}; supported are ${[...FROM_TAG.keys()].join(', ')}`);
    }
    const shape = value.shape;
    if (!isValidShape(shape)) fail(`${where}: invalid shape ${brief(shape)}; expected an array of non-negative integers`);
    const offsets = value.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
    ) {
      fail(`${where}: invalid data_offsets ${brief(offsets)}; expected [begin, end] non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    const expected = elementCount(shape) * DTYPES[dtype].itemSize;
    if (end - begin !== expected) {
      fail(`${where}: shape ${brief(shape)} of ${tag} needs ${expected} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
    }
    entries.push({ name, dtype, shape, begin, end });
  }

  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  for (const e of entries) {
    if (e.end > dataLen) {
      fail(`tensor ${brief(e.name)}: data_offsets [${e.begin}, ${e.end}] run past the ${dataLen}-byte data buffer; the file is truncated`);
    }
  }
  // The tensors must tile the buffer exactly: sorted by offset, each begins where the previous ended.
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let prev: Entry | undefined;
  for (const e of byOffset) {
    if (e.begin < cursor) {
      fail(
        `tensor ${brief(e.name)}: data_offsets [${e.begin}, ${e.end}] overlap tensor ${brief(prev?.name)} at [${prev?.begin}, ${prev?.end}]`,
      );
    }
    if (e.begin > cursor) {
      fail(`tensor ${brief(e.name)}: data_offsets begin at ${e.begin} but the previous tensor ends at ${cursor}; the buffer has a gap`);
    }
    cursor = e.end;
    prev = e;
  }
  if (cursor !== dataLen) {
    fail(`tensors cover ${cursor} bytes but the data buffer holds ${dataLen}; the file has trailing bytes or is corrupt`);
  }

  const tensors: [string, SafetensorsTensor][] = [];
  for (const e of entries.sort((a, b) => byName(a.name, b.name))) {
    const raw = copyBytes(bytes, dataStart + e.begin, dataStart + e.end);
    if (!LITTLE_ENDIAN_HOST) swapBytes(raw, DTYPES[e.dtype].itemSize);
    const n = elementCount(e.shape);
    switch (e.dtype) {
      case 'float32':
        tensors.push([e.name, { dtype: 'float32', shape: e.shape, data: new Float32Array(raw.buffer, 0, n) }]);
        break;
      case 'float64':
        tensors.push([e.name, { dtype: 'float64', shape: e.shape, data: new Float64Array(raw.buffer, 0, n) }]);
        break;
      case 'int64':
        tensors.push([e.name, { dtype: 'int64', shape: e.shape, data: new BigInt64Array(raw.buffer, 0, n) }]);
        break;
      case 'int32':
        tensors.push([e.name, { dtype: 'int32', shape: e.shape, data: new Int32Array(raw.buffer, 0, n) }]);
        break;
      case 'uint8':
        tensors.push([e.name, { dtype: 'uint8', shape: e.shape, data: raw }]);
        break;
      case 'bool': {
        const bad = raw.findIndex((v) => v > 1);
        if (bad >= 0) fail(`tensor ${brief(e.name)}: BOOL element ${bad} has byte value ${raw[bad]}; expected 0 or 1`);
        tensors.push([e.name, { dtype: 'bool', shape: e.shape, data: raw }]);
        break;
      }
    }
  }
  // fromEntries defines own properties, so a tensor named "__proto__" cannot alter the result's prototype.
  return { tensors: Object.fromEntries(tensors), metadata };
}

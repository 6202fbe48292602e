import { constants as bufferConstants } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import { type DataErrorClass, DataFileError } from './errors.js';
import { idxByteLength } from './idx-header.js';
import { npyByteLength } from './npy-header.js';

/** True when `bytes` starts with the gzip magic 0x1f 0x8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function errorCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const code = (e as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** Decompressed bytes enough for any header: IDX's is at most 4 + 255·4 bytes, .npy's at most 12 + 10,000 (npy.ts). */
const HEAD_BYTES = 16 * 1024;
/** Deflate's largest expansion (zlib's technical notes: a 258-byte match in about 2 bits), so a cap on what can be real. */
const MAX_DEFLATE_RATIO = 1032;

/**
 * The first HEAD_BYTES of the decompressed stream (fewer when it is shorter), inflating only a prefix of the gzip
 * data: a doubling prefix, flushed as far as it goes, so a bomb is never inflated whole to read its header.
 */
function inflateHead(raw: Uint8Array): Uint8Array {
  for (let k = 4096; ; k *= 2) {
    const out = gunzipSync(raw.subarray(0, k), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    if (out.length >= HEAD_BYTES || k >= raw.length) return out.subarray(0, HEAD_BYTES);
  }
}

/**
 * Read a data file, transparently gunzipping it when it starts with the gzip magic (whatever its extension).
 * Decompression stops at the size the file's own IDX or .npy header implies, so a small gzip cannot expand to
 * gigabytes behind a header that promises a few bytes. Errors name the file and are `ErrorType`; a missing file is
 * "data file not found: PATH".
 */
export function readDataBytes(path: string, ErrorType: DataErrorClass = DataFileError): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = readFileSync(path);
  } catch (e) {
    if (errorCode(e) === 'ENOENT') throw new ErrorType(`data file not found: ${path}`);
    throw new ErrorType(`cannot read data file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isGzip(raw)) return raw;
  const corrupt = (e: unknown): never => {
    throw new ErrorType(
      `${path}: gzip data is corrupt or truncated (${e instanceof Error ? e.message : String(e)}); re-download or re-compress the file`,
      { cause: e },
    );
  };
  let head: Uint8Array;
  try {
    head = inflateHead(raw);
  } catch (e) {
    return corrupt(e);
  }
  const implied = idxByteLength(head) ?? npyByteLength(head);
  // Not IDX or .npy (or a broken header): the parser reports what is wrong from the header, which the head holds.
  const cap = implied ?? HEAD_BYTES;
  if (cap > bufferConstants.MAX_LENGTH) {
    throw new ErrorType(`${path}: its header implies ${cap} bytes of data, more than the ${bufferConstants.MAX_LENGTH} a buffer can hold`);
  }
  if (cap > raw.length * MAX_DEFLATE_RATIO) {
    throw new ErrorType(
      `${path}: its header implies ${cap} bytes of data, but ${raw.length} bytes of gzip expand to at most ${raw.length * MAX_DEFLATE_RATIO}; the file is truncated or corrupt`,
    );
  }
  try {
    return gunzipSync(raw, { maxOutputLength: cap });
  } catch (e) {
    if (errorCode(e) !== 'ERR_BUFFER_TOO_LARGE') return corrupt(e);
    if (implied === undefined) return head;
    throw new ErrorType(
      `${path}: gzip data expands to more than the ${implied} bytes its header implies (trailing data, or a decompression bomb); the file is corrupt`,
      { cause: e },
    );
  }
}

/**
 * Copy `bytes[begin, end)` into a fresh ArrayBuffer at offset 0, so typed arrays over it are aligned and own their
 * memory. Not `bytes.slice()`: on a Node Buffer, slice() returns a view into the same (often pooled) memory.
 */
export function copyBytes(bytes: Uint8Array, begin: number, end: number = bytes.length): Uint8Array {
  const out = new Uint8Array(end - begin);
  out.set(bytes.subarray(begin, end));
  return out;
}

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

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

/**
 * Read a data file, transparently gunzipping it when it starts with the gzip magic (whatever its extension).
 * Errors name the file: a missing file is "data file not found: PATH".
 */
export function readDataBytes(path: string): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = readFileSync(path);
  } catch (e) {
    if (errorCode(e) === 'ENOENT') throw new Error(`data file not found: ${path}`);
    throw new Error(`cannot read data file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isGzip(raw)) return raw;
  try {
    return gunzipSync(raw);
  } catch (e) {
    throw new Error(
      `${path}: gzip data is corrupt or truncated (${e instanceof Error ? e.message : String(e)}); re-download or re-compress the file`,
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

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SafetensorsTensor } from './safetensors.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

const SRC = 'run-7/checkpoint.safetensors';

function bytesOf(a: ArrayBufferView): number[] {
  return Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/** Build a file by hand per the spec: u64 LE header length, header bytes, data bytes. */
function handMade(header: string, data: number[] = [], pad = true): Uint8Array {
  const json = new TextEncoder().encode(header);
  const len = pad ? Math.ceil(json.length / 8) * 8 : json.length;
  const out = new Uint8Array(8 + len + data.length);
  let n = len;
  for (let i = 0; i < 8; i++) {
    out[i] = n % 256;
    n = Math.floor(n / 256);
  }
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + len);
  out.set(data, 8 + len);
  return out;
}

function headerOf(bytes: Uint8Array): { len: number; json: Record<string, unknown> } {
  const len = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len))) as Record<string, unknown>;
  return { len, json };
}

describe('safetensors round trip', () => {
  // NaN with a non-default payload (0x7fc00001) and a negative quiet NaN, to prove bits are copied, not values.
  const f32 = new Float32Array(8);
  new Uint32Array(f32.buffer).set([0x7fc00001, 0xffc00000]);
  f32.set([-0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-45, 3.4028234663852886e38, -1.5], 2);
  const f64 = new Float64Array(7);
  new BigUint64Array(f64.buffer).set([0x7ff8000000000001n]);
  f64.set([-0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5e-324, Number.MAX_VALUE, Math.PI], 1);
  const tensors: Record<string, SafetensorsTensor> = {
    'decoder.fc.weight': { dtype: 'float32', shape: [2, 4], data: f32 },
    'a.f64': { dtype: 'float64', shape: [7], data: f64 },
    step: { dtype: 'int64', shape: [3], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, -1n]) },
    'i32.values': { dtype: 'int32', shape: [1, 3], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0]) },
    bytes: { dtype: 'uint8', shape: [256], data: Uint8Array.from({ length: 256 }, (_, i) => i) },
    mask: { dtype: 'bool', shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) },
    scalar: { dtype: 'float32', shape: [], data: new Float32Array([42]) },
    empty: { dtype: 'float64', shape: [0, 3], data: new Float64Array(0) },
  };
  const metadata = { format: 'pt', 'onnxvae.step': '1200', unicode: 'σ² ≥ 0' };

  it('is bit-exact for every dtype, including NaN payloads, -0, ±Infinity and denormals', () => {
    const bytes = encodeSafetensors(tensors, metadata);
    const decoded = decodeSafetensors(bytes, SRC);
    expect(Object.keys(decoded.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const d = decoded.tensors[name];
      expect(d.dtype, name).toBe(t.dtype);
      expect(d.shape, name).toEqual(t.shape);
      expect(d.data.constructor, name).toBe(t.data.constructor);
      expect(bytesOf(d.data), name).toEqual(bytesOf(t.data));
    }
    expect(Object.is(decoded.tensors['decoder.fc.weight'].data[2], -0)).toBe(true);
    expect(decoded.metadata).toEqual(metadata);
  });

  it('writes a real file and reads it back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnxvae-safetensors-'));
    try {
      const path = join(dir, 'checkpoint.safetensors');
      writeFileSync(path, encodeSafetensors(tensors, metadata));
      // A Node Buffer straight from readFileSync: its slice() would be a view, so the decoder must copy explicitly.
      const back = decodeSafetensors(readFileSync(path), path);
      for (const [name, t] of Object.entries(tensors)) expect(bytesOf(back.tensors[name].data), name).toEqual(bytesOf(t.data));
      expect(bytesOf(back.tensors.step.data)).toEqual(bytesOf(tensors.step.data));
      expect(back.metadata['onnxvae.step']).toBe('1200');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lays tensors out in name order with ascending, gap-free offsets and an 8-byte-aligned data start', () => {
    const bytes = encodeSafetensors(tensors, metadata);
    const { len, json } = headerOf(bytes);
    expect(len % 8).toBe(0);
    const names = Object.keys(json).filter((k) => k !== '__metadata__');
    const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(names).toEqual(sorted);
    let cursor = 0;
    for (const name of names) {
      const [b, e] = (json[name] as { data_offsets: [number, number] }).data_offsets;
      expect(b).toBe(cursor);
      cursor = e;
    }
    expect(8 + len + cursor).toBe(bytes.length);
  });

  it('returns aligned copies even when the input is a view at an odd offset', () => {
    const file = encodeSafetensors({ w: { dtype: 'float64', shape: [3], data: new Float64Array([1, 2, 3]) } });
    const host = new Uint8Array(file.length + 3);
    host.set(file, 3);
    const view = host.subarray(3);
    const { tensors: t } = decodeSafetensors(view, SRC);
    const w = t.w.data as Float64Array;
    expect(Array.from(w)).toEqual([1, 2, 3]);
    expect(w.byteOffset % 8).toBe(0);
    expect(w.buffer).not.toBe(host.buffer);
    w[0] = 99; // mutating the result must not touch the input
    expect(decodeSafetensors(view, SRC).tensors.w.data[0]).toBe(1);
  });

  it('decodes a small pooled Node Buffer (non-zero byteOffset) correctly', () => {
    const file = encodeSafetensors({ w: { dtype: 'float64', shape: [2], data: new Float64Array([0.5, -4]) } });
    const pooled = Buffer.from(file); // small Buffers are carved out of a shared pool
    const { tensors: t } = decodeSafetensors(pooled, SRC);
    expect(Array.from(t.w.data as Float64Array)).toEqual([0.5, -4]);
    expect(t.w.data.buffer).not.toBe(pooled.buffer);
  });

  it('stores a tensor named "__proto__" as data without touching prototypes', () => {
    const file = handMade('{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', [7]);
    const { tensors: t } = decodeSafetensors(file, SRC);
    expect(Object.getPrototypeOf(t)).toBe(Object.prototype);
    expect(Object.hasOwn(t, '__proto__')).toBe(true);
    const again = decodeSafetensors(encodeSafetensors(t), SRC);
    expect(Object.hasOwn(again.tensors, '__proto__')).toBe(true);
  });

  it('omits __metadata__ when none is given and decodes it as {}', () => {
    const bytes = encodeSafetensors({ x: { dtype: 'uint8', shape: [1], data: new Uint8Array([5]) } });
    expect(Object.keys(headerOf(bytes).json)).toEqual(['x']);
    expect(decodeSafetensors(bytes).metadata).toEqual({});
  });
});

describe('safetensors golden bytes (constructed by hand from the spec)', () => {
  it('encodes exactly the bytes the spec prescribes', () => {
    const bytes = encodeSafetensors(
      {
        b: { dtype: 'uint8', shape: [3], data: new Uint8Array([1, 2, 3]) },
        a: { dtype: 'float32', shape: [2], data: new Float32Array([1, -2]) },
      },
      { format: 'pt' },
    );
    const header =
      '{"__metadata__":{"format":"pt"},' +
      '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
      '"b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}';
    // 1.0f = 0x3f800000 and -2.0f = 0xc0000000, little-endian.
    const expected = handMade(header, [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 1, 2, 3]);
    expect(header.length).toBe(138); // padded with 6 spaces to 144 = 18 × 8
    expect(Array.from(bytes.subarray(0, 8))).toEqual([144, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(bytes.subarray(8 + 138, 8 + 144))).toEqual([32, 32, 32, 32, 32, 32]);
    expect(Array.from(bytes)).toEqual(Array.from(expected));
  });

  it('decodes a hand-made file with an unpadded header, unsorted keys and int64/bool data', () => {
    const header =
      '{"flags":{"dtype":"BOOL","shape":[2],"data_offsets":[16,18]},' +
      '"__metadata__":{"k":"v"},' +
      '"n":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}';
    // I64 values 1 and -2 as little-endian two's complement, then two bool bytes.
    const data = [1, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 0];
    const { tensors, metadata } = decodeSafetensors(handMade(header, data, false), SRC);
    expect(metadata).toEqual({ k: 'v' });
    expect(tensors.n).toEqual({ dtype: 'int64', shape: [2], data: new BigInt64Array([1n, -2n]) });
    expect(tensors.flags).toEqual({ dtype: 'bool', shape: [2], data: new Uint8Array([1, 0]) });
    expect(Object.keys(tensors)).toEqual(['flags', 'n']);
  });
});

describe('safetensors rejects bad input with errors naming the source and the tensor', () => {
  const good = encodeSafetensors({
    alpha: { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) },
    beta: { dtype: 'int32', shape: [1], data: new Int32Array([3]) },
  });
  const expectError = (bytes: Uint8Array, ...patterns: RegExp[]) => {
    let message = '';
    try {
      decodeSafetensors(bytes, SRC);
    } catch (e) {
      message = e instanceof Error ? e.message : String(e);
    }
    expect(message, 'decoder should have thrown').not.toBe('');
    expect(message).toContain(SRC);
    for (const p of patterns) expect(message).toMatch(p);
  };

  it('a truncated file', () => {
    expectError(good.subarray(0, good.length - 1), /tensor "beta"/, /truncated/);
    expectError(good.subarray(0, 5), /5 bytes/, /too short/);
    expectError(good.subarray(0, 20), /header length \d+ exceeds the 12 bytes/);
  });

  it('a header length larger than the file', () => {
    const bad = good.slice();
    bad[6] = 1; // header length now ≥ 2^48
    expectError(bad, /header length \d+ exceeds/);
  });

  it('a header that is not JSON, not an object, or not UTF-8', () => {
    expectError(handMade('{"a": '), /not valid JSON/);
    expectError(handMade('[1,2,3]'), /must be a JSON object/);
    const notUtf8 = handMade('{"a":1}');
    notUtf8[9] = 0xff;
    expectError(notUtf8, /not valid UTF-8/);
  });

  it('an unknown or unsupported dtype', () => {
    expectError(handMade('{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}', [0, 0]), /tensor "h"/, /unsupported dtype "F16"/, /F32/);
    expectError(handMade('{"h":{"dtype":7,"shape":[1],"data_offsets":[0,2]}}', [0, 0]), /tensor "h"/, /unsupported dtype 7/);
  });

  it('a shape that does not match the byte span', () => {
    expectError(
      handMade('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', new Array(8).fill(0)),
      /tensor "w"/,
      /needs 12 bytes/,
      /span 8/,
    );
    expectError(handMade('{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', [0, 0, 0, 0]), /tensor "w"/, /invalid shape/);
    expectError(handMade('{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}', [0, 0, 0, 0]), /tensor "w"/, /invalid shape/);
  });

  it('malformed, reversed or out-of-bounds offsets', () => {
    expectError(handMade('{"w":{"dtype":"U8","shape":[1],"data_offsets":[0]}}', [0]), /tensor "w"/, /invalid data_offsets/);
    expectError(handMade('{"w":{"dtype":"U8","shape":[0],"data_offsets":[1,0]}}', [0]), /tensor "w"/, /end before/);
    expectError(handMade('{"w":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}', [0, 0]), /tensor "w"/, /run past the 2-byte/);
  });

  it('overlapping offsets', () => {
    const header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    expectError(handMade(header, new Array(8).fill(0)), /tensor "b"/, /overlap tensor "a"/);
  });

  it('gaps and trailing bytes in the buffer', () => {
    expectError(handMade('{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', [0, 0]), /tensor "a"/, /gap/);
    expectError(handMade('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', [0, 0]), /cover 1 bytes/, /holds 2/);
  });

  it('non-string metadata and non-binary bool bytes', () => {
    expectError(handMade('{"__metadata__":{"step":3}}'), /__metadata__/, /"step"/);
    expectError(handMade('{"__metadata__":[]}'), /__metadata__/);
    expectError(handMade('{"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}', [1, 2]), /tensor "m"/, /byte value 2/);
    expectError(handMade('{"m":[1]}'), /tensor "m"/, /must be an object/);
  });
});

describe('encodeSafetensors validates its input', () => {
  it('names the tensor when data and dtype or shape disagree', () => {
    expect(() => encodeSafetensors({ w: { dtype: 'float32', shape: [2], data: new Float32Array(3) } })).toThrow(
      /tensor "w" has shape \[2\] \(2 elements\) but 3/,
    );
    const wrong = { dtype: 'float64', shape: [1], data: new Float32Array(1) } as unknown as SafetensorsTensor;
    expect(() => encodeSafetensors({ w: wrong })).toThrow(/tensor "w" has dtype float64 but its data is not a Float64Array/);
    expect(() => encodeSafetensors({ w: { dtype: 'float32', shape: [-1], data: new Float32Array(0) } })).toThrow(
      /tensor "w" has invalid shape/,
    );
    expect(() => encodeSafetensors({ m: { dtype: 'bool', shape: [1], data: new Uint8Array([3]) } })).toThrow(/bool tensor "m" has value 3/);
    expect(() => encodeSafetensors({ __metadata__: { dtype: 'uint8', shape: [0], data: new Uint8Array(0) } })).toThrow(/reserved/);
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdxTensor } from './idx.js';
import { encodeIdx, readIdx, writeIdx } from './idx.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'onnxvae-idx-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const samples: IdxTensor[] = [
  { dtype: 'uint8', shape: [2, 3, 2], data: Uint8Array.from({ length: 12 }, (_, i) => i * 21) },
  { dtype: 'int8', shape: [4], data: new Int8Array([-128, -1, 0, 127]) },
  { dtype: 'int16', shape: [2, 2], data: new Int16Array([-32768, -2, 258, 32767]) },
  { dtype: 'int32', shape: [3], data: new Int32Array([-(2 ** 31), 16909060, 2 ** 31 - 1]) },
  { dtype: 'float32', shape: [1, 4], data: new Float32Array([1.5, -0, Number.POSITIVE_INFINITY, 1e-45]) },
  { dtype: 'float64', shape: [2], data: new Float64Array([Math.PI, -1e300]) },
];

describe('IDX round trip through real files', () => {
  for (const t of samples) {
    for (const gz of [false, true]) {
      it(`${t.dtype} ${gz ? 'gzipped' : 'plain'}`, () => {
        const path = join(dir, `${t.dtype}.idx${gz ? '.gz' : ''}`);
        writeIdx(path, t);
        const raw = readFileSync(path);
        expect(raw[0] === 0x1f && raw[1] === 0x8b).toBe(gz); // gzip by extension
        const back = readIdx(path);
        expect(back.dtype).toBe(t.dtype);
        expect(back.shape).toEqual(t.shape);
        expect(back.data.constructor).toBe(t.data.constructor);
        expect(Array.from(back.data as ArrayLike<number>)).toEqual(Array.from(t.data as ArrayLike<number>));
        expect(Object.is(back.data[1], t.data[1])).toBe(true); // keeps -0 for float32
      });
    }
  }

  it('detects gzip by content, not by name', () => {
    const path = join(dir, 'train-images-idx3-ubyte');
    writeIdx(path, samples[0], { gzip: true });
    expect(readIdx(path).data).toEqual(samples[0].data);
  });
});

describe('IDX golden bytes (the MNIST file layout)', () => {
  it('writes the header and big-endian data exactly as the format specifies', () => {
    const bytes = encodeIdx({ dtype: 'int16', shape: [2], data: new Int16Array([258, -2]) });
    // 0x00 0x00, type 0x0B (int16), 1 dimension, size 2 as big-endian u32, then 258 = 0x0102 and -2 = 0xfffe.
    expect(Array.from(bytes)).toEqual([0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe]);
  });

  it('reads a hand-made MNIST-style image file', () => {
    // type 0x08 (uint8), 3 dims: 1 image of 2×3 pixels.
    const path = join(dir, 'hand-images-idx3-ubyte');
    writeFileSync(path, new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 64, 128, 192, 255, 7]));
    const t = readIdx(path);
    expect(t).toEqual({ dtype: 'uint8', shape: [1, 2, 3], data: new Uint8Array([0, 64, 128, 192, 255, 7]) });
  });

  it('reads big-endian float32 and float64', () => {
    const path = join(dir, 'hand-float.idx');
    // 1.0f = 0x3f800000; 2.0 (double) = 0x4000000000000000.
    writeFileSync(path, new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0x80, 0, 0]));
    expect(Array.from(readIdx(path).data as Float32Array)).toEqual([1]);
    writeFileSync(path, new Uint8Array([0, 0, 0x0e, 1, 0, 0, 0, 1, 0x40, 0, 0, 0, 0, 0, 0, 0]));
    expect(Array.from(readIdx(path).data as Float64Array)).toEqual([2]);
  });
});

describe('IDX rejects bad files with errors naming the file', () => {
  const write = (name: string, bytes: Uint8Array): string => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };
  const good = encodeIdx({ dtype: 'int32', shape: [2, 3], data: new Int32Array(6) }); // 4 + 8 + 24 = 36 bytes

  it('a missing file', () => {
    const path = join(dir, 'nope-idx3-ubyte');
    expect(() => readIdx(path)).toThrow(`data file not found: ${path}`);
  });

  it('a truncated file, with expected and actual sizes', () => {
    const path = write('short.idx', good.subarray(0, 30));
    expect(() => readIdx(path)).toThrow(`${path}: IDX file is truncated: shape [2, 3] of int32 needs 36 bytes, got 30`);
    const gz = write('short.idx.gz', gzipSync(good.subarray(0, 30)));
    expect(() => readIdx(gz)).toThrow(/needs 36 bytes, got 30/);
  });

  it('trailing bytes', () => {
    const bytes = new Uint8Array(good.length + 2);
    bytes.set(good);
    const path = write('long.idx', bytes);
    expect(() => readIdx(path)).toThrow(`${path}: IDX file is corrupt (trailing bytes): shape [2, 3] of int32 needs 36 bytes, got 38`);
  });

  it('a truncated header', () => {
    const path = write('header.idx', new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1]));
    expect(() => readIdx(path)).toThrow(`${path}: truncated IDX header: expected 16 bytes for 3 dimensions, got 8`);
    const tiny = write('tiny.idx', new Uint8Array([0, 0]));
    expect(() => readIdx(tiny)).toThrow(`${tiny}: file is 2 bytes, too short`);
  });

  it('a wrong magic', () => {
    const path = write('magic.idx', new Uint8Array([0x93, 0x4e, 8, 1, 0, 0, 0, 0]));
    expect(() => readIdx(path)).toThrow(`${path}: wrong magic 0x93 0x4e`);
  });

  it('an unknown type code', () => {
    const path = write('type.idx', new Uint8Array([0, 0, 0x0a, 1, 0, 0, 0, 0]));
    expect(() => readIdx(path)).toThrow(/unknown IDX type code 0x0a; expected one of 0x08 \(uint8\)/);
  });

  it('corrupt gzip data', () => {
    const gz = gzipSync(good);
    const path = write('bad.idx.gz', gz.subarray(0, gz.length - 10));
    expect(() => readIdx(path)).toThrow(`${path}: gzip data is corrupt or truncated`);
  });

  it('writeIdx refuses data that does not match its shape', () => {
    expect(() => encodeIdx({ dtype: 'uint8', shape: [2, 2], data: new Uint8Array(3) })).toThrow(/4 elements but the data has 3/);
    expect(() => encodeIdx({ dtype: 'uint8', shape: [-1], data: new Uint8Array(0) })).toThrow(/not an unsigned 32-bit/);
  });
});

/**
 * Hostile data files (issue 9, item 9): a gzip bomb stops at the size its IDX or .npy header implies, a header that
 * promises more than the gzip could hold is refused before inflating, deeply nested .npy headers and config files
 * fail with the reader's own error naming the file (never "Maximum call stack size exceeded").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigFileError, readConfigFile } from '../config-file.js';
import { DataFileError } from './errors.js';
import { IdxError, readIdx } from './idx.js';
import { NpyError, readNpy } from './npy.js';
import { readDataBytes } from './read-bytes.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'onnxvae-hostile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, bytes: Uint8Array | string) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

/** Zeros to follow a header: 64 MiB compress to ~64 kB, a 1000:1 bomb, big enough to see and quick to build. */
const BOMB_BYTES = 64 * 1024 * 1024;

/** An IDX header for one 28×28 uint8 image (4 + 3·4 header bytes + 784 data bytes = 800 implied). */
function idxHeader(dims: number[]): Uint8Array {
  const h = new Uint8Array(4 + 4 * dims.length);
  h[2] = 0x08;
  h[3] = dims.length;
  dims.forEach((d, i) => {
    new DataView(h.buffer).setUint32(4 + 4 * i, d, false);
  });
  return h;
}

function npyV1(dict: string): Uint8Array {
  const header = `${dict}\n`;
  const out = new Uint8Array(10 + header.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return out;
}

function npyV2(dict: string): Uint8Array {
  const header = `${dict}\n`;
  const out = new Uint8Array(12 + header.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
  new DataView(out.buffer).setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[12 + i] = header.charCodeAt(i);
  return out;
}

function bomb(header: Uint8Array): Uint8Array {
  const raw = new Uint8Array(header.length + BOMB_BYTES);
  raw.set(header);
  return gzipSync(raw, { level: 9 });
}

describe('gzip input is capped by the size its header implies', () => {
  it('an IDX gzip bomb: 64 MiB behind a header for one 28×28 image stops at 800 bytes', () => {
    const path = write('bomb-idx3-ubyte.gz', bomb(idxHeader([1, 28, 28])));
    const before = process.memoryUsage().arrayBuffers;
    expect(() => readIdx(path)).toThrow(IdxError);
    expect(() => readIdx(path)).toThrow(`${path}: gzip data expands to more than the 800 bytes its header implies`);
    // Inflating the whole bomb would hold 64 MiB at once; reading the header takes one small prefix (≤ 4 MiB at
    // deflate's 1032:1 from 4 kB of input). 32 MiB leaves room for allocator slack and other tests' buffers.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 1024 * 1024);
  });

  it('a .npy gzip bomb, and the same through the format-agnostic reader the CLI uses', () => {
    const header = npyV1("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }");
    const path = write('bomb.npy.gz', bomb(header));
    expect(() => readNpy(path)).toThrow(NpyError);
    expect(() => readNpy(path)).toThrow(`${path}: gzip data expands to more than the ${header.length + 4} bytes its header implies`);
    expect(() => readDataBytes(path)).toThrow(DataFileError);
    expect(() => readDataBytes(path)).toThrow(/expands to more than/);
  });

  it('a header that promises more than the gzip could hold is refused before inflating', () => {
    // 100000 × 1000 × 1000 bytes = 1e11: more than any buffer, and than 60 gzip bytes can expand to (1032:1).
    const huge = write('huge-idx3-ubyte.gz', gzipSync(idxHeader([100000, 1000, 1000])));
    expect(() => readIdx(huge)).toThrow(/its header implies 100000000016 bytes of data, more than the \d+ a buffer can hold/);
    const big = write('big-idx3-ubyte.gz', gzipSync(idxHeader([1000, 1000, 1])));
    expect(() => readIdx(big)).toThrow(/implies 1000016 bytes of data, but \d+ bytes of gzip expand to at most \d+; the file is truncated/);
  });

  it('an honest gzip still reads, and a short one is "truncated" with both sizes', () => {
    const data = Uint8Array.from({ length: 784 }, (_, i) => i % 256);
    const raw = new Uint8Array(800);
    raw.set(idxHeader([1, 28, 28]));
    raw.set(data, 16);
    expect(readIdx(write('one-idx3-ubyte.gz', gzipSync(raw))).data).toEqual(data);
    const short = write('short-idx3-ubyte.gz', gzipSync(raw.subarray(0, 700)));
    expect(() => readIdx(short)).toThrow(`${short}: IDX file is truncated: shape [1, 28, 28] of uint8 needs 800 bytes, got 700`);
  });
});

describe('deep nesting gives an error naming the file, never a stack overflow', () => {
  it('.npy: a 1 MB header, and a header nested 9,000 deep', () => {
    const long = write('long.npy', npyV2(`{'shape': ${'('.repeat(1e6)}}`));
    expect(() => readNpy(long)).toThrow(NpyError);
    expect(() => readNpy(long)).toThrow(`${long}: .npy header is 1000012 bytes, more than the 10000 numpy itself reads`);
    // 9,000 levels: within the 10,000-byte header cap, and deep enough to overflow a recursive parser (3 frames a level).
    const deep = write('deep.npy', npyV1(`{'shape': ${'('.repeat(9000)}}`));
    expect(() => readNpy(deep)).toThrow(NpyError);
    expect(() => readNpy(deep)).toThrow(
      new RegExp(`^${deep.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: malformed \\.npy header: nesting deeper than 32 levels`),
    );
  });

  it('--config: nesting, a repeated field, an inherited name, and a size cap', () => {
    const deep = write('deep.json', `{"hidden": ${'['.repeat(1e5)}${']'.repeat(1e5)}}`);
    expect(() => readConfigFile(deep)).toThrow(ConfigFileError);
    // The 65th level (the outer object, then 64 brackets) opens at character 11 + 63.
    expect(() => readConfigFile(deep)).toThrow(`config file ${deep}: nesting deeper than 64 levels at character 74`);
    const twice = write('twice.json', '{"latent": 2, "latent": 3}');
    expect(() => readConfigFile(twice)).toThrow(`config file ${twice}: duplicate key "latent"`);
    // 'toString' is on every object's prototype: it must read as unknown, not as a field of kind Function.
    const inherited = write('inherited.json', '{"toString": 1}');
    expect(() => readConfigFile(inherited)).toThrow(`config file ${inherited}: unknown field 'toString'`);
    const big = write('big.json', `{"hidden": [${'1,'.repeat(600_000)}1]}`); // 1.2 MB, past the 1 MiB cap
    expect(() => readConfigFile(big)).toThrow(/characters, more than the 1048576 a model config may have/);
  });
});

describe('each reader has its own error type', () => {
  it('IdxError, NpyError (both DataFileError), naming the file', () => {
    const idx = write('x.idx', new Uint8Array([1, 2, 3, 4]));
    expect(() => readIdx(idx)).toThrow(IdxError);
    expect(() => readIdx(join(dir, 'missing.idx'))).toThrow(IdxError);
    const npy = write('x.npy', new Uint8Array(12));
    expect(() => readNpy(npy)).toThrow(NpyError);
    expect(() => readNpy(npy)).toThrow(DataFileError);
  });
});

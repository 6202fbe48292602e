/**
 * Fuzz suite over the node readers of untrusted files (issue 9, item 10): IDX and .npy, plain and gzipped, and the
 * `--config` file. Each input is a mutated valid file written to disk and read through the public reader, from a
 * seeded PRNG (the seed is printed; rerun with FUZZ_SEED=<seed>). Every input must load or fail with the reader's
 * own error type naming the file, never a TypeError/RangeError/SyntaxError, and never take more than a second.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FuzzResult, fuzzReader, fuzzSeed } from '../../../core/src/testing/fuzz.js';
import { ConfigFileError, readConfigFile } from '../config-file.js';
import { encodeIdx, IdxError, readIdx } from './idx.js';
import { encodeNpy, NpyError, readNpy } from './npy.js';

const SEED = fuzzSeed();
let dir = '';
beforeAll(() => {
  console.log(`fuzz seed ${SEED} (rerun with FUZZ_SEED=${SEED})`);
  dir = mkdtempSync(join(tmpdir(), 'onnxvae-fuzz-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const IDX_SEEDS = [
  encodeIdx({ dtype: 'uint8', shape: [3, 4, 4], data: Uint8Array.from({ length: 48 }, (_, i) => i * 5) }),
  encodeIdx({ dtype: 'float32', shape: [2, 3], data: new Float32Array([1, -2, 0.5, 3, 4, 5]) }),
  encodeIdx({ dtype: 'int16', shape: [5], data: new Int16Array([1, -1, 300, -300, 7]) }),
  encodeIdx({ dtype: 'uint8', shape: [4], data: new Uint8Array([0, 1, 2, 3]) }),
];
const NPY_SEEDS = [
  encodeNpy({ dtype: 'float32', shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 12) }),
  encodeNpy({ dtype: 'uint8', shape: [2, 2, 2], data: Uint8Array.from({ length: 8 }, (_, i) => i) }),
  encodeNpy({ dtype: 'int64', shape: [2], data: new BigInt64Array([1n, -2n]) }),
  encodeNpy({ dtype: 'bool', shape: [], data: new Uint8Array([1]) }),
];
const CONFIG_SEEDS = [
  '{"hidden": [512, 256], "latent": 32, "optimizer": {"clipNorm": 5}}',
  '{"arch": "conv", "convChannels": [32, 64], "hidden": [256], "latent": 16, "likelihood": {"type": "gaussian", "variance": "feature"}}',
  '{"conditional": {"classes": 10, "prior": "learned"}, "objective": "iwae", "samples": 5}',
  '{"latentType": "categorical", "categories": 10, "estimator": "score", "baseline": "leave-one-out", "samples": 4}',
].map((s) => new TextEncoder().encode(s));

function expectClean(r: FuzzResult): void {
  expect(r.failures, r.failures.join('\n')).toEqual([]);
  // Over 90% of mutations are rejected at the default seed (most bytes are structure: headers, lengths, names);
  // at least half must be, or the fuzzer has stopped reaching the checks.
  expect(r.rejected).toBeGreaterThanOrEqual(r.cases / 2);
}

/** Writes each input to its own file and reads it with `read`. */
const fromFile =
  (ext: string, read: (path: string) => unknown, gzip = false) =>
  (b: Uint8Array, i: number) => {
    const path = join(dir, `f-${i}${ext}`);
    writeFileSync(path, gzip ? gzipSync(b) : b);
    try {
      return read(path);
    } finally {
      rmSync(path, { force: true });
    }
  };
const named = (ext: string) => (i: number) => join(dir, `f-${i}${ext}`);

describe(`fuzz (seed ${SEED})`, () => {
  it('readIdx: 3000 mutated plain files', async () => {
    const r = await fuzzReader({
      name: 'idx',
      seeds: IDX_SEEDS,
      cases: 3000,
      seed: SEED,
      run: fromFile('.idx', readIdx),
      errorType: IdxError,
      names: named('.idx'),
    });
    expectClean(r);
  });

  it('readIdx: 1500 gzipped mutated files, and 1000 mutated gzip streams', async () => {
    const content = await fuzzReader({
      name: 'idx.gz content',
      seeds: IDX_SEEDS,
      cases: 1500,
      seed: SEED + 1,
      run: fromFile('.idx.gz', readIdx, true),
      errorType: IdxError,
      names: named('.idx.gz'),
    });
    expectClean(content);
    const stream = await fuzzReader({
      name: 'idx.gz stream',
      seeds: IDX_SEEDS.map((s) => gzipSync(s)),
      cases: 1000,
      seed: SEED + 2,
      run: fromFile('.idx.gz', readIdx),
      errorType: IdxError,
      names: named('.idx.gz'),
    });
    expectClean(stream);
  });

  it('readNpy: 3000 mutated plain files, 1000 gzipped, 500 mutated gzip streams', async () => {
    const plain = await fuzzReader({
      name: 'npy',
      seeds: NPY_SEEDS,
      cases: 3000,
      seed: SEED + 3,
      run: fromFile('.npy', readNpy),
      errorType: NpyError,
      names: named('.npy'),
    });
    expectClean(plain);
    const gz = await fuzzReader({
      name: 'npy.gz content',
      seeds: NPY_SEEDS,
      cases: 1000,
      seed: SEED + 4,
      run: fromFile('.npy.gz', readNpy, true),
      errorType: NpyError,
      names: named('.npy.gz'),
    });
    expectClean(gz);
    const stream = await fuzzReader({
      name: 'npy.gz stream',
      seeds: NPY_SEEDS.map((s) => gzipSync(s)),
      cases: 500,
      seed: SEED + 5,
      run: fromFile('.npy.gz', readNpy),
      errorType: NpyError,
      names: named('.npy.gz'),
    });
    expectClean(stream);
  });

  it('readConfigFile: 2000 mutated config files', async () => {
    const r = await fuzzReader({
      name: 'config',
      seeds: CONFIG_SEEDS,
      cases: 2000,
      seed: SEED + 6,
      text: true,
      run: fromFile('.json', readConfigFile),
      errorType: ConfigFileError,
      names: named('.json'),
    });
    expectClean(r);
  });
});

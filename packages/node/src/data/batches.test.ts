import { describe, expect, it } from 'vitest';
import { batches, epochOrder } from './batches.js';
import type { Dataset } from './dataset.js';

// Example i has every value equal to i, so a batch row tells which example it is.
function toy(n: number, D = 3, withLabels = true): Dataset {
  const x = new Float32Array(n * D);
  for (let i = 0; i < n; i++) x.fill(i, i * D, (i + 1) * D);
  const ds: Dataset = { x, n, dims: [D], name: 'toy' };
  if (withLabels) ds.labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  return ds;
}

function order(ds: Dataset, batchSize: number, seed: number, epoch: number, shuffle = true): number[] {
  return [...batches(ds, batchSize, { shuffle, seed, epoch })].flatMap((b) => Array.from(b.indices));
}

describe('batches', () => {
  const ds = toy(103);

  it('visits every example exactly once per epoch, with consistent x, y and indices', () => {
    const seen: number[] = [];
    for (const b of batches(ds, 10, { shuffle: true, seed: 1, epoch: 0 })) {
      expect(b.x.length).toBe(b.size * 3);
      expect(b.y?.length).toBe(b.size);
      for (let k = 0; k < b.size; k++) {
        const i = b.indices[k];
        expect(Array.from(b.x.subarray(k * 3, (k + 1) * 3))).toEqual([i, i, i]);
        expect(b.y?.[k]).toBe(i % 10);
        seen.push(i);
      }
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
  });

  it('gives full batches and a final partial one, or drops it with dropLast', () => {
    const sizes = [...batches(ds, 25, { shuffle: true, seed: 0, epoch: 0 })].map((b) => b.size);
    expect(sizes).toEqual([25, 25, 25, 25, 3]);
    const dropped = [...batches(ds, 25, { shuffle: true, seed: 0, epoch: 0, dropLast: true })].map((b) => b.size);
    expect(dropped).toEqual([25, 25, 25, 25]);
    expect([...batches(ds, 200, { shuffle: false, seed: 0, epoch: 0, dropLast: true })]).toEqual([]);
    expect([...batches(ds, 200, { shuffle: false, seed: 0, epoch: 0 })].map((b) => b.size)).toEqual([103]);
  });

  it('is deterministic per (seed, epoch), so a resumed run sees the same batches', () => {
    expect(order(ds, 16, 7, 3)).toEqual(order(ds, 16, 7, 3));
    expect(order(ds, 16, 7, 3)).not.toEqual(order(ds, 16, 7, 4));
    expect(order(ds, 16, 7, 3)).not.toEqual(order(ds, 16, 8, 3));
    // The order does not depend on the batch size either: only (seed, epoch) fix the permutation.
    expect(order(ds, 16, 7, 3)).toEqual(order(ds, 5, 7, 3));
    // A resumed run that starts at epoch 2 reproduces a full run's epoch 2 exactly.
    const fullRun = [0, 1, 2].map((e) => [...batches(ds, 32, { shuffle: true, seed: 5, epoch: e })]);
    const resumed = [...batches(ds, 32, { shuffle: true, seed: 5, epoch: 2 })];
    expect(resumed).toEqual(fullRun[2]);
  });

  it('pins the shuffle so checkpoints from earlier versions resume on the same batches', () => {
    // If this changes, resumed runs see different batches than before: bump the bundle format version.
    expect(Array.from(epochOrder(10, { shuffle: true, seed: 0, epoch: 0 }))).toEqual(PINNED_ORDER);
  });

  it('keeps dataset order without shuffling', () => {
    expect(order(ds, 10, 1, 0, false)).toEqual(Array.from({ length: 103 }, (_, i) => i));
  });

  it('omits y for unlabeled data and returns fresh arrays', () => {
    const plain = toy(4, 2, false);
    const [b] = [...batches(plain, 4, { shuffle: false, seed: 0, epoch: 0 })];
    expect(b.y).toBeUndefined();
    b.x[0] = 99;
    expect(plain.x[0]).toBe(0);
  });

  it('rejects bad arguments', () => {
    const run =
      (bs: number, o: { seed?: number; epoch?: number } = {}) =>
      () => [...batches(ds, bs, { shuffle: true, seed: o.seed ?? 0, epoch: o.epoch ?? 0 })];
    expect(run(0)).toThrow(/batch size must be a positive integer, got 0/);
    expect(run(2.5)).toThrow(/batch size/);
    expect(run(4, { epoch: -1 })).toThrow(/epoch must be a non-negative integer/);
    expect(run(4, { seed: 0.5 })).toThrow(/seed must be a safe integer/);
    const broken: Dataset = { x: new Float32Array(5), n: 2, dims: [3], name: 'broken' };
    expect(() => [...batches(broken, 1, { shuffle: false, seed: 0, epoch: 0 })]).toThrow(
      /dataset broken has 5 values but n × D = 2 × 3 = 6/,
    );
  });
});

describe('batches with dynamic binarization', () => {
  // 200 examples of 50 pixels with intensities 0, 0.02, …, 0.98: each pixel a different Bernoulli probability.
  const n = 200;
  const D = 50;
  const gray: Dataset = { x: Float32Array.from({ length: n * D }, (_, i) => (i % D) / D), n, dims: [D], name: 'gray' };
  /** The epoch's drawn pixels, by example index (so orders and batch sizes compare). */
  const drawn = (seed: number, epoch: number, batchSize = 32): Float32Array => {
    const out = new Float32Array(n * D);
    for (const b of batches(gray, batchSize, { shuffle: true, seed, epoch, dynamicBinarize: true }))
      b.indices.forEach((src, k) => {
        out.set(b.x.subarray(k * D, (k + 1) * D), src * D);
      });
    return out;
  };

  it('draws 0/1 pixels with P(1) = x: a fresh draw each epoch, the same for the same (seed, epoch)', () => {
    const e0 = drawn(1, 0);
    expect(new Set(e0)).toEqual(new Set([0, 1]));
    expect(drawn(1, 0)).toEqual(e0);
    expect(drawn(1, 1)).not.toEqual(e0);
    expect(drawn(2, 0)).not.toEqual(e0);
    // Pixels of intensity 0 are never ink; the mean of each pixel over 200 examples × 20 epochs tracks x
    // (4,000 draws: standard error ≤ 0.008, so 0.04 is 5 of them).
    const sums = new Float64Array(D);
    for (let e = 0; e < 20; e++) {
      const x = drawn(1, e);
      for (let i = 0; i < x.length; i++) sums[i % D] += x[i];
    }
    for (let j = 0; j < D; j++) expect(Math.abs(sums[j] / 4000 - j / D), `pixel ${j}`).toBeLessThan(0.04);
    expect(sums[0]).toBe(0);
  });

  it("an example's draw depends on (seed, epoch, index) only: not on the batch size or its position", () => {
    // So a run resumed at an epoch boundary, with any batching, sees the pixels an uninterrupted run saw.
    expect(drawn(5, 3, 7)).toEqual(drawn(5, 3, 64));
    const plain = [...batches(gray, 16, { shuffle: false, seed: 5, epoch: 3, dynamicBinarize: true })];
    const x = new Float32Array(n * D);
    plain.forEach((b, k) => {
      x.set(b.x, k * 16 * D);
    });
    expect(x).toEqual(drawn(5, 3));
  });

  it('leaves the dataset itself grayscale', () => {
    drawn(1, 0);
    expect(gray.x[1]).toBe(Math.fround(1 / D));
  });
});

const PINNED_ORDER = [8, 3, 5, 0, 6, 9, 7, 4, 2, 1];

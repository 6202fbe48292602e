/** Resolves `--data mnist|FILE` to a train/test split. */
import { type Dataset, loadDataFile, loadMnist } from './dataset.js';
import { seededPermutation } from './shuffle.js';

export interface DataSpec {
  data: string;
  /** A separate test file; otherwise 20% of a user file is held out by `seed`. */
  testData?: string;
  labels?: string;
  testLabels?: string;
  binarize?: boolean;
  /** Reject file values outside [0, 1] (for a Bernoulli likelihood on grayscale data). */
  requireUnitInterval?: boolean;
  /** Use only the first n training examples (quick runs and tests). */
  limit?: number;
  seed?: number;
}

function subset(ds: Dataset, idx: ArrayLike<number>, name: string): Dataset {
  const d = ds.dims.reduce((a, b) => a * b, 1);
  const x = new Float32Array(idx.length * d);
  const labels = ds.labels ? new Int32Array(idx.length) : undefined;
  for (let i = 0; i < idx.length; i++) {
    x.set(ds.x.subarray(idx[i] * d, (idx[i] + 1) * d), i * d);
    if (labels && ds.labels) labels[i] = ds.labels[idx[i]];
  }
  return { x, n: idx.length, dims: ds.dims, labels, name };
}

export function loadData(spec: DataSpec): { train: Dataset; test: Dataset } {
  let train: Dataset;
  let test: Dataset;
  if (spec.data === 'mnist') {
    ({ train, test } = loadMnist({ binarize: spec.binarize ?? true }));
  } else {
    const all = loadDataFile(spec.data, { labels: spec.labels, binarize: spec.binarize, requireUnitInterval: spec.requireUnitInterval });
    if (spec.testData) {
      train = all;
      test = loadDataFile(spec.testData, {
        labels: spec.testLabels,
        binarize: spec.binarize,
        requireUnitInterval: spec.requireUnitInterval,
      });
      if (test.dims.join('x') !== train.dims.join('x')) {
        throw new Error(`test data ${spec.testData} has examples of shape [${test.dims}], training data ${spec.data} has [${train.dims}]`);
      }
    } else {
      if (all.n < 2) throw new Error(`data file ${spec.data} has ${all.n} example(s); need at least 2 to hold out a test split`);
      const perm = seededPermutation(all.n, spec.seed ?? 0);
      const nTest = Math.max(1, Math.round(all.n * 0.2));
      test = subset(all, perm.subarray(0, nTest), `${all.name} (test)`);
      train = subset(all, perm.subarray(nTest), `${all.name} (train)`);
    }
  }
  if (spec.limit !== undefined && spec.limit < train.n) {
    train = subset(
      train,
      Uint32Array.from({ length: spec.limit }, (_, i) => i),
      train.name,
    );
    test = subset(
      test,
      Uint32Array.from({ length: Math.min(test.n, Math.max(1, Math.ceil(spec.limit / 4))) }, (_, i) => i),
      test.name,
    );
  }
  return { train, test };
}

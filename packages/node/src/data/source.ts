/** Resolves `--data mnist|FILE` (and `--test-data FILE`) to a train/test split, and says in words what the test set is. */
import { type Dataset, loadDataFile, loadMnist, MNIST_TEST_SIZE } from './dataset.js';
import { seededPermutation } from './shuffle.js';

export interface DataSpec {
  data: string;
  /** A separate test file (used whole, also beside `data: 'mnist'`); otherwise 20% of a user file is held out by `seed`. */
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

/** The share of a user file held out as its test split when no `testData` is given. */
export const TEST_FRACTION = 0.2;

function loadTestFile(spec: DataSpec & { testData: string }): Dataset {
  return loadDataFile(spec.testData, {
    labels: spec.testLabels,
    binarize: spec.binarize,
    requireUnitInterval: spec.requireUnitInterval,
  });
}

/** The test examples `limit` keeps: the first ⌈limit/4⌉ (at least 1), as training's test split under `--limit`. */
function limitTest(test: Dataset, limit: number | undefined): Dataset {
  if (limit === undefined) return test;
  const n = Math.min(test.n, Math.max(1, Math.ceil(limit / 4)));
  if (n === test.n) return test;
  return subset(
    test,
    Uint32Array.from({ length: n }, (_, i) => i),
    test.name,
  );
}

export function loadData(spec: DataSpec): { train: Dataset; test: Dataset } {
  let train: Dataset;
  let test: Dataset;
  if (spec.data === 'mnist') {
    ({ train, test } = loadMnist({ binarize: spec.binarize ?? true }));
    if (spec.testData) test = loadTestFile({ ...spec, testData: spec.testData });
  } else {
    const all = loadDataFile(spec.data, { labels: spec.labels, binarize: spec.binarize, requireUnitInterval: spec.requireUnitInterval });
    if (spec.testData) {
      train = all;
      test = loadTestFile({ ...spec, testData: spec.testData });
    } else {
      if (all.n < 2) throw new Error(`data file ${spec.data} has ${all.n} example(s); need at least 2 to hold out a test split`);
      const perm = seededPermutation(all.n, spec.seed ?? 0);
      const nTest = Math.max(1, Math.round(all.n * TEST_FRACTION));
      test = subset(all, perm.subarray(0, nTest), `${all.name} (test)`);
      train = subset(all, perm.subarray(nTest), `${all.name} (train)`);
    }
  }
  if (spec.testData && test.dims.join('x') !== train.dims.join('x')) {
    throw new Error(`test data ${spec.testData} has examples of shape [${test.dims}], training data ${spec.data} has [${train.dims}]`);
  }
  if (spec.limit !== undefined && spec.limit < train.n) {
    train = subset(
      train,
      Uint32Array.from({ length: spec.limit }, (_, i) => i),
      train.name,
    );
    test = limitTest(test, spec.limit);
  }
  return { train, test };
}

/**
 * The test set a scoring command (`eval`, `gap`, `variance --test-data`) uses, and a sentence saying what it is: with
 * `testData`, the whole file (nothing else is read); otherwise the test split of `data`, the one training held out
 * (`seed` must be the training seed). `limit` keeps the first ⌈limit/4⌉ test examples, as training does.
 *
 * @example
 * const { test, what } = loadTestData({ data: 'mnist', testData: 'digits.npy' }); // what: 'all 200 examples of digits.npy'
 */
export function loadTestData(spec: DataSpec): { test: Dataset; what: string } {
  const limited = (full: number, kept: number) =>
    kept < full ? `; the first ${kept} of them (--limit ${spec.limit} keeps ⌈${spec.limit}/4⌉ test examples, as training did)` : '';
  if (spec.testData) {
    const full = loadTestFile({ ...spec, testData: spec.testData });
    const test = spec.limit === undefined ? full : limitTest(full, spec.limit);
    return { test, what: `all ${full.n} examples of ${spec.testData} (--test-data)${limited(full.n, test.n)}` };
  }
  const { train, test } = loadData({ ...spec, limit: undefined });
  const kept = spec.limit !== undefined && spec.limit < train.n ? limitTest(test, spec.limit) : test; // as loadData
  const what =
    spec.data === 'mnist'
      ? `the MNIST test split: ${MNIST_TEST_SIZE} digits held out from training`
      : `the test split of ${spec.data} that training held out: ${test.n} examples (${TEST_FRACTION * 100}%, drawn with the training seed ${spec.seed ?? 0}); to score a whole file, pass it as --test-data FILE`;
  return { test: kept, what: `${what}${limited(test.n, kept.n)}` };
}

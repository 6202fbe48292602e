/** Small synthetic binary data for tests: noisy copies of a few prototypes, so a VAE has structure to learn. */
import { Prng } from '../random/prng.js';

export function synthBinary(n: number, d: number, seed = 0, prototypes = 4, flip = 0.05): Float32Array {
  const r = new Prng(seed);
  const protos = Array.from({ length: prototypes }, () => Array.from({ length: d }, () => (r.uniform() < 0.5 ? 1 : 0)));
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const p = protos[Math.floor(r.uniform() * prototypes)];
    for (let j = 0; j < d; j++) x[i * d + j] = r.uniform() < flip ? 1 - p[j] : p[j];
  }
  return x;
}

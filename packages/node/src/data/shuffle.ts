/**
 * A tiny seeded shuffle shared by the data loaders (the dataset split and the per-epoch batch order).
 *
 * It is deliberately local to the node package (no import from core): mulberry32, a well-known 32-bit generator
 * (Tommy Ettinger, public domain), is plenty for ordering examples, and keeping it here fixes the MNIST split and batch
 * orders independently of changes to core's Prng.
 */

/** mulberry32: returns a function yielding uniform 32-bit unsigned integers. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Combine a seed and a stream index (an epoch) into one well-mixed 32-bit seed (murmur3's finalizer). */
export function mixSeed(seed: number, stream: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul((stream >>> 0) + 0x7f4a7c15, 0x85ebca77)) >>> 0;
  // Fold in the high bits of seeds beyond 32 bits so seed and seed + 2^32 differ.
  h ^= Math.floor(seed / 4294967296) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A seeded uniformly random permutation of 0..n-1 (Fisher–Yates with unbiased bounded integers). */
export function seededPermutation(n: number, seed: number): Uint32Array {
  const next = mulberry32(seed);
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const bound = i + 1;
    // Rejection sampling removes the modulo bias of r % bound.
    const threshold = (4294967296 - bound) % bound;
    let r = next();
    while (r < threshold) r = next();
    const j = r % bound;
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

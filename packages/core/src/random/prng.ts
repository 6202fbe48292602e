/**
 * A seeded, splittable pseudo-random number generator that runs the same in browsers and Node.
 *
 * Generator: xoshiro128** 1.0 (Blackman & Vigna, https://prng.di.unimi.it/), 128-bit state, period 2^128 − 1,
 * 32-bit outputs computed with 32-bit integer arithmetic only (`Math.imul`), so every JavaScript engine gives the
 * same stream. The state is seeded from the seed with SplitMix64, as the authors recommend.
 *
 * Normals use Marsaglia's polar method, which yields two independent normals per accepted pair; the second is cached
 * ("spare") and is part of the serialized state, so `Prng.fromState(p.state())` continues exactly where `p` was.
 *
 * @example
 * const rng = new Prng(42);
 * const eps = new Float32Array(128 * 20);
 * rng.fillNormal(eps);                 // eps ~ N(0, I)
 * const saved = rng.state();           // JSON-able; store it in the manifest
 * const resumed = Prng.fromState(saved);
 */

/** Serializable generator state: a plain object that survives `JSON.stringify`/`JSON.parse` exactly. */
export interface PrngState {
  readonly algorithm: 'xoshiro128**';
  /** The four 32-bit state words, each an unsigned integer in [0, 2^32). */
  readonly s: readonly [number, number, number, number];
  /** The cached second normal of Marsaglia's polar method, or null when none is cached. */
  readonly spare: number | null;
}

const MASK64 = (1n << 64n) - 1n;
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;

/** SplitMix64's output function (a bijection on 64-bit integers). */
function mix64(z0: bigint): bigint {
  let z = z0 & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/** Two 64-bit values as four little-endian 32-bit state words. */
function toWords(a: bigint, b: bigint): [number, number, number, number] {
  const words: [number, number, number, number] = [
    Number(a & 0xffffffffn) | 0,
    Number(a >> 32n) | 0,
    Number(b & 0xffffffffn) | 0,
    Number(b >> 32n) | 0,
  ];
  // The all-zero state is xoshiro's one fixed point; SplitMix64 essentially never produces it, but guard anyway.
  if ((words[0] | words[1] | words[2] | words[3]) === 0) words[0] = 1;
  return words;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_MINUS_24 = 1 / 16777216;
const TWO_POW_MINUS_53 = 1 / 9007199254740992;

function isU32(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < TWO_POW_32;
}

export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  // The cached normal as a plain double and a flag (a `number | null` field would box every value it holds).
  private spare = 0;
  private hasSpare = false;

  /** @param seed any safe integer (negative seeds are taken modulo 2^64). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new Error(`Prng seed must be a safe integer, got ${String(seed)}`);
    }
    // Two consecutive SplitMix64 outputs from state x = seed, as in the authors' reference seeding.
    const x = BigInt.asUintN(64, BigInt(seed));
    [this.s0, this.s1, this.s2, this.s3] = toWords(mix64(x + GOLDEN_GAMMA), mix64(x + 2n * GOLDEN_GAMMA));
  }

  /** Rebuild a generator from `state()`; validates the object, since it may come from a file. */
  static fromState(state: PrngState): Prng {
    const raw: unknown = state;
    if (typeof raw !== 'object' || raw === null) throw new Error('Prng state must be an object');
    const { algorithm, s, spare } = raw as Record<string, unknown>;
    if (algorithm !== 'xoshiro128**') {
      throw new Error(`Prng state has algorithm ${JSON.stringify(algorithm)}; expected "xoshiro128**"`);
    }
    if (!Array.isArray(s) || s.length !== 4 || !s.every(isU32)) {
      throw new Error(`Prng state words must be four unsigned 32-bit integers, got ${JSON.stringify(s)}`);
    }
    if (s.every((w) => w === 0)) throw new Error('Prng state words are all zero, which xoshiro128** never reaches');
    if (spare !== null && (typeof spare !== 'number' || !Number.isFinite(spare))) {
      throw new Error(`Prng state spare must be a finite number or null, got ${JSON.stringify(spare)}`);
    }
    const p = new Prng(0);
    [p.s0, p.s1, p.s2, p.s3] = (s as number[]).map((w) => w | 0);
    p.hasSpare = spare !== null;
    p.spare = spare ?? 0;
    return p;
  }

  /** A plain, JSON-able snapshot; `Prng.fromState(state())` continues the identical stream (normals included). */
  state(): PrngState {
    return {
      algorithm: 'xoshiro128**',
      s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0],
      spare: this.hasSpare ? this.spare : null,
    };
  }

  /** The next 32-bit output, an integer in [0, 2^32). */
  nextU32(): number {
    const s1 = this.s1;
    // result = rotl(s1 * 5, 7) * 9
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    // The words stay signed int32 (small integers to V8, no heap numbers: 4× faster than storing them unsigned);
    // state() makes them canonical.
    return result;
  }

  /** A double in [0, 1) with 53 random bits (two outputs). */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) * TWO_POW_MINUS_53;
  }

  /** An integer uniform in [0, bound), without modulo bias (rejection sampling); 1 ≤ bound ≤ 2^32. */
  int(bound: number): number {
    if (!Number.isInteger(bound) || bound < 1 || bound > TWO_POW_32) {
      throw new Error(`Prng.int bound must be an integer in [1, 2^32], got ${bound}`);
    }
    // Reject the lowest (2^32 mod bound) outputs so every residue is equally likely.
    const threshold = (TWO_POW_32 - bound) % bound;
    for (;;) {
      const r = this.nextU32();
      if (r >= threshold) return r % bound;
    }
  }

  /** A standard normal N(0, 1) by Marsaglia's polar method; the pair's second value is cached for the next call. */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        this.spare = v * f;
        this.hasSpare = true;
        return u * f;
      }
    }
  }

  /** Fill `out` with N(mean, std²) samples (in index order, same stream as repeated `normal()` calls). */
  fillNormal<T extends Float32Array | Float64Array>(out: T, mean = 0, std = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /**
   * Fill `out` with uniforms in [0, 1). Float64Array gets 53-bit doubles (`uniform()`); Float32Array gets 24-bit
   * values (one output each), because a 53-bit double close to 1 would round to exactly 1 in float32.
   */
  fillUniform<T extends Float32Array | Float64Array>(out: T): T {
    if (out instanceof Float32Array) {
      for (let i = 0; i < out.length; i++) out[i] = (this.nextU32() >>> 8) * TWO_POW_MINUS_24;
    } else {
      for (let i = 0; i < out.length; i++) out[i] = this.uniform();
    }
    return out;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates, unbiased integers). */
  permutation(n: number): Uint32Array {
    if (!Number.isInteger(n) || n < 0 || n > TWO_POW_32) {
      throw new Error(`Prng.permutation size must be an integer in [0, 2^32], got ${n}`);
    }
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /**
   * Derive an independent generator. The child is seeded from 128 fresh bits of this stream passed through
   * SplitMix64's bijective mixer, so children of children stay distinct; this generator advances by four outputs.
   * Its cached normal spare (if any) stays with this generator; the child starts without one.
   */
  split(): Prng {
    const k1 = BigInt(this.nextU32()) | (BigInt(this.nextU32()) << 32n);
    const k2 = BigInt(this.nextU32()) | (BigInt(this.nextU32()) << 32n);
    const child = new Prng(0);
    [child.s0, child.s1, child.s2, child.s3] = toWords(mix64(k1), mix64(k2 + GOLDEN_GAMMA));
    return child;
  }
}

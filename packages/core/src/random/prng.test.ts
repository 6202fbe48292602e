import { describe, expect, it } from 'vitest';
import type { PrngState } from './prng.js';
import { Prng } from './prng.js';

function draws(p: Prng, n: number): number[] {
  return Array.from({ length: n }, () => p.nextU32());
}

describe('Prng: reference streams', () => {
  it('matches the xoshiro128** reference C code from state [1, 2, 3, 4]', () => {
    // Printed by the authors' xoshiro128starstar.c (compiled with gcc) with s = {1, 2, 3, 4}.
    const p = Prng.fromState({ algorithm: 'xoshiro128**', s: [1, 2, 3, 4], spare: null });
    expect(draws(p, 8)).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849]);
  });

  it('seeds with SplitMix64 like the reference C code (seed 42)', () => {
    // C reference: x = 42; a = splitmix64(); b = splitmix64(); s = {lo(a), hi(a), lo(b), hi(b)}.
    const p = new Prng(42);
    expect(p.state().s).toEqual([803958421, 3184996902, 2993090819, 686809907]);
    expect(draws(p, 6)).toEqual([1776835114, 4165204688, 17111135, 2317295270, 2792088233, 2554630222]);
  });
});

describe('Prng: determinism and state', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    expect(draws(new Prng(7), 100)).toEqual(draws(new Prng(7), 100));
    expect(draws(new Prng(7), 100)).not.toEqual(draws(new Prng(8), 100));
    expect(draws(new Prng(-1), 10)).not.toEqual(draws(new Prng(1), 10));
    expect(draws(new Prng(Number.MAX_SAFE_INTEGER), 10)).toEqual(draws(new Prng(Number.MAX_SAFE_INTEGER), 10));
  });

  it('rejects seeds that are not safe integers', () => {
    expect(() => new Prng(1.5)).toThrow(/safe integer/);
    expect(() => new Prng(Number.NaN)).toThrow(/safe integer/);
    expect(() => new Prng(2 ** 60)).toThrow(/safe integer/);
  });

  it('round-trips its state through JSON mid-stream, including the cached normal spare', () => {
    const p = new Prng(123);
    draws(p, 17);
    p.normal(); // leaves the polar method's second value cached
    const saved = p.state();
    expect(saved.spare).not.toBeNull();
    const q = Prng.fromState(JSON.parse(JSON.stringify(saved)) as PrngState);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < 500; i++) {
      a.push(p.normal(), p.uniform(), p.nextU32(), p.int(1000));
      b.push(q.normal(), q.uniform(), q.nextU32(), q.int(1000));
    }
    expect(b).toEqual(a);
    expect(q.state()).toEqual(p.state());
  });

  it('state without a spare continues identically too', () => {
    const p = new Prng(5);
    p.normal();
    p.normal(); // consumes the spare
    expect(p.state().spare).toBeNull();
    const q = Prng.fromState(p.state());
    expect(q.fillNormal(new Float64Array(101))).toEqual(p.fillNormal(new Float64Array(101)));
  });

  it('state() is a snapshot, not a live view', () => {
    const p = new Prng(1);
    const s = p.state();
    const copy = JSON.stringify(s);
    p.nextU32();
    expect(JSON.stringify(s)).toBe(copy);
  });

  it('fromState rejects malformed states with a message naming the problem', () => {
    const bad = (v: unknown) => () => Prng.fromState(v as PrngState);
    expect(bad(null)).toThrow(/object/);
    expect(bad({ algorithm: 'pcg32', s: [1, 2, 3, 4], spare: null })).toThrow(/algorithm "pcg32"/);
    expect(bad({ algorithm: 'xoshiro128**', s: [1, 2, 3], spare: null })).toThrow(/four unsigned 32-bit/);
    expect(bad({ algorithm: 'xoshiro128**', s: [1, 2, 3, 2 ** 32], spare: null })).toThrow(/four unsigned 32-bit/);
    expect(bad({ algorithm: 'xoshiro128**', s: [1, -2, 3, 4], spare: null })).toThrow(/four unsigned 32-bit/);
    expect(bad({ algorithm: 'xoshiro128**', s: [0, 0, 0, 0], spare: null })).toThrow(/all zero/);
    expect(bad({ algorithm: 'xoshiro128**', s: [1, 2, 3, 4], spare: 'x' })).toThrow(/spare/);
    expect(bad({ algorithm: 'xoshiro128**', s: [1, 2, 3, 4], spare: Number.NaN })).toThrow(/spare/);
  });
});

describe('Prng: distributions', () => {
  // Bounds are 5 standard errors of the estimator: a correct generator fails with probability < 1e-6 per check,
  // and the seeds are fixed, so the tests are deterministic anyway.
  const N = 200_000;

  it('normal(): mean, variance, fourth moment and 1-sigma mass match N(0, 1)', () => {
    const p = new Prng(2024);
    let s1 = 0;
    let s2 = 0;
    let s4 = 0;
    let within1 = 0;
    for (let i = 0; i < N; i++) {
      const z = p.normal();
      s1 += z;
      s2 += z * z;
      s4 += z ** 4;
      if (Math.abs(z) < 1) within1++;
    }
    const mean = s1 / N;
    const m2 = s2 / N;
    const m4 = s4 / N;
    // SE(mean) = 1/√N; SE(E z²) = √(Var z²/N) = √(2/N); SE(E z⁴) = √((E z⁸ − 9)/N) = √(96/N).
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(m2 - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    expect(Math.abs(m4 - 3)).toBeLessThan(5 * Math.sqrt(96 / N));
    // P(|z| < 1) = erf(1/√2) = 0.682689…; SE = √(p(1−p)/N).
    const pr = 0.6826894921370859;
    expect(Math.abs(within1 / N - pr)).toBeLessThan(5 * Math.sqrt((pr * (1 - pr)) / N));
  });

  it('fillNormal(): applies mean and std, same stream as normal(), for float32 and float64', () => {
    const out = new Float32Array(N);
    new Prng(9).fillNormal(out, 3, 0.5);
    let s1 = 0;
    let s2 = 0;
    for (const v of out) {
      s1 += v;
      s2 += (v - 3) ** 2;
    }
    // SE(mean) = σ/√N; SE(variance) = σ²√(2/N).
    expect(Math.abs(s1 / N - 3)).toBeLessThan((5 * 0.5) / Math.sqrt(N));
    expect(Math.abs(s2 / N - 0.25)).toBeLessThan(5 * 0.25 * Math.sqrt(2 / N));

    const q = new Prng(9);
    const ref = Array.from({ length: 11 }, () => q.normal());
    expect(Array.from(new Prng(9).fillNormal(new Float64Array(11)))).toEqual(ref);
  });

  it('uniform() and fillUniform() stay in [0, 1) with mean 1/2 and variance 1/12', () => {
    const p = new Prng(77);
    let s1 = 0;
    let s2 = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < N; i++) {
      const u = p.uniform();
      s1 += u;
      s2 += (u - 0.5) ** 2;
      min = Math.min(min, u);
      max = Math.max(max, u);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    // SE(mean) = √(1/12/N); Var((u−½)²) = 1/80 − 1/144 = 1/180, so SE = √(1/180/N).
    expect(Math.abs(s1 / N - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(s2 / N - 1 / 12)).toBeLessThan(5 * Math.sqrt(1 / 180 / N));

    for (const arr of [new Float32Array(N), new Float64Array(N)]) {
      new Prng(3).fillUniform(arr);
      let s = 0;
      let outside = 0;
      for (const u of arr) {
        if (!(u >= 0 && u < 1)) outside++;
        s += u;
      }
      expect(outside).toBe(0);
      expect(Math.abs(s / N - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    }
  });

  it('fillUniform(Float32Array) never produces exactly 1 even for the largest output', () => {
    // The 24-bit path maps the largest output 2^32−1 to 1 − 2^−24, which float32 represents exactly.
    const p = Prng.fromState({ algorithm: 'xoshiro128**', s: [1, 2, 3, 4], spare: null });
    const out = p.fillUniform(new Float32Array(1000));
    expect(Math.max(...out)).toBeLessThan(1);
  });

  it('int(bound) is unbiased: every residue within 5 standard errors', () => {
    const p = new Prng(11);
    const bound = 7;
    const counts = new Array<number>(bound).fill(0);
    for (let i = 0; i < N; i++) counts[p.int(bound)]++;
    const e = N / bound;
    const se = Math.sqrt(N * (1 / bound) * (1 - 1 / bound));
    for (const c of counts) expect(Math.abs(c - e)).toBeLessThan(5 * se);
    expect(() => p.int(0)).toThrow(/bound/);
    expect(() => p.int(2.5)).toThrow(/bound/);
    expect(p.int(1)).toBe(0);
    const big = p.int(2 ** 32);
    expect(Number.isInteger(big) && big >= 0 && big < 2 ** 32).toBe(true);
  });
});

describe('Prng: permutation', () => {
  it('returns a permutation of 0..n-1', () => {
    for (const n of [0, 1, 2, 10, 1000]) {
      const perm = new Prng(n).permutation(n);
      expect(perm).toBeInstanceOf(Uint32Array);
      expect(perm.length).toBe(n);
      const sorted = Array.from(perm).sort((a, b) => a - b);
      expect(sorted).toEqual(Array.from({ length: n }, (_, i) => i));
    }
  });

  it('is deterministic and actually shuffles', () => {
    const a = new Prng(5).permutation(100);
    expect(new Prng(5).permutation(100)).toEqual(a);
    expect(new Prng(6).permutation(100)).not.toEqual(a);
    let fixed = 0;
    for (let i = 0; i < 100; i++) if (a[i] === i) fixed++;
    // Expected number of fixed points of a random permutation is 1 (Poisson(1)); 10 has probability < 1e-7.
    expect(fixed).toBeLessThan(10);
  });

  it('makes all 6 orders of 3 items equally likely (within 5 standard errors)', () => {
    const p = new Prng(99);
    const trials = 60_000;
    const counts = new Map<string, number>();
    for (let i = 0; i < trials; i++) {
      const key = p.permutation(3).join(',');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    const se = Math.sqrt(trials * (1 / 6) * (5 / 6));
    for (const c of counts.values()) expect(Math.abs(c - trials / 6)).toBeLessThan(5 * se);
  });

  it('rejects invalid sizes', () => {
    expect(() => new Prng(0).permutation(-1)).toThrow(/permutation size/);
    expect(() => new Prng(0).permutation(1.5)).toThrow(/permutation size/);
  });
});

describe('Prng: split', () => {
  it('derives a deterministic child stream distinct from the parent and from siblings', () => {
    const p = new Prng(1);
    const c1 = p.split();
    const c2 = p.split();
    const afterParent = draws(p, 50);
    const s1 = draws(c1, 50);
    const s2 = draws(c2, 50);
    expect(s1).not.toEqual(s2);
    expect(s1).not.toEqual(afterParent);
    expect(s2).not.toEqual(afterParent);
    // No shared outputs at all between the streams (a shared 32-bit value is a 1-in-~1e6 event per pair of 50).
    expect(new Set([...s1, ...s2, ...afterParent]).size).toBe(150);

    const q = new Prng(1);
    expect(draws(q.split(), 50)).toEqual(s1);
  });

  it('advances the parent by exactly four outputs and keeps the parent spare', () => {
    const p = new Prng(2);
    p.normal();
    const spare = p.state().spare;
    const ref = Prng.fromState(p.state());
    p.split();
    draws(ref, 4);
    expect(p.state()).toEqual(ref.state());
    expect(p.state().spare).toBe(spare);
  });

  it('grandchildren differ from children and parent', () => {
    const p = new Prng(3);
    const c = p.split();
    const g = c.split();
    const streams = [draws(p, 20), draws(c, 20), draws(g, 20)].map((s) => s.join(','));
    expect(new Set(streams).size).toBe(3);
    expect(g.state().spare).toBeNull();
  });
});

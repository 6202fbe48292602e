import { describe, expect, it } from 'vitest';
import { mixSeed, mulberry32, seededPermutation } from './shuffle.js';

describe('mulberry32', () => {
  it('matches the reference C implementation', () => {
    // Printed by the reference C code (uint32_t arithmetic) compiled with gcc.
    const a = mulberry32(0);
    expect(Array.from({ length: 5 }, a)).toEqual([1144304738, 1416247, 958946056, 627933444, 2007157716]);
    const b = mulberry32(123456789);
    expect(Array.from({ length: 5 }, b)).toEqual([1107202814, 4169434471, 3372958138, 885470128, 1301683845]);
  });
});

describe('seededPermutation', () => {
  it('is a deterministic permutation that depends on the seed', () => {
    const p = seededPermutation(1000, 7);
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(seededPermutation(1000, 7)).toEqual(p);
    expect(seededPermutation(1000, 8)).not.toEqual(p);
    expect(seededPermutation(0, 1).length).toBe(0);
    expect(Array.from(seededPermutation(1, 1))).toEqual([0]);
  });

  it('puts each item first equally often (within 5 standard errors)', () => {
    const n = 4;
    const trials = 40_000;
    const counts = new Array<number>(n).fill(0);
    for (let s = 0; s < trials; s++) counts[seededPermutation(n, mixSeed(1, s))[0]]++;
    const se = Math.sqrt(trials * (1 / n) * (1 - 1 / n));
    for (const c of counts) expect(Math.abs(c - trials / n)).toBeLessThan(5 * se);
  });
});

describe('mixSeed', () => {
  it('separates nearby seeds and streams, including seeds beyond 32 bits', () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 50; seed++) for (let e = 0; e < 50; e++) seen.add(mixSeed(seed, e));
    expect(seen.size).toBe(2500);
    expect(mixSeed(1, 0)).not.toBe(mixSeed(1 + 2 ** 32, 0));
    expect(mixSeed(3, 4)).toBe(mixSeed(3, 4));
  });
});

import { describe, expect, it } from 'vitest';
import { FLOAT16_MAX, float16Bits, float16Value, fromFloat16, toFloat16 } from './float16.js';

describe('float16 conversion', () => {
  it('gives the IEEE binary16 bits of exact values', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [FLOAT16_MAX, 0x7bff],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [1023 * 2 ** -24, 0x03ff], // largest subnormal
      [0.1, 0x2e66], // numpy: np.float16(0.1).view(np.uint16) == 0x2e66
      [1 / 3, 0x3555],
    ];
    for (const [x, h] of cases) expect(float16Bits(x).toString(16), String(x)).toBe(h.toString(16));
  });

  it('rounds to nearest with ties to even, in the normal and the subnormal range', () => {
    const ulp1 = 2 ** -10; // float16 spacing at 1
    expect(float16Bits(1 + ulp1 / 2)).toBe(0x3c00); // tie: down to the even 1.0
    expect(float16Bits(1 + (3 * ulp1) / 2)).toBe(0x3c02); // tie: up to the even 1 + 2 ulp
    expect(float16Bits(1 + ulp1 / 2 + 2 ** -20)).toBe(0x3c01); // just above the tie: up
    expect(float16Bits(2 ** -25)).toBe(0x0000); // tie between 0 and the smallest subnormal: 0 is even
    expect(float16Bits(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 subnormal ulps: 2
    expect(float16Bits(1.5 * 2 ** -25)).toBe(0x0001);
    expect(float16Bits(2 ** -26)).toBe(0x0000);
    expect(float16Bits(2047 * 2 ** -25)).toBe(0x0400); // rounds up out of the subnormals into the smallest normal
    expect(float16Bits(65519)).toBe(0x7bff); // below the midpoint to 65536: stays finite
    expect(float16Bits(65520)).toBe(-1); // the midpoint rounds to even, i.e. to Infinity: refused
  });

  it('round-trips every finite float16 and refuses what float16 cannot hold', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue; // Inf and NaN
      expect(float16Bits(float16Value(h))).toBe(h);
    }
    expect(float16Bits(Number.POSITIVE_INFINITY)).toBe(-1);
    expect(float16Bits(Number.NaN)).toBe(-1);
    expect(() => toFloat16([1, 2, 1e5], "parameter 'w'")).toThrow(
      /parameter 'w': element 2 is 100000, which float16 cannot hold \(its finite range is ±65504\)/,
    );
    const w = Float32Array.from([0.1234, -3.5, 1e-3, 300.7]);
    const back = fromFloat16(toFloat16(w));
    // Relative error at most half a float16 ulp: 2^-11 (normals).
    for (let i = 0; i < w.length; i++) expect(Math.abs(back[i] - w[i]) / Math.abs(w[i])).toBeLessThanOrEqual(2 ** -11);
  });
});

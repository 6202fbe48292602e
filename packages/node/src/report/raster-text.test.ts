import { describe, expect, it } from 'vitest';
import { glyph } from './font-5x7.js';
import { formatTick } from './raster-text.js';

describe('font and tick labels', () => {
  it('has a 5×7 glyph for every character tick labels use, with fallbacks', () => {
    for (const ch of '0123456789.-+eABCXYZ ') {
      const g = glyph(ch);
      expect(g.length).toBe(7);
      for (const row of g) expect(row).toMatch(/^[.#]{5}$/);
    }
    expect(glyph('x')).toBe(glyph('X'));
    expect(glyph('€')).toBe(glyph('?'));
    expect(glyph('1')).not.toEqual(glyph('7'));
  });

  it('formats ticks compactly', () => {
    expect(formatTick(0)).toBe('0');
    expect(formatTick(123.456)).toBe('123.5');
    expect(formatTick(-0.25)).toBe('-0.25');
    expect(formatTick(1234567)).toBe('1.23e+6');
    expect(formatTick(0.00012)).toBe('1.2e-4');
    expect(formatTick(2e-5)).toBe('2e-5');
  });
});

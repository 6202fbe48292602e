/**
 * Raster drawing for the charts: an RGB canvas with clipped rectangles, lines and text in the built-in 5×7 font,
 * the width of a text, and compact tick labels.
 */
import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './font-5x7.js';

export type Rgb = readonly [number, number, number];

/** An RGB canvas with clipped drawing primitives. */
export class Raster {
  readonly pixels: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb,
  ) {
    this.pixels = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.pixels.set(background, i * 3);
  }
  set(x: number, y: number, c: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.pixels.set(c, (Math.floor(y) * this.width + Math.floor(x)) * 3);
  }
  rect(x: number, y: number, w: number, h: number, c: Rgb): void {
    for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) this.set(x + i, y + j, c);
  }
  /** Bresenham's line, `thick` pixels square per point. */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, thick = 1): void {
    let x = Math.round(x0);
    let y = Math.round(y0);
    const xe = Math.round(x1);
    const ye = Math.round(y1);
    const dx = Math.abs(xe - x);
    const dy = -Math.abs(ye - y);
    const sx = x < xe ? 1 : -1;
    const sy = y < ye ? 1 : -1;
    let err = dx + dy;
    for (;;) {
      this.rect(x, y, thick, thick, c);
      if (x === xe && y === ye) return;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y += sy;
      }
    }
  }
  text(s: string, x: number, y: number, c: Rgb, scale: number): void {
    for (let k = 0; k < s.length; k++) {
      const rows = glyph(s[k]);
      for (let r = 0; r < GLYPH_HEIGHT; r++) {
        for (let col = 0; col < GLYPH_WIDTH; col++) {
          if (rows[r][col] === '#') this.rect(x + (k * GLYPH_ADVANCE + col) * scale, y + r * scale, scale, scale, c);
        }
      }
    }
  }
}

/** Width in pixels of `s` drawn at `scale` (no trailing spacing column). */
export function textWidth(s: string, scale = 1): number {
  return s.length === 0 ? 0 : (s.length * GLYPH_ADVANCE - 1) * scale;
}

/** A short tick label: up to 4 significant digits, exponent notation for very large or small magnitudes. */
export function formatTick(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2).replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(4)));
}

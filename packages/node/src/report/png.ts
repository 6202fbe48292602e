/**
 * Minimal PNG output for reports: an encoder (8-bit gray, RGB, RGBA), a tiler that turns images in [0, 1] into one
 * grid picture, and a loss-curve chart drawn with a built-in 5×7 font.
 *
 * @example
 * const g = imageGrid(samples, 64, 28, 28, 8);
 * writeFileSync('samples.png', encodePng(g.width, g.height, 1, g.pixels));
 * writeFileSync('loss.png', lineChartPng([{ name: 'train', values: losses, color: [31, 119, 180] }], { width: 640, height: 360 }));
 */
import { deflateSync } from 'node:zlib';
import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './font-5x7.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 as PNG (and zlib, gzip) define it: reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  // The CRC covers the chunk type and data, not the length.
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Filter each scanline with the PNG filter (None, Sub, Up, Average, Paeth) that minimizes the sum of absolute
 * values as signed bytes, the heuristic the PNG specification recommends; returns filter-byte-prefixed rows.
 */
function filterScanlines(width: number, height: number, bpp: number, pixels: Uint8Array): Uint8Array {
  const stride = width * bpp;
  const out = new Uint8Array(height * (stride + 1));
  const candidates = Array.from({ length: 5 }, () => new Uint8Array(stride));
  const zero = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = pixels.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : zero;
    let best = 0;
    let bestScore = Number.POSITIVE_INFINITY;
    for (let f = 0; f < 5; f++) {
      const line = candidates[f];
      let score = 0;
      for (let i = 0; i < stride; i++) {
        const a = i >= bpp ? row[i - bpp] : 0;
        const b = prev[i];
        const c = i >= bpp ? prev[i - bpp] : 0;
        const predictor = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : paeth(a, b, c);
        const v = (row[i] - predictor) & 0xff;
        line[i] = v;
        score += v < 128 ? v : 256 - v;
      }
      if (score < bestScore) {
        bestScore = score;
        best = f;
      }
    }
    out[y * (stride + 1)] = best;
    out.set(candidates[best], y * (stride + 1) + 1);
  }
  return out;
}

const COLOR_TYPE: Readonly<Record<1 | 3 | 4, number>> = { 1: 0, 3: 2, 4: 6 }; // gray, RGB, RGBA

/** Encode 8-bit pixels (row-major, channels interleaved) as a PNG: 1 = gray, 3 = RGB, 4 = RGBA. */
export function encodePng(width: number, height: number, channels: 1 | 3 | 4, pixels: Uint8Array): Buffer {
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 0x7fffffff) throw new Error(`PNG ${name} must be a positive integer, got ${v}`);
  }
  const colorType = COLOR_TYPE[channels];
  if (colorType === undefined) throw new Error(`PNG channels must be 1 (gray), 3 (RGB) or 4 (RGBA), got ${channels}`);
  if (pixels.length !== width * height * channels) {
    throw new Error(`PNG pixels: expected ${width}×${height}×${channels} = ${width * height * channels} bytes, got ${pixels.length}`);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = colorType;
  ihdr[10] = 0; // compression: deflate
  ihdr[11] = 0; // filter method: adaptive
  ihdr[12] = 0; // no interlace
  const idat = deflateSync(filterScanlines(width, height, channels, pixels), { level: 9 });
  return Buffer.concat([Buffer.from(SIGNATURE), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}

export interface GrayImage {
  width: number;
  height: number;
  /** One byte per pixel, row-major: pass to `encodePng(width, height, 1, pixels)`. */
  pixels: Uint8Array;
}

export interface ImageGridOptions {
  /** Pixels of padding between and around tiles (default 2). */
  pad?: number;
  /** Integer upscaling of each tile, nearest neighbour (default 1). */
  scale?: number;
  /** Gray level of the padding, 0–255 (default 128, visible against both black and white digits). */
  padValue?: number;
}

/**
 * Tile `n` images of h×w values in [0, 1] (row-major, one after another) into a grid with `cols` columns
 * (fewer if n < cols), left to right then top to bottom. Values map to round(255·v), clamped to [0, 1]; NaN → 0.
 */
export function imageGrid(images: Float32Array, n: number, h: number, w: number, cols: number, options: ImageGridOptions = {}): GrayImage {
  const pad = options.pad ?? 2;
  const scale = options.scale ?? 1;
  const padValue = options.padValue ?? 128;
  for (const [name, v, min] of [
    ['n', n, 1],
    ['h', h, 1],
    ['w', w, 1],
    ['cols', cols, 1],
    ['pad', pad, 0],
    ['scale', scale, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new Error(`imageGrid ${name} must be an integer ≥ ${min}, got ${v}`);
  }
  if (images.length < n * h * w) {
    throw new Error(`imageGrid: ${n} images of ${h}×${w} need ${n * h * w} values, got ${images.length}`);
  }
  const c = Math.min(cols, n);
  const rows = Math.ceil(n / c);
  const tileW = w * scale;
  const tileH = h * scale;
  const width = pad + c * (tileW + pad);
  const height = pad + rows * (tileH + pad);
  const pixels = new Uint8Array(width * height).fill(padValue);
  for (let k = 0; k < n; k++) {
    const x0 = pad + (k % c) * (tileW + pad);
    const y0 = pad + Math.floor(k / c) * (tileH + pad);
    for (let y = 0; y < tileH; y++) {
      for (let x = 0; x < tileW; x++) {
        const v = images[k * h * w + Math.floor(y / scale) * w + Math.floor(x / scale)];
        const g = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0; // NaN fails v > 0 and becomes 0
        pixels[(y0 + y) * width + x0 + x] = g;
      }
    }
  }
  return { width, height, pixels };
}

export type Rgb = readonly [number, number, number];

/** An RGB canvas with clipped drawing primitives. */
class Raster {
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

export interface Series {
  name: string;
  values: number[];
  color: Rgb;
}

export interface LineChartOptions {
  width: number;
  height: number;
  title?: string;
  /** The x value of each series' first point, labelled under the axis (default 0; 1 for epochs 1…N). */
  xFirst?: number;
}

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];
const GRAY: Rgb = [225, 225, 225];

/**
 * A line chart of one or more series against their index (step or epoch, from `xFirst`), as an RGB PNG: axes, min/max tick labels
 * on both axes, a legend, and an optional title. Non-finite values are skipped (the line breaks there).
 */
export function lineChartPng(series: Series[], options: LineChartOptions): Buffer {
  const { width, height } = options;
  // Titles and names are drawn in capitals: the font's only lower-case glyph is the exponent's e.
  const title = options.title?.toUpperCase();
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 64 || height < 48) {
    throw new Error(`lineChartPng needs an integer size of at least 64×48, got ${width}×${height}`);
  }
  const s = Math.max(1, Math.floor(Math.min(width, height) / 300)); // font scale: 2 from 600×600 up
  const img = new Raster(width, height, WHITE);

  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let steps = 0;
  for (const sr of series) {
    steps = Math.max(steps, sr.values.length);
    for (const v of sr.values) {
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  if (lo > hi) {
    lo = 0;
    hi = 1;
  } else if (lo === hi) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= d;
    hi += d;
  }
  const yLabels = [formatTick(hi), formatTick(lo)];
  const lineH = GLYPH_HEIGHT * s;
  const left = Math.max(...yLabels.map((l) => textWidth(l, s))) + 8 * s;
  const top = title ? lineH + 8 * s : 6 * s;
  const bottom = lineH + 8 * s;
  const xFirst = options.xFirst ?? 0;
  if (!Number.isSafeInteger(xFirst)) throw new Error(`lineChartPng: xFirst must be an integer, got ${xFirst}`);
  const right = 8 * s + textWidth(String(xFirst + Math.max(steps - 1, 0)), s) / 2;
  const x0 = left;
  const x1 = width - 1 - Math.ceil(right);
  const y0 = top;
  const y1 = height - 1 - bottom;
  if (x1 - x0 < 8 || y1 - y0 < 8) throw new Error(`lineChartPng: ${width}×${height} leaves no room for the plot`);

  const px = (i: number): number => (steps <= 1 ? (x0 + x1) / 2 : x0 + (i * (x1 - x0)) / (steps - 1));
  const py = (v: number): number => y1 - ((v - lo) * (y1 - y0)) / (hi - lo);

  // Guide lines at the min and max, then the axes on top.
  img.line(x0, y0, x1, y0, GRAY);
  img.line(x0 + 1, y1, x1, y1, GRAY);
  for (const sr of series) {
    let prev: [number, number] | undefined;
    sr.values.forEach((v, i) => {
      if (!Number.isFinite(v)) {
        prev = undefined;
        return;
      }
      const p: [number, number] = [px(i), py(v)];
      if (prev) img.line(prev[0], prev[1], p[0], p[1], sr.color, s);
      else if (sr.values.length === 1 || !Number.isFinite(sr.values[i + 1] ?? Number.NaN))
        img.rect(p[0] - s, p[1] - s, 2 * s + 1, 2 * s + 1, sr.color);
      prev = p;
    });
  }
  img.line(x0, y0, x0, y1, BLACK, 1);
  img.line(x0, y1, x1, y1, BLACK, 1);

  // Tick marks and labels: y max and min left of the axis, x first and last index below it.
  for (const [label, y] of [
    [yLabels[0], y0],
    [yLabels[1], y1],
  ] as const) {
    img.line(x0 - 3 * s, y, x0 - 1, y, BLACK);
    img.text(label, x0 - 4 * s - textWidth(label, s), Math.round(y - lineH / 2), BLACK, s);
  }
  const xLabels: [string, number][] = [[String(xFirst), px(0)]];
  if (steps > 1) xLabels.push([String(xFirst + steps - 1), px(steps - 1)]);
  for (const [label, x] of xLabels) {
    img.line(x, y1 + 1, x, y1 + 3 * s, BLACK);
    img.text(label, Math.round(x - textWidth(label, s) / 2), y1 + 5 * s, BLACK, s);
  }

  // Legend, top right inside the plot: a colour swatch and the series name per line.
  series.forEach((sr, k) => {
    const ly = y0 + 4 * s + k * (lineH + 3 * s);
    const name = sr.name.toUpperCase();
    const lx = x1 - 4 * s - textWidth(name, s);
    img.rect(lx - 12 * s, ly + 2 * s, 8 * s, 3 * s, sr.color);
    img.text(name, lx, ly, BLACK, s);
  });

  if (title) img.text(title, Math.round((width - textWidth(title, s)) / 2), 4 * s, BLACK, s);
  return encodePng(width, height, 3, img.pixels);
}

export interface BarChartOptions extends LineChartOptions {
  /** A short label under each group of bars (drawn in capitals with the 5×7 font). */
  groups: string[];
  /** A log10 value axis from the decade below the smallest value to the decade above the largest (values > 0). */
  log?: boolean;
}

/**
 * A grouped bar chart as an RGB PNG: group i holds one bar per series, of height series.values[i]; axes, min/max tick
 * labels, group labels, a legend above the plot and an optional title. Non-finite values (and values ≤ 0 on a log
 * axis) get no bar.
 */
export function barChartPng(series: Series[], options: BarChartOptions): Buffer {
  const { width, height, groups } = options;
  const log = options.log ?? false;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 64 || height < 48) {
    throw new Error(`barChartPng needs an integer size of at least 64×48, got ${width}×${height}`);
  }
  if (groups.length === 0) throw new Error('barChartPng needs at least one group');
  for (const sr of series) {
    if (sr.values.length !== groups.length)
      throw new Error(`barChartPng: series '${sr.name}' has ${sr.values.length} values for ${groups.length} groups`);
  }
  const s = Math.max(1, Math.floor(Math.min(width, height) / 300));
  const img = new Raster(width, height, WHITE);
  const shown = (v: number) => Number.isFinite(v) && (!log || v > 0);
  const t = (v: number) => (log ? Math.log10(v) : v);
  const vals = series.flatMap((sr) => sr.values.filter(shown).map(t));
  let lo = vals.length ? Math.min(...vals) : 0;
  let hi = vals.length ? Math.max(...vals) : 1;
  if (log) {
    lo = Math.floor(lo);
    hi = Math.max(Math.ceil(hi), lo + 1);
  } else {
    // Linear bars grow from 0.
    lo = Math.min(0, lo);
    hi = Math.max(0, hi);
    if (lo === hi) hi = lo + 1;
  }
  const label = (v: number) => formatTick(log ? 10 ** v : v);
  const yLabels = [label(hi), label(lo)];
  const lineH = GLYPH_HEIGHT * s;
  const title = options.title?.toUpperCase();
  const legendH = series.length * (lineH + 3 * s);
  const left = Math.max(...yLabels.map((l) => textWidth(l, s))) + 8 * s;
  const top = (title ? lineH + 8 * s : 6 * s) + legendH + 4 * s;
  const bottom = lineH + 8 * s;
  const x0 = left;
  const x1 = width - 1 - 8 * s;
  const y0 = top;
  const y1 = height - 1 - bottom;
  if (x1 - x0 < 8 || y1 - y0 < 8) throw new Error(`barChartPng: ${width}×${height} leaves no room for the plot`);
  const py = (v: number): number => y1 - ((v - lo) * (y1 - y0)) / (hi - lo);
  const zero = log ? y1 : py(0);

  img.line(x0, y0, x1, y0, GRAY);
  const gw = (x1 - x0) / groups.length;
  const bw = Math.max(1, Math.floor((gw * 0.8) / Math.max(1, series.length)));
  groups.forEach((name, i) => {
    const gx = x0 + i * gw + (gw - bw * series.length) / 2;
    series.forEach((sr, k) => {
      const v = sr.values[i];
      if (!shown(v)) return;
      const y = py(t(v));
      const yt = Math.round(Math.min(y, zero));
      img.rect(Math.round(gx + k * bw), yt, Math.max(1, bw - (bw > 2 ? 1 : 0)), Math.max(1, Math.round(Math.abs(zero - y))), sr.color);
    });
    const g = name.toUpperCase();
    img.text(g, Math.round(x0 + (i + 0.5) * gw - textWidth(g, s) / 2), y1 + 5 * s, BLACK, s);
  });
  img.line(x0, y0, x0, y1, BLACK, 1);
  img.line(x0, Math.round(zero), x1, Math.round(zero), BLACK, 1);
  for (const [l, y] of [
    [yLabels[0], y0],
    [yLabels[1], y1],
  ] as const) {
    img.line(x0 - 3 * s, y, x0 - 1, y, BLACK);
    img.text(l, x0 - 4 * s - textWidth(l, s), Math.round(y - lineH / 2), BLACK, s);
  }
  const legendTop = title ? lineH + 8 * s : 6 * s;
  series.forEach((sr, k) => {
    const ly = legendTop + k * (lineH + 3 * s);
    img.rect(x0, ly + 2 * s, 8 * s, 3 * s, sr.color);
    img.text(sr.name.toUpperCase(), x0 + 12 * s, ly, BLACK, s);
  });
  if (title) img.text(title, Math.round((width - textWidth(title, s)) / 2), 4 * s, BLACK, s);
  return encodePng(width, height, 3, img.pixels);
}

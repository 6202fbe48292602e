/**
 * Charts as RGB PNGs, drawn with the 5×7 font: a line chart (loss curves) and a grouped bar chart (gradient variance).
 *
 * @example
 * writeFileSync('loss.png', lineChartPng([{ name: 'train', values: losses, color: [31, 119, 180] }], { width: 640, height: 360 }));
 */
import { GLYPH_HEIGHT } from './font-5x7.js';
import { encodePng } from './png-codec.js';
import { formatTick, Raster, type Rgb, textWidth } from './raster-text.js';

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

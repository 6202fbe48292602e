/**
 * The grouped bar chart of `onnxvae variance` as an RGB PNG, drawn with the 5×7 font. The loss curves are SVG charts
 * rendered by librsvg (line-chart-svg.ts); this one stays synchronous and raster until the variance command moves
 * to the SVG charts too.
 *
 * @example
 * writeFileSync('var.png', barChartPng([{ name: 'reparam', values: [1, 2], color: [31, 119, 180] }], { width: 640, height: 360, groups: ['a', 'b'] }));
 */
import { GLYPH_HEIGHT } from './font-5x7.js';
import { encodePng } from './png-codec.js';
import { formatTick, Raster, type Rgb, textWidth } from './raster-text.js';

export interface Series {
  name: string;
  values: number[];
  color: Rgb;
}

export interface BarChartSize {
  width: number;
  height: number;
  title?: string;
}

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];
const GRAY: Rgb = [225, 225, 225];

export interface BarChartOptions extends BarChartSize {
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

/**
 * The grouped bar chart of `onnxvae variance` as SVG, in the style of the loss curves (line-chart-svg.ts): nice
 * ticks, grid lines, tick labels in the system's sans-serif font, a legend and a title; svgToPng renders it.
 *
 * @example
 * const png = await svgToPng(barChartSvg([{ name: 'reparam', values: [1e-3, 2e-2], color: '#1f77b4' }], { width: 640, height: 420, groups: ['E.FC1.W', 'ALL'], log: true }));
 */
import { niceTicks, tickLabel, xmlText } from './line-chart-svg.js';

export interface BarSeries {
  name: string;
  /** One value per group; a non-finite value (or one ≤ 0 on a log axis) gets no bar. */
  values: number[];
  /** A CSS colour, e.g. '#1f77b4'. */
  color: string;
}

export interface BarChartSvgOptions {
  width: number;
  height: number;
  /** A label under each group of bars. */
  groups: string[];
  title?: string;
  yLabel?: string;
  /** A log10 value axis over whole decades around the values (values > 0). */
  log?: boolean;
}

/** Grouped bars: group i holds one bar per series, of height series.values[i]. */
export function barChartSvg(series: BarSeries[], o: BarChartSvgOptions): string {
  const { width, height, groups } = o;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 160 || height < 120)
    throw new Error(`barChartSvg needs an integer size of at least 160×120, got ${width}×${height}`);
  if (groups.length === 0) throw new Error('barChartSvg needs at least one group');
  for (const s of series)
    if (s.values.length !== groups.length)
      throw new Error(`barChartSvg: series '${s.name}' has ${s.values.length} values for ${groups.length} groups`);
  const log = o.log ?? false;
  const shown = (v: number) => Number.isFinite(v) && (!log || v > 0);
  const t = (v: number) => (log ? Math.log10(v) : v);
  const vals = series.flatMap((s) => s.values.filter(shown).map(t));
  let lo = vals.length ? Math.min(...vals) : 0;
  let hi = vals.length ? Math.max(...vals) : 1;
  let ticks: number[];
  let label: (v: number) => string;
  if (log) {
    lo = Math.floor(lo);
    hi = Math.max(Math.ceil(hi), lo + 1);
    ticks = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
    label = (v) => `1e${v}`;
  } else {
    lo = Math.min(0, lo); // linear bars grow from 0
    hi = Math.max(0, hi);
    if (lo === hi) hi = lo + 1;
    const nt = niceTicks(lo, hi, 5);
    ticks = nt.ticks;
    if (ticks[ticks.length - 1] < hi) ticks.push(ticks[ticks.length - 1] + nt.step);
    hi = ticks[ticks.length - 1];
    lo = Math.min(lo, ticks[0]);
    label = (v) => tickLabel(v, nt.step);
  }
  const font = 'font-family="\'DejaVu Sans\', Arial, Helvetica, sans-serif"';
  const left = 22 + 7.5 * Math.max(...ticks.map((v) => label(v).length)) + (o.yLabel ? 18 : 0);
  const legendH = 8 + 18 * series.length;
  const top = (o.title ? 38 : 14) + legendH;
  const bottom = 40;
  const right = 16;
  const pw = width - left - right;
  const ph = height - top - bottom;
  if (pw < 40 || ph < 40) throw new Error(`barChartSvg: ${width}×${height} leaves no room for the plot`);
  const py = (v: number) => top + ph - ((v - lo) / (hi - lo)) * ph;
  const f = (v: number) => v.toFixed(1);
  const gw = pw / groups.length;
  const bw = (gw * 0.8) / Math.max(1, series.length);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    '<g stroke="#e3e3e3" stroke-width="1">',
    ...ticks.map((v) => `<line x1="${f(left)}" x2="${f(left + pw)}" y1="${f(py(v))}" y2="${f(py(v))}"/>`),
    '</g>',
    `<g ${font} font-size="12" fill="#333">`,
    ...ticks.map((v) => `<text x="${f(left - 6)}" y="${f(py(v) + 4)}" text-anchor="end">${xmlText(label(v))}</text>`),
    ...groups.map((g, i) => `<text x="${f(left + gw * (i + 0.5))}" y="${f(top + ph + 17)}" text-anchor="middle">${xmlText(g)}</text>`),
    '</g>',
  ];
  const base = log ? lo : 0;
  series.forEach((s, k) => {
    s.values.forEach((v, i) => {
      if (!shown(v)) return;
      const x = left + gw * i + gw * 0.1 + bw * k;
      const [ya, yb] = [py(t(v)), py(base)];
      const y = Math.min(ya, yb);
      out.push(
        `<rect x="${f(x)}" y="${f(y)}" width="${f(Math.max(1, bw - 1))}" height="${f(Math.max(1, Math.abs(yb - ya)))}" fill="${xmlText(s.color)}"/>`,
      );
    });
  });
  out.push(`<rect x="${f(left)}" y="${f(top)}" width="${f(pw)}" height="${f(ph)}" fill="none" stroke="#444" stroke-width="1"/>`);
  out.push(`<g ${font} fill="#111">`);
  if (o.title)
    out.push(`<text x="${f(width / 2)}" y="24" font-size="15" font-weight="bold" text-anchor="middle">${xmlText(o.title)}</text>`);
  if (o.yLabel)
    out.push(
      `<text transform="translate(16 ${f(top + ph / 2)}) rotate(-90)" font-size="13" text-anchor="middle">${xmlText(o.yLabel)}</text>`,
    );
  series.forEach((s, k) => {
    const y = (o.title ? 38 : 14) + 14 + 18 * k;
    out.push(`<rect x="${f(left + 4)}" y="${f(y - 10)}" width="14" height="10" fill="${xmlText(s.color)}"/>`);
    out.push(`<text x="${f(left + 24)}" y="${f(y)}" font-size="12">${xmlText(s.name)}</text>`);
  });
  out.push('</g>', '</svg>');
  return out.join('\n');
}

/**
 * Line charts as SVG (nice ticks, grid, axis titles, a legend) and SVG → PNG through sharp's librsvg, with the
 * machine's own fonts: loss-curve.png and loss-curve-steps.png. The interactive charts of report.html and the live
 * dashboard draw the same series with uPlot (run-page.ts); this is their still picture.
 *
 * @example
 * writeFileSync('elbo.png', await svgToPng(lineChartSvg([{ name: 'train', x: [1, 2, 3], y: [-120, -110, -105], color: '#1f77b4' }], { width: 720, height: 420 })));
 */
import sharp from 'sharp';

export interface LineSeries {
  name: string;
  /** The x value of each point (epochs, steps). */
  x: ArrayLike<number>;
  /** The y value of each point; non-finite values break the line. */
  y: ArrayLike<number>;
  /** A CSS colour, e.g. '#1f77b4'. */
  color: string;
}

export interface LineChartSvgOptions {
  width: number;
  height: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Ticks on whole numbers only (epochs, steps). */
  integerX?: boolean;
}

/** XML text: &, <, >, " and ' escaped. */
export const xmlText = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** Round tick positions covering [lo, hi]: steps of 1, 2 or 5 × 10^k, about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5, integer = false): { ticks: number[]; step: number } {
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) return { ticks: [], step: 1 };
  if (lo === hi) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.05;
    lo -= d;
    hi += d;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  if (integer) step = Math.max(1, Math.round(step));
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return { ticks, step };
}

/** A tick label with as many decimals as the step needs (1e4 and up, or below 1e-3, in exponent form). */
export function tickLabel(v: number, step: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1).replace('e+', 'e');
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(decimals).replace('-', '−');
}

/**
 * A line chart of the series as an SVG document of width × height pixels: a white background, grid lines at nice
 * ticks, tick labels, axis titles, an optional title and a legend. Series of one point are drawn as dots.
 */
export function lineChartSvg(series: LineSeries[], o: LineChartSvgOptions): string {
  const { width, height } = o;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 160 || height < 120)
    throw new Error(`lineChartSvg needs an integer size of at least 160×120, got ${width}×${height}`);
  let xlo = Number.POSITIVE_INFINITY;
  let xhi = Number.NEGATIVE_INFINITY;
  let ylo = Number.POSITIVE_INFINITY;
  let yhi = Number.NEGATIVE_INFINITY;
  for (const s of series) {
    if (s.x.length !== s.y.length) throw new Error(`lineChartSvg: series '${s.name}' has ${s.x.length} x and ${s.y.length} y values`);
    for (let i = 0; i < s.x.length; i++) {
      if (!Number.isFinite(s.x[i]) || !Number.isFinite(s.y[i])) continue;
      xlo = Math.min(xlo, s.x[i]);
      xhi = Math.max(xhi, s.x[i]);
      ylo = Math.min(ylo, s.y[i]);
      yhi = Math.max(yhi, s.y[i]);
    }
  }
  const empty = xlo > xhi;
  if (empty) [xlo, xhi, ylo, yhi] = [0, 1, 0, 1];
  const xt = niceTicks(xlo, xhi, 6, o.integerX);
  const yt = niceTicks(ylo, yhi, 5);
  // The y range widens to the ticks around the data, so the grid frames it; x stays the data's own range.
  const ys = [...yt.ticks];
  if (ys.length === 0 || ys[0] > ylo) ys.unshift((ys[0] ?? ylo) - yt.step);
  if (ys[ys.length - 1] < yhi) ys.push(ys[ys.length - 1] + yt.step);
  const [y0v, y1v] = [ys[0], ys[ys.length - 1]];
  if (xlo === xhi) [xlo, xhi] = [xlo - 1, xhi + 1];
  const xTicks = xt.ticks.filter((t) => t >= xlo - 1e-9 && t <= xhi + 1e-9);
  const yLabels = ys.map((v) => tickLabel(v, yt.step));
  const font = 'font-family="\'DejaVu Sans\', Arial, Helvetica, sans-serif"';
  const left = 22 + 7.5 * Math.max(...yLabels.map((l) => l.length)) + (o.yLabel ? 18 : 0);
  const top = o.title ? 38 : 16;
  const bottom = o.xLabel ? 56 : 36;
  const right = 22;
  const pw = width - left - right;
  const ph = height - top - bottom;
  const px = (v: number) => left + ((v - xlo) / (xhi - xlo)) * pw;
  const py = (v: number) => top + ph - ((v - y0v) / (y1v - y0v)) * ph;
  const f = (v: number) => v.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<g stroke="#e3e3e3" stroke-width="1">`,
    ...ys.map((v) => `<line x1="${f(left)}" x2="${f(left + pw)}" y1="${f(py(v))}" y2="${f(py(v))}"/>`),
    ...xTicks.map((v) => `<line x1="${f(px(v))}" x2="${f(px(v))}" y1="${f(top)}" y2="${f(top + ph)}"/>`),
    '</g>',
    `<g ${font} font-size="12" fill="#333">`,
    ...ys.map((v, i) => `<text x="${f(left - 6)}" y="${f(py(v) + 4)}" text-anchor="end">${xmlText(yLabels[i])}</text>`),
    ...xTicks.map((v) => `<text x="${f(px(v))}" y="${f(top + ph + 17)}" text-anchor="middle">${xmlText(tickLabel(v, xt.step))}</text>`),
    '</g>',
  ];
  for (const s of series) {
    let seg: string[] = [];
    const flush = () => {
      if (seg.length > 1)
        out.push(`<polyline fill="none" stroke="${xmlText(s.color)}" stroke-width="2" stroke-linejoin="round" points="${seg.join(' ')}"/>`);
      seg = [];
    };
    for (let i = 0; i < s.x.length; i++) {
      if (!Number.isFinite(s.x[i]) || !Number.isFinite(s.y[i])) {
        flush();
        continue;
      }
      seg.push(`${f(px(s.x[i]))},${f(py(s.y[i]))}`);
      // An isolated point (no finite neighbour) gets a dot, so a one-epoch run still shows its value.
      const prev = i > 0 && Number.isFinite(s.y[i - 1]);
      const next = i + 1 < s.x.length && Number.isFinite(s.y[i + 1]);
      if (!prev && !next) out.push(`<circle cx="${f(px(s.x[i]))}" cy="${f(py(s.y[i]))}" r="3.5" fill="${xmlText(s.color)}"/>`);
    }
    flush();
  }
  out.push(`<rect x="${f(left)}" y="${f(top)}" width="${f(pw)}" height="${f(ph)}" fill="none" stroke="#444" stroke-width="1"/>`);
  out.push(`<g ${font} fill="#111">`);
  if (o.title)
    out.push(`<text x="${f(width / 2)}" y="24" font-size="15" font-weight="bold" text-anchor="middle">${xmlText(o.title)}</text>`);
  if (o.xLabel)
    out.push(`<text x="${f(left + pw / 2)}" y="${f(height - 14)}" font-size="13" text-anchor="middle">${xmlText(o.xLabel)}</text>`);
  if (o.yLabel)
    out.push(
      `<text transform="translate(16 ${f(top + ph / 2)}) rotate(-90)" font-size="13" text-anchor="middle">${xmlText(o.yLabel)}</text>`,
    );
  if (empty) out.push(`<text x="${f(left + pw / 2)}" y="${f(top + ph / 2)}" font-size="13" text-anchor="middle">no data</text>`);
  out.push('</g>');
  // Legend: in the right-hand corner, top or bottom, with fewer points under it (ELBOs rise, losses fall).
  const lw = 30 + 7.2 * Math.max(0, ...series.map((s) => s.name.length));
  const lh = 8 + 18 * series.length;
  const lx = left + pw - lw - 8;
  let [high, low] = [0, 0];
  for (const s of series) {
    for (let i = 0; i < s.x.length; i++) {
      if (!Number.isFinite(s.y[i]) || px(s.x[i]) < lx - 8) continue;
      const yy = py(s.y[i]);
      if (yy < top + lh + 16) high++;
      if (yy > top + ph - lh - 16) low++;
    }
  }
  const ly = low <= high ? top + ph - lh - 8 : top + 8;
  if (series.length > 0) {
    out.push(`<g ${font} font-size="12" fill="#111">`);
    out.push(`<rect x="${f(lx)}" y="${f(ly)}" width="${f(lw)}" height="${f(lh)}" fill="#fff" fill-opacity="0.85" stroke="#bbb"/>`);
    series.forEach((s, k) => {
      const y = ly + 15 + 18 * k;
      out.push(
        `<line x1="${f(lx + 6)}" x2="${f(lx + 22)}" y1="${f(y - 4)}" y2="${f(y - 4)}" stroke="${xmlText(s.color)}" stroke-width="3"/>`,
      );
      out.push(`<text x="${f(lx + 27)}" y="${f(y)}">${xmlText(s.name)}</text>`);
    });
    out.push('</g>');
  }
  out.push('</svg>');
  return out.join('\n');
}

/** Renders an SVG document to an RGB PNG of its own size (librsvg inside sharp; text in the system's fonts). */
export async function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 72 }).flatten({ background: '#ffffff' }).png({ compressionLevel: 9 }).toBuffer();
}

/** The pictures and the HTML page a training run leaves in its output folder. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tileImages, unitToByte } from '@onnxvae/core';
import { lineChartPng } from './charts.js';
import { encodePng } from './png-codec.js';

export interface GrayImage {
  width: number;
  height: number;
  /** 1 (gray) or 3 (RGB). */
  channels: 1 | 3;
  /** `channels` bytes per pixel, row-major: pass to `encodePng(width, height, channels, pixels)`. */
  pixels: Uint8Array;
}

export interface ImageGridOptions {
  /** Pixels of padding between and around tiles (default 2). */
  pad?: number;
  /** Integer upscaling of each tile, nearest neighbour (default 1). */
  scale?: number;
  /** Gray level of the padding, 0–255 (default 128, visible against both black and white digits). */
  padValue?: number;
  /** 1: gray images [n, h, w]; 3: colour images [n, 3, h, w] (planes R, G, B), drawn as an RGB grid (default 1). */
  channels?: 1 | 3;
}

/**
 * Tile `n` images of h×w values in [0, 1] (row-major, one after another; [n, 3, h, w] with `channels: 3`) into a
 * gray or RGB grid with `cols` columns (fewer if n < cols), left to right then top to bottom (core's tileImages).
 * Values map to round(255·v), clamped to [0, 1]; NaN → 0.
 */
export function imageGrid(images: Float32Array, n: number, h: number, w: number, cols: number, options: ImageGridOptions = {}): GrayImage {
  const channels = options.channels ?? 1;
  if (channels !== 1 && channels !== 3) throw new Error(`imageGrid: channels must be 1 (gray) or 3 (RGB), got ${channels}`);
  // The padding's gray level p goes through the tiler as p/255 and comes back as p (unitToByte rounds float32 exactly).
  const g = tileImages(images, n, h, w, cols, {
    pad: options.pad,
    scale: options.scale,
    padValue: (options.padValue ?? 128) / 255,
    channels,
  });
  return { width: g.width, height: g.height, channels, pixels: Uint8Array.from(g.values, unitToByte) };
}

/**
 * Writes a grid of images (values in [0, 1]) as a PNG: gray for images [n, h, w] or [n, 1, h, w], RGB for
 * `channels` 3 (images [n, 3, h, w]).
 */
export function writeImageGrid(
  path: string,
  images: Float32Array,
  n: number,
  h: number,
  w: number,
  cols: number,
  scale = 2,
  channels: 1 | 3 = 1,
): void {
  const g = imageGrid(images, n, h, w, cols, { scale, channels });
  writeFileSync(path, encodePng(g.width, g.height, g.channels, g.pixels));
}

export interface EpochMetrics {
  epoch: number;
  train_elbo: number;
  test_elbo: number;
  train_rec?: number;
  train_kl?: number;
  seconds?: number;
  samples_per_s?: number;
  /** The last epoch of a run trained with an IWAE estimate (train --eval-k K): mean log p(x) ≈ IWAE on the test set. */
  test_iwae?: number;
  /** Its importance samples K. */
  iwae_k?: number;
}

export function writeLossCurve(path: string, metrics: EpochMetrics[], stepLosses: number[]): void {
  const series = [
    { name: 'train ELBO', values: metrics.map((m) => m.train_elbo), color: [31, 119, 180] as const },
    { name: 'test ELBO', values: metrics.map((m) => m.test_elbo), color: [214, 39, 40] as const },
  ];
  // Epochs count from 1, as in metrics.jsonl and the report's table; a resumed run's metrics still start at its epoch 1.
  const xFirst = metrics[0]?.epoch ?? 1;
  writeFileSync(path, lineChartPng(series, { width: 720, height: 420, title: 'ELBO per epoch (nats)', xFirst }));
  if (stepLosses.length > 1) {
    writeFileSync(
      path.replace(/\.png$/, '-steps.png'),
      lineChartPng([{ name: 'loss per step', values: stepLosses, color: [44, 160, 44] }], {
        width: 720,
        height: 420,
        title: 'training loss per step (nats)',
      }),
    );
  }
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

export function writeReport(
  dir: string,
  info: {
    title: string;
    config: unknown;
    metrics: EpochMetrics[];
    provider: string;
    notes: string[];
    /** The data in words: examples, source, binarization. */
    data?: string;
  },
): void {
  const last = info.metrics[info.metrics.length - 1];
  const result =
    last === undefined
      ? ''
      : `<p>Test ELBO after epoch ${last.epoch}: <b>${last.test_elbo.toFixed(2)} nats</b>` +
        (last.test_iwae === undefined ? '' : `; test log p(x) ≈ <b>${last.test_iwae.toFixed(2)} nats</b> (IWAE, K = ${last.iwae_k})`) +
        '</p>';
  const rows = info.metrics
    .map(
      (m) =>
        `<tr><td>${m.epoch}</td><td>${m.train_elbo.toFixed(2)}</td><td>${m.test_elbo.toFixed(2)}</td><td>${m.train_rec?.toFixed(2) ?? ''}</td><td>${m.train_kl?.toFixed(2) ?? ''}</td><td>${m.samples_per_s?.toFixed(0) ?? ''}</td></tr>`,
    )
    .join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(info.title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}img{image-rendering:pixelated;border:1px solid #ccc;margin:4px}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}pre{background:#f6f6f6;padding:1em;overflow:auto}</style></head>
<body><h1>${esc(info.title)}</h1>
<p>Provider: <b>${esc(info.provider)}</b>${info.notes.length ? ` (${esc(info.notes.join('; '))})` : ''}</p>
${info.data === undefined ? '' : `<p>Data: ${esc(info.data)}</p>\n`}${result}
<h2>Samples from the prior</h2><img src="samples.png" alt="samples">
<h2>Reconstructions</h2><p>Top rows: test images; bottom rows: their reconstructions.</p><img src="reconstructions.png" alt="reconstructions">
<h2>Training</h2><img src="loss-curve.png" alt="ELBO per epoch"> <img src="loss-curve-steps.png" alt="loss per step">
<table><tr><th>epoch</th><th>train ELBO</th><th>test ELBO</th><th>rec</th><th>KL</th><th>samples/s</th></tr>
${rows}
</table>
<h2>Model</h2><pre>${esc(JSON.stringify(info.config, null, 2))}</pre>
</body></html>
`;
  writeFileSync(join(dir, 'report.html'), html);
}

/** The pictures and the HTML page a training run leaves in its output folder: image grids, loss curves, report.html. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tileImages, unitToByte } from '@onnxvae/core';
import { type LineSeries, lineChartSvg, svgToPng } from './line-chart-svg.js';
import { encodePng } from './png-codec.js';
import { reportHtml } from './run-page.js';
import type { EpochMetrics, RunView } from './run-view.js';

export type { EpochMetrics, RunInfo, RunProgress, RunStatus, RunView, StepRecord } from './run-view.js';

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

/** loss-curve.png (train and test ELBO per epoch) and, with more than one step, loss-curve-steps.png (loss per step). */
export async function writeLossCurve(path: string, metrics: EpochMetrics[], steps: { step: number[]; loss: number[] }): Promise<void> {
  // Epochs count from 1, as in metrics.jsonl and the report's table; a resumed run's metrics still start at its epoch 1.
  const epochs = metrics.map((m) => m.epoch);
  const series: LineSeries[] = [
    { name: 'train ELBO', x: epochs, y: metrics.map((m) => m.train_elbo), color: '#1f77b4' },
    { name: 'test ELBO', x: epochs, y: metrics.map((m) => m.test_elbo), color: '#d62728' },
  ];
  const size = { width: 720, height: 420 };
  const chart = lineChartSvg(series, { ...size, title: 'ELBO per epoch', xLabel: 'epoch', yLabel: 'nats per example', integerX: true });
  writeFileSync(path, await svgToPng(chart));
  if (steps.step.length > 1) {
    const stepChart = lineChartSvg([{ name: 'loss per step', x: steps.step, y: steps.loss, color: '#2ca02c' }], {
      ...size,
      title: 'Training loss per step',
      xLabel: 'step',
      yLabel: 'nats per example',
      integerX: true,
    });
    writeFileSync(path.replace(/\.png$/, '-steps.png'), await svgToPng(stepChart));
  }
}

/** report.html: the run page (uPlot charts, picture strips, facts, epochs, config) with its scripts and data inline. */
export function writeReport(dir: string, view: RunView): void {
  writeFileSync(join(dir, 'report.html'), reportHtml(view));
}

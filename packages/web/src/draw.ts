/** Pixels to the screen: decoder outputs in [0, 1] as RGBA tiles, grids, ImageData and canvases. */
import { tileImages, unitToByte } from '@onnxvae/core';

export interface Rgba {
  width: number;
  height: number;
  /** RGBA bytes, row-major: what ImageData holds. */
  data: Uint8ClampedArray;
}

/**
 * Tiles n images of h×w values in [0, 1] into a grid (`cols` per row, `pad` gray pixels between, nearest-neighbour
 * `scale`; core's tileImages). Non-finite values are drawn red, so a broken model never looks like a valid black image.
 */
export function gridRgba(
  images: Float32Array,
  n: number,
  h: number,
  w: number,
  cols: number,
  opts: { pad?: number; scale?: number } = {},
): Rgba {
  if (images.length < n * h * w) throw new Error(`gridRgba: ${n} images of ${h}×${w} need ${n * h * w} values, got ${images.length}`);
  // Padding gray 96 travels through the tiler as 96/255 and comes back as 96 (unitToByte rounds float32 exactly).
  const g = tileImages(images, n, h, w, Math.max(1, Math.min(cols, n)), { pad: opts.pad, scale: opts.scale, padValue: 96 / 255 });
  const data = new Uint8ClampedArray(g.width * g.height * 4);
  g.values.forEach((v, i) => {
    if (!Number.isFinite(v)) data.set([255, 0, 0, 255], i * 4);
    else {
      const b = unitToByte(v);
      data.set([b, b, b, 255], i * 4);
    }
  });
  return { width: g.width, height: g.height, data };
}

/** Draws RGBA pixels onto a canvas (resizing it to fit). */
export function drawRgba(canvas: HTMLCanvasElement | OffscreenCanvas, img: Rgba): void {
  canvas.width = img.width;
  canvas.height = img.height;
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!ctx) throw new Error('drawRgba: the canvas has no 2d context');
  ctx.putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
}

/** Draws a grid of decoder outputs onto a canvas. */
export function drawImages(
  canvas: HTMLCanvasElement | OffscreenCanvas,
  images: Float32Array,
  n: number,
  h: number,
  w: number,
  cols: number,
  scale = 3,
): void {
  drawRgba(canvas, gridRgba(images, n, h, w, cols, { scale }));
}

/** A minimal line chart of a series (e.g. the fine-tuning loss) on a canvas. */
export function drawLossCurve(canvas: HTMLCanvasElement, values: readonly number[], label = 'loss'): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const { width, height } = canvas;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  ctx.strokeStyle = '#999';
  ctx.strokeRect(30, 10, width - 40, height - 30);
  const finite = values.filter(Number.isFinite);
  ctx.fillStyle = '#333';
  ctx.font = '11px sans-serif';
  if (finite.length === 0) {
    ctx.fillText(`${label}: no data yet`, 40, height / 2);
    return;
  }
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const span = hi - lo || 1;
  ctx.fillText(hi.toFixed(1), 0, 18);
  ctx.fillText(lo.toFixed(1), 0, height - 22);
  ctx.fillText(`${label} (${values.length} steps)`, 40, height - 6);
  ctx.strokeStyle = '#1f77b4';
  ctx.beginPath();
  values.forEach((v, i) => {
    const x = 30 + ((width - 40) * i) / Math.max(1, values.length - 1);
    const y = 10 + (height - 30) * (1 - (v - lo) / span);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
}

/**
 * One image tiler for every host: a batch of images becomes one grid picture, which node writes as a PNG and web
 * draws on a canvas. Pure: values in, values out; each host maps values to its own pixels (gray bytes, RGBA).
 *
 * @example
 * const g = tileImages(samples, 64, 28, 28, 8, { scale: 2 }); // samples: 64 images of 28×28 values in [0, 1]
 * const gray = Uint8Array.from(g.values, unitToByte); // 8-bit gray levels, row-major, g.width × g.height
 * const rgb = tileImages(colour, 64, 32, 32, 8, { channels: 3 }); // [n, 3, h, w] in, g.width × g.height × 3 out (RGB)
 */

export interface TileOptions {
  /** Pixels of padding between and around tiles (default 2). */
  pad?: number;
  /** Integer upscaling of each tile, nearest neighbour (default 1). */
  scale?: number;
  /** The padding's value, in the images' own units (default 0.5: mid gray for values in [0, 1]). */
  padValue?: number;
  /**
   * Channels per image (default 1). Each image is C planes of h×w (an [n, C, h, w] tensor, as models take them);
   * the grid interleaves them per pixel (row-major h × w × C: RGB for 3), as image files and canvases store them.
   */
  channels?: number;
}

export interface TiledImages {
  width: number;
  height: number;
  /** Tiles per row (min(cols, n)) and rows of tiles. */
  cols: number;
  rows: number;
  /** Values per pixel: the images' channels. */
  channels: number;
  /**
   * width·height·channels values, row-major with the channels of a pixel next to each other: the images' values as
   * they are (NaN stays NaN), padValue in the padding.
   */
  values: Float32Array;
}

/**
 * Tiles `n` images of h×w values (row-major, one after another: an [n, h, w] or [n, 1, h, w] tensor; [n, C, h, w]
 * with `channels: C`) into a grid with `cols` columns (fewer if n < cols), left to right then top to bottom. Tile
 * k's top-left pixel is at (pad + (k mod c)·(w·scale + pad), pad + ⌊k / c⌋·(h·scale + pad)), c = min(cols, n).
 */
export function tileImages(images: Float32Array, n: number, h: number, w: number, cols: number, options: TileOptions = {}): TiledImages {
  const pad = options.pad ?? 2;
  const scale = options.scale ?? 1;
  const padValue = options.padValue ?? 0.5;
  const C = options.channels ?? 1;
  for (const [name, v, min] of [
    ['n', n, 1],
    ['h', h, 1],
    ['w', w, 1],
    ['cols', cols, 1],
    ['pad', pad, 0],
    ['scale', scale, 1],
    ['channels', C, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new Error(`tileImages: ${name} must be an integer ≥ ${min}, got ${v}`);
  }
  if (images.length < n * C * h * w) {
    const of = C === 1 ? `${h}×${w}` : `${C}×${h}×${w}`;
    throw new Error(`tileImages: ${n} images of ${of} need ${n * C * h * w} values, got ${images.length}`);
  }
  const c = Math.min(cols, n);
  const rows = Math.ceil(n / c);
  const tileW = w * scale;
  const tileH = h * scale;
  const width = pad + c * (tileW + pad);
  const height = pad + rows * (tileH + pad);
  const values = new Float32Array(width * height * C).fill(padValue);
  const plane = h * w;
  for (let k = 0; k < n; k++) {
    const x0 = pad + (k % c) * (tileW + pad);
    const y0 = pad + Math.floor(k / c) * (tileH + pad);
    for (let ch = 0; ch < C; ch++) {
      for (let y = 0; y < tileH; y++) {
        const src = (k * C + ch) * plane + Math.floor(y / scale) * w;
        const dst = ((y0 + y) * width + x0) * C + ch;
        for (let x = 0; x < tileW; x++) values[dst + x * C] = images[src + Math.floor(x / scale)];
      }
    }
  }
  return { width, height, cols: c, rows, channels: C, values };
}

/** A value in [0, 1] as an 8-bit level: round(255·v), clamped to 0…255; NaN → 0 (a host that marks NaN checks first). */
export function unitToByte(v: number): number {
  return v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0; // NaN fails v > 0
}

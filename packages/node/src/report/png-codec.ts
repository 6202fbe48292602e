/**
 * PNG encoding for reports: 8-bit gray, RGB or RGBA pixels through fast-png (a maintained pure-JS codec; sharp,
 * also a dependency, encodes only asynchronously, and the image grids and the variance bar chart are written
 * synchronously). This module keeps only the argument checks, so a bad call names what is wrong.
 *
 * @example
 * writeFileSync('gray.png', encodePng(width, height, 1, pixels));
 */
import { encode } from 'fast-png';

/** Encode 8-bit pixels (row-major, channels interleaved) as a PNG: 1 = gray, 3 = RGB, 4 = RGBA. */
export function encodePng(width: number, height: number, channels: 1 | 3 | 4, pixels: Uint8Array): Buffer {
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 0x7fffffff) throw new Error(`PNG ${name} must be a positive integer, got ${v}`);
  }
  if (channels !== 1 && channels !== 3 && channels !== 4)
    throw new Error(`PNG channels must be 1 (gray), 3 (RGB) or 4 (RGBA), got ${channels}`);
  if (pixels.length !== width * height * channels) {
    throw new Error(`PNG pixels: expected ${width}×${height}×${channels} = ${width * height * channels} bytes, got ${pixels.length}`);
  }
  const png = encode({ width, height, channels, depth: 8, data: pixels }, { zlib: { level: 9 } });
  return Buffer.from(png.buffer, png.byteOffset, png.byteLength);
}

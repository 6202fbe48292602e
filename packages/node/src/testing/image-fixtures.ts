/**
 * Test support: real image files for the image-folder tests, rendered here (filled shapes in colour on a coloured
 * background, or MNIST digits) and encoded by sharp as PNG or JPEG, so the loader reads files as users have them.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import sharp from 'sharp';

export type ShapeKind = 'circle' | 'square' | 'triangle';
export const SHAPES: readonly ShapeKind[] = ['circle', 'square', 'triangle'];

/** Whether pixel (x, y) of a side×side image lies inside the shape (centred, about half the side across). */
function inside(kind: ShapeKind, x: number, y: number, side: number): boolean {
  const c = (side - 1) / 2;
  const r = side * 0.3;
  if (kind === 'circle') return (x - c) ** 2 + (y - c) ** 2 <= r * r;
  if (kind === 'square') return Math.abs(x - c) <= r && Math.abs(y - c) <= r;
  // An upward triangle: between the apex at the top and the base, within the widening sides.
  const top = c - r;
  const t = (y - top) / (2 * r);
  return t >= 0 && t <= 1 && Math.abs(x - c) <= t * r;
}

/** Interleaved RGB bytes of a shape in `fg` on `bg`. */
export function renderShape(kind: ShapeKind, side: number, fg: [number, number, number], bg: [number, number, number]): Buffer {
  const px = Buffer.alloc(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const col = inside(kind, x, y, side) ? fg : bg;
      px.set(col, (y * side + x) * 3);
    }
  }
  return px;
}

/** Writes raw pixels (1 = gray, 3 = RGB, 4 = RGBA) as a PNG or JPEG (by the extension), creating folders. */
export async function writeImage(path: string, pixels: Uint8Array, width: number, height: number, channels: 1 | 3 | 4): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  let img = sharp(Buffer.from(pixels), { raw: { width, height, channels } });
  if (channels === 1) img = img.toColourspace('b-w');
  await (/\.jpe?g$/i.test(path) ? img.jpeg({ quality: 95 }) : img.png()).toFile(path);
}

/**
 * `perClass` images of each shape under dir/<shape>/ (side×side, a colour per image from a fixed palette), PNG or
 * JPEG alternately; returns the files written.
 */
export async function writeShapeFolder(dir: string, perClass: number, side: number): Promise<string[]> {
  const palette: [number, number, number][] = [
    [220, 40, 40],
    [40, 180, 60],
    [40, 80, 220],
    [230, 200, 30],
  ];
  const files: string[] = [];
  for (const kind of SHAPES) {
    for (let i = 0; i < perClass; i++) {
      const fg = palette[i % palette.length];
      const bg = palette[(i + 1 + SHAPES.indexOf(kind)) % palette.length].map((v) => 255 - v) as [number, number, number];
      const path = `${dir}/${kind}/${kind}-${String(i).padStart(3, '0')}.${i % 2 === 0 ? 'png' : 'jpg'}`;
      await writeImage(path, renderShape(kind, side, fg, bg), side, side, 3);
      files.push(path);
    }
  }
  return files;
}

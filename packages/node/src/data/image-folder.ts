/**
 * A folder of PNG / JPEG images as a dataset (`--data DIR`), with torchvision's ImageFolder convention: one
 * subfolder per class gives labels (class names sorted, → 0 … C−1; each class folder is searched recursively); images
 * directly in DIR have no labels. Images are decoded (and resized) by sharp (libvips), never by hand-written
 * decoders. Every image of a dataset must have one size and one channel count, unless `size` / `channels` convert
 * them all; alpha is dropped. Values are k/255 in [0, 1], stored as planes: [H, W] per gray example, [3, H, W] per
 * colour one (R, G, B), as models take them.
 *
 * @example
 * const ds = await loadImageFolder('photos', { size: { width: 32, height: 32 }, channels: 3 });
 * // ds.dims = [3, 32, 32]; ds.labels and ds.classes from photos/<class>/… subfolders
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';
import type { Dataset } from './dataset.js';
import { ImageFolderError } from './errors.js';

/** The file extensions read as images (case-insensitive); other files are skipped (and counted in a note). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

export interface ImageSize {
  width: number;
  height: number;
}

export interface ImageFolderOptions {
  /** Resize every image to width × height, stretching it (as torchvision's Resize((h, w))). */
  size?: ImageSize;
  /** 1: convert every image to gray; 3: to RGB. Default: the images' own, which must agree. */
  channels?: 1 | 3;
  /** Where notes go (skipped files). */
  log?: (line: string) => void;
}

/** True when `path` is a directory (an image folder for `--data`). */
export function isImageFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

const isImageName = (name: string) => (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
/** Code-point order, as Python's sorted() (and so torchvision) orders class names. */
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface Listing {
  images: string[];
  dirs: string[];
  skipped: string[];
}

/** One folder's entries (hidden ones left out), symlinks followed, each list sorted. */
function list(dir: string): Listing {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new ImageFolderError(`cannot read the image folder ${dir}: ${(e as Error).message}`);
  }
  const out: Listing = { images: [], dirs: [], skipped: [] };
  for (const name of names.sort(byCodePoint)) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path);
    } catch {
      out.skipped.push(path); // a dangling link
      continue;
    }
    if (st.isDirectory()) out.dirs.push(path);
    else if (st.isFile() && isImageName(name)) out.images.push(path);
    else out.skipped.push(path);
  }
  return out;
}

/** Every image under `dir`, recursively, sorted by path within each folder. */
function walk(dir: string, skipped: string[]): string[] {
  const l = list(dir);
  skipped.push(...l.skipped);
  return [...l.images, ...l.dirs.flatMap((d) => walk(d, skipped))];
}

/** The folder's images and, with class subfolders, their labels and the class names. */
export function listImageFolder(dir: string): { files: string[]; labels?: Int32Array; classes?: string[]; skipped: string[] } {
  const top = list(dir);
  const exts = IMAGE_EXTENSIONS.join(', ');
  if (top.dirs.length === 0) {
    if (top.images.length === 0) {
      throw new ImageFolderError(
        `image folder ${dir} holds no images (${exts})${top.skipped.length ? `, only ${top.skipped.length} other file(s) such as ${basename(top.skipped[0])}` : ''}: put the images in it, or one subfolder per class`,
      );
    }
    return { files: top.images, skipped: top.skipped };
  }
  if (top.images.length > 0) {
    throw new ImageFolderError(
      `image folder ${dir} has both images (${basename(top.images[0])}, …) and subfolders (${basename(top.dirs[0])}/, …): with subfolders, each subfolder is a class and holds that class's images; move the images into class subfolders, or the subfolders out`,
    );
  }
  const skipped = [...top.skipped];
  const files: string[] = [];
  const labels: number[] = [];
  const classes = top.dirs.map((d) => basename(d));
  top.dirs.forEach((d, label) => {
    const own = walk(d, skipped);
    if (own.length === 0) {
      throw new ImageFolderError(
        `class folder ${d} holds no images (${exts}): add images of class '${classes[label]}' or remove the folder`,
      );
    }
    files.push(...own);
    for (const _ of own) labels.push(label);
  });
  return { files, labels: Int32Array.from(labels), classes, skipped };
}

type Sharp = typeof import('sharp').default;

let sharpModule: Sharp | undefined;
/** sharp loads its native library on first use only, so commands without image folders never pay for it. */
async function loadSharp(): Promise<Sharp> {
  sharpModule ??= (await import('sharp')).default;
  return sharpModule;
}

interface Decoded {
  file: string;
  width: number;
  height: number;
  /** The file's own channels, alpha not counted: 1 (gray) or 3 (colour). */
  own: 1 | 3;
  /** Interleaved 8-bit pixels in the target channels, after any resize. */
  pixels: Uint8Array;
}

async function decode(sharp: Sharp, file: string, opts: ImageFolderOptions): Promise<Decoded> {
  const fail = (e: unknown): never => {
    throw new ImageFolderError(`${file}: cannot decode the image (${(e as Error).message.split('\n')[0]}); replace or remove the file`, {
      cause: e,
    });
  };
  let meta: Awaited<ReturnType<ReturnType<Sharp>['metadata']>>;
  try {
    meta = await sharp(file).metadata();
  } catch (e) {
    return fail(e);
  }
  if (meta.format !== 'png' && meta.format !== 'jpeg') {
    throw new ImageFolderError(`${file}: is ${meta.format ?? 'an unknown format'}, not PNG or JPEG; convert it or remove it`);
  }
  if (!meta.width || !meta.height) throw new ImageFolderError(`${file}: the image has no size`);
  const own: 1 | 3 = (meta.channels ?? 3) - (meta.hasAlpha ? 1 : 0) <= 1 ? 1 : 3;
  const target = opts.channels ?? own;
  let pipeline = sharp(file).removeAlpha();
  if (opts.size) pipeline = pipeline.resize(opts.size.width, opts.size.height, { fit: 'fill' });
  pipeline = pipeline.toColourspace(target === 1 ? 'b-w' : 'srgb');
  let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    raw = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (e) {
    return fail(e);
  }
  if (raw.info.channels !== target) {
    throw new ImageFolderError(`${file}: decoded to ${raw.info.channels} channels, expected ${target}`);
  }
  return { file, width: raw.info.width, height: raw.info.height, own, pixels: raw.data };
}

/** Images decoded at once: libvips works on its own threads, so a few in flight keep them busy. */
const IN_FLIGHT = 8;

const channelWord = (c: 1 | 3) => (c === 1 ? 'grayscale (1 channel)' : 'colour (3 channels)');

/**
 * Loads an image folder (see the module comment). Errors are ImageFolderError naming the folder or the file: an
 * image that does not decode, an empty folder or class folder, images of different sizes (without `size`) or of
 * different channels (without `channels`).
 */
export async function loadImageFolder(dir: string, opts: ImageFolderOptions = {}): Promise<Dataset> {
  const { files, labels, classes, skipped } = listImageFolder(dir);
  if (skipped.length) {
    const shown = skipped.slice(0, 3).map((f) => relative(dir, f));
    opts.log?.(
      `image folder ${dir}: skipped ${skipped.length} file(s) that are not ${IMAGE_EXTENSIONS.join('/')} (${shown.join(', ')}${skipped.length > 3 ? ', …' : ''})`,
    );
  }
  const sharp = await loadSharp();
  let first: Decoded | undefined;
  let x = new Float32Array(0);
  let C: 1 | 3 = 1;
  let plane = 0;
  for (let start = 0; start < files.length; start += IN_FLIGHT) {
    const chunk = files.slice(start, start + IN_FLIGHT);
    const settled = await Promise.allSettled(chunk.map((f) => decode(sharp, f, opts)));
    // In file order, so the error named is the first bad file's, however the decodes finished.
    for (let j = 0; j < settled.length; j++) {
      const r = settled[j];
      if (r.status === 'rejected') throw r.reason;
      const img = r.value;
      if (first === undefined) {
        first = img;
        C = opts.channels ?? img.own;
        plane = img.width * img.height;
        x = new Float32Array(files.length * C * plane);
      } else if (img.width !== first.width || img.height !== first.height) {
        throw new ImageFolderError(
          `${img.file}: is ${img.width}×${img.height} pixels but ${first.file} is ${first.width}×${first.height}: the images of a dataset must share one size; pass --size WxH (e.g. --size ${first.width}x${first.height}) to resize them all`,
        );
      } else if (opts.channels === undefined && img.own !== first.own) {
        throw new ImageFolderError(
          `${img.file}: is ${channelWord(img.own)} but ${first.file} is ${channelWord(first.own)}: pass --channels 3 (or --channels 1) to convert them all`,
        );
      }
      // Interleaved HWC bytes → planes CHW of k/255.
      const base = (start + j) * C * plane;
      const px = img.pixels;
      for (let c = 0; c < C; c++) {
        const dst = base + c * plane;
        for (let p = 0; p < plane; p++) x[dst + p] = px[p * C + c] / 255;
      }
    }
  }
  if (first === undefined) throw new ImageFolderError(`image folder ${dir} holds no images`); // listImageFolder checked
  const f: Decoded = first;
  const ds: Dataset = {
    x,
    n: files.length,
    dims: C === 1 ? [f.height, f.width] : [3, f.height, f.width],
    name: basename(dir),
  };
  if (labels && classes) {
    ds.labels = labels;
    ds.classes = classes;
  }
  return ds;
}

/**
 * One PNG or JPEG as the pixels a model takes: resized to `size` (stretching), converted to 1 or 3 channels, values
 * in [0, 1], channel-planar ([C, H, W] flattened). Errors name the file.
 */
export async function readImageFile(file: string, size: ImageSize, channels: 1 | 3): Promise<Float32Array> {
  const d = await decode(await loadSharp(), file, { size, channels });
  const plane = d.width * d.height;
  const out = new Float32Array(plane * channels);
  for (let p = 0; p < plane; p++) for (let c = 0; c < channels; c++) out[c * plane + p] = d.pixels[p * channels + c] / 255;
  return out;
}

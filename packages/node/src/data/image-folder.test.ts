import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderShape, SHAPES, writeImage, writeShapeFolder } from '../testing/image-fixtures.js';
import { loadMnist } from './dataset.js';
import { DataFileError, ImageFolderError } from './errors.js';
import { listImageFolder, loadImageFolder } from './image-folder.js';
import { loadData } from './source.js';

let root = '';
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'onnxvae-images-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});
const at = (...p: string[]) => join(root, ...p);

/** The error a promise rejects with (undefined if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
}

describe('loadImageFolder: class subfolders (ImageFolder)', () => {
  it('labels images by their sorted class folders and keeps colour as [3, H, W] planes', async () => {
    const files = await writeShapeFolder(at('shapes'), 4, 12);
    const ds = await loadImageFolder(at('shapes'));
    expect(ds.n).toBe(12);
    expect(ds.dims).toEqual([3, 12, 12]);
    expect(ds.classes).toEqual(['circle', 'square', 'triangle']); // sorted names → 0, 1, 2
    expect(Array.from(ds.labels as Int32Array)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    expect(ds.name).toBe('shapes');
    // Example 0 is shapes/circle/circle-000.png (PNG: lossless): its planes are the rendered R, G, B bytes / 255.
    expect(files[0]).toBe(at('shapes', 'circle', 'circle-000.png'));
    const rgb = renderShape('circle', 12, [220, 40, 40], [215, 75, 195]);
    const plane = 144;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) {
        if (ds.x[c * plane + p] !== Math.fround(rgb[p * 3 + c] / 255)) throw new Error(`pixel ${p} channel ${c} differs`);
      }
    }
    // JPEG files decode too (lossy: close to the rendered colours, not equal).
    const jpg = ds.x.subarray(3 * plane, 6 * plane); // example 1: circle-001.jpg
    expect(Math.max(...jpg)).toBeGreaterThan(0.5);
  });

  it('converts with channels 1 (gray, [H, W]) and resizes with size', async () => {
    const gray = await loadImageFolder(at('shapes'), { channels: 1 });
    expect(gray.dims).toEqual([12, 12]);
    const small = await loadImageFolder(at('shapes'), { size: { width: 8, height: 6 }, channels: 3 });
    expect(small.dims).toEqual([3, 6, 8]);
    expect(small.x.length).toBe(12 * 3 * 6 * 8);
    for (const v of small.x) if (!(v >= 0 && v <= 1)) throw new Error(`value ${v} outside [0, 1]`);
  });

  it('reads MNIST digits written as gray PNGs back exactly, labelled by digit folders', async () => {
    const { test } = loadMnist({ binarize: false });
    for (let i = 0; i < 10; i++) {
      const bytes = Uint8Array.from(test.x.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255));
      await writeImage(at('digits', String(test.labels?.[i]), `${i}.png`), bytes, 28, 28, 1);
    }
    const ds = await loadImageFolder(at('digits'));
    expect(ds.dims).toEqual([28, 28]);
    expect(ds.n).toBe(10);
    const classes = [...new Set(Array.from(test.labels?.subarray(0, 10) ?? []).map(String))].sort();
    expect(ds.classes).toEqual(classes);
    // Each decoded digit is one of the written ones, byte for byte, in its class.
    for (let k = 0; k < ds.n; k++) {
      const label = Number((ds.classes as string[])[(ds.labels as Int32Array)[k]]);
      const row = Array.from(ds.x.subarray(k * 784, (k + 1) * 784), (v) => Math.round(v * 255));
      const match = Array.from({ length: 10 }, (_, i) => i).some(
        (i) => test.labels?.[i] === label && row.every((b, j) => b === Math.round(test.x[i * 784 + j] * 255)),
      );
      expect(match, `example ${k}`).toBe(true);
    }
  });

  it('images directly in the folder have no labels; hidden and non-image files are skipped with a note', async () => {
    for (let i = 0; i < 3; i++) await writeImage(at('flat', `img${i}.png`), renderShape('square', 8, [0, 0, 0], [255, 255, 255]), 8, 8, 3);
    writeFileSync(at('flat', 'notes.txt'), 'not an image');
    writeFileSync(at('flat', '.DS_Store'), 'x');
    const notes: string[] = [];
    const ds = await loadImageFolder(at('flat'), { log: (l) => notes.push(l) });
    expect(ds.n).toBe(3);
    expect(ds.labels).toBeUndefined();
    expect(ds.classes).toBeUndefined();
    expect(notes.join('\n')).toMatch(/skipped 1 file\(s\) that are not \.png\/\.jpg\/\.jpeg \(notes\.txt\)/);
  });

  it('drops alpha: an RGBA PNG is colour', async () => {
    const rgba = Buffer.alloc(4 * 4 * 4, 200);
    await writeImage(at('alpha', 'a.png'), rgba, 4, 4, 4);
    await writeImage(at('alpha', 'b.png'), rgba, 4, 4, 4);
    expect((await loadImageFolder(at('alpha'))).dims).toEqual([3, 4, 4]);
  });
});

describe('loadImageFolder: clear errors naming the folder or file', () => {
  it('a corrupt image (truncated PNG, truncated JPEG, text named .png)', async () => {
    await writeShapeFolder(at('corrupt-png'), 2, 8);
    const png = at('corrupt-png', 'square', 'square-000.png');
    writeFileSync(png, readFileSync(png).subarray(0, 40));
    let e = await rejection(loadImageFolder(at('corrupt-png')));
    expect(e).toBeInstanceOf(ImageFolderError);
    expect(e).toBeInstanceOf(DataFileError);
    expect(e?.message).toContain(`${png}: cannot decode the image`);

    await writeShapeFolder(at('corrupt-jpg'), 2, 8);
    const jpg = at('corrupt-jpg', 'triangle', 'triangle-001.jpg');
    writeFileSync(jpg, readFileSync(jpg).subarray(0, 200));
    e = await rejection(loadImageFolder(at('corrupt-jpg')));
    expect(e?.message).toContain(`${jpg}: cannot decode the image`);

    await writeShapeFolder(at('junk'), 1, 8);
    writeFileSync(at('junk', 'circle', 'zz.png'), 'hello, I am text');
    e = await rejection(loadImageFolder(at('junk')));
    expect(e?.message).toMatch(/junk\/circle\/zz\.png: cannot decode the image \(.*unsupported image format/);
  });

  it('an empty folder, a folder of other files, an empty class folder', async () => {
    mkdirSync(at('empty'));
    let e = await rejection(loadImageFolder(at('empty')));
    expect(e).toBeInstanceOf(ImageFolderError);
    expect(e?.message).toBe(
      `image folder ${at('empty')} holds no images (.png, .jpg, .jpeg): put the images in it, or one subfolder per class`,
    );
    mkdirSync(at('texts'));
    writeFileSync(at('texts', 'a.txt'), 'x');
    e = await rejection(loadImageFolder(at('texts')));
    expect(e?.message).toMatch(/holds no images .*, only 1 other file\(s\) such as a\.txt/);
    await writeShapeFolder(at('one-empty'), 1, 8);
    mkdirSync(at('one-empty', 'zebra'));
    e = await rejection(loadImageFolder(at('one-empty')));
    expect(e?.message).toBe(
      `class folder ${at('one-empty', 'zebra')} holds no images (.png, .jpg, .jpeg): add images of class 'zebra' or remove the folder`,
    );
  });

  it('images of mixed sizes without size, naming both files and the option that fixes it', async () => {
    await writeImage(at('sizes', 'a.png'), renderShape('circle', 8, [9, 9, 9], [200, 0, 0]), 8, 8, 3);
    await writeImage(at('sizes', 'b.png'), renderShape('circle', 10, [9, 9, 9], [200, 0, 0]), 10, 10, 3);
    const e = await rejection(loadImageFolder(at('sizes')));
    expect(e).toBeInstanceOf(ImageFolderError);
    expect(e?.message).toBe(
      `${at('sizes', 'b.png')}: is 10×10 pixels but ${at('sizes', 'a.png')} is 8×8: the images of a dataset must share one size; pass --size WxH (e.g. --size 8x8) to resize them all`,
    );
    expect((await loadImageFolder(at('sizes'), { size: { width: 8, height: 8 } })).dims).toEqual([3, 8, 8]);
  });

  it('images of mixed channels without channels', async () => {
    await writeImage(at('mixed', 'a.png'), renderShape('circle', 8, [9, 9, 9], [200, 0, 0]), 8, 8, 3);
    await writeImage(at('mixed', 'b.png'), new Uint8Array(64).fill(77), 8, 8, 1);
    const e = await rejection(loadImageFolder(at('mixed')));
    expect(e?.message).toBe(
      `${at('mixed', 'b.png')}: is grayscale (1 channel) but ${at('mixed', 'a.png')} is colour (3 channels): pass --channels 3 (or --channels 1) to convert them all`,
    );
    const rgb = await loadImageFolder(at('mixed'), { channels: 3 });
    expect(rgb.dims).toEqual([3, 8, 8]);
    // The gray image becomes R = G = B = its level.
    expect([rgb.x[192], rgb.x[192 + 64], rgb.x[192 + 128]]).toEqual([77 / 255, 77 / 255, 77 / 255].map(Math.fround));
  });

  it('images beside class folders', async () => {
    await writeShapeFolder(at('both'), 1, 8);
    await writeImage(at('both', 'stray.png'), new Uint8Array(64), 8, 8, 1);
    const e = await rejection(loadImageFolder(at('both')));
    expect(e?.message).toMatch(/image folder .*both has both images \(stray\.png, …\) and subfolders \(circle\/, …\)/);
  });
});

describe('loadData on an image folder', () => {
  it('holds out 20% by the seed, keeps labels, and reads no --labels file', async () => {
    const { train, test } = await loadData({ data: at('shapes'), seed: 3 });
    expect(train.n + test.n).toBe(12);
    expect(test.n).toBe(Math.round(12 * 0.2));
    expect(train.dims).toEqual([3, 12, 12]);
    expect(train.labels?.length).toBe(train.n);
    expect(train.classes).toEqual(['circle', 'square', 'triangle']);
    await expect(loadData({ data: at('shapes'), labels: 'labels.npy' })).rejects.toThrow(/labels come from its class subfolders/);
    await expect(loadData({ data: 'mnist', size: { width: 8, height: 8 } })).rejects.toThrow(
      /--size and --channels resize and convert image folders/,
    );
  });

  it('lists in code-point order, as torchvision sorts class names', () => {
    expect(listImageFolder(at('shapes')).classes).toEqual([...SHAPES].sort());
  });
});

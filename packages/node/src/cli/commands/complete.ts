/**
 * `onnxvae complete DIR [--input FILE] [--n 8]`: diverse completions of images by a structured-output model
 * (`train --task complete`): one row per image — the given part (missing pixels gray), --n completions drawn from
 * p(y|x), and the original for the model's own test images.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { completionGrid } from '../../completions.js';
import { readImageFile } from '../../data/image-folder.js';
import { asTrained, loadData } from '../../data/source.js';
import { writeImageGrid } from '../../report/report.js';
import { bundleDir, LIMITS, num, PROVIDER_HELP, provider, UsageError } from '../args.js';
import type { Command, CommandContext } from '../context.js';
import { makeSampler } from '../open-bundle.js';

async function run({ cmd, v, pos, out, note }: CommandContext): Promise<number> {
  const dir = bundleDir(pos, cmd);
  const { b, sampler, hw, channels, cfg } = await makeSampler(dir, provider(v.provider), note);
  if (!cfg.structured) {
    throw new Error(
      `${dir}: complete needs a structured-output model (train --task complete --observed PART); this one models whole images (use sample)`,
    );
  }
  const n = num(v.n, 'n', 8, { int: true, min: 1, max: 64 });
  const seed = num(v.seed, 'seed', 0, { int: true, min: 0 });
  const temperature = num(v.temperature, 'temperature', 1, { min: 0 });
  const D = cfg.inputShape.reduce((a, c) => a * c, 1);
  let x: Float32Array;
  let count: number;
  let withOriginal: boolean;
  if (v.input !== undefined) {
    if (!existsSync(v.input)) throw new UsageError(`--input ${v.input}: no such file`);
    // Any PNG or JPEG: resized to the model's images and made gray; only its given part reaches the model.
    x = await readImageFile(v.input, { width: hw[1], height: hw[0] }, 1);
    count = 1;
    withOriginal = false;
  } else {
    const trained = asTrained(b.manifest.training.data, v.data);
    const { test } = await loadData({ ...trained, testData: v['test-data'], seed: b.manifest.training.seed, log: note });
    count = Math.min(test.n, num(v.examples, 'examples', 8, { int: true, min: 1, max: LIMITS.n }));
    x = test.x.slice(0, count * D);
    withOriginal = true;
  }
  const grid = await completionGrid(sampler, cfg, x, count, { samples: n, seed, temperature, withOriginal });
  const file = v.out ?? join(dir, `completions-seed${seed}-n${n}.png`);
  writeImageGrid(file, grid.images, grid.rows * grid.cols, hw[0], hw[1], grid.cols, 2, channels);
  out(`wrote ${file} (${count} image${count > 1 ? 's' : ''} × ${n} completions of the ${cfg.structured.observed} given)\n`);
  return 0;
}

export const completeCommand: Command = {
  summary: 'diverse completions of images by a structured-output model (train --task complete)',
  usage: 'onnxvae complete DIR [--input FILE] [--n 8] [--seed 0] [--temperature 1] [--out FILE]',
  help: `Completes images with a model trained by train --task complete --observed PART: each row shows the given part
(missing pixels gray), --n completions drawn from p(y|x), and (for test images) the original. Writes
DIR/completions-seed<S>-n<N>.png unless --out is given.

  --input FILE          a PNG or JPEG (resized to the model's images, made gray); its given part is completed.
                        Without --input: the model's own test images
  --examples N          test images without --input  [8]
  --n N                 completions per image, 1 … 64  [8]
  --seed S              [0]
  --temperature T       scales the prior's standard deviation, ≥ 0  [1]
  --data …, --test-data FILE
                        the test images (default: the data the model was trained on)
  --out FILE            the PNG to write
${PROVIDER_HELP()}`,
  run,
};

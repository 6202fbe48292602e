/**
 * `onnxvae sample DIR`: draws from the prior and writes the decoded images as a PNG grid.
 */
import { join } from 'node:path';
import { Prng } from '@onnxvae/core';
import { gridLabels } from '../../conditional.js';
import { writeImageGrid } from '../../report/report.js';
import { bundleDir, LIMITS, num, PROVIDER_HELP, provider } from '../args.js';
import type { Command, CommandContext } from '../context.js';
import { makeSampler } from '../open-bundle.js';

async function run({ cmd, v, pos, out, note }: CommandContext): Promise<number> {
  const dir = bundleDir(pos, cmd);
  const { sampler, hw, channels, cfg } = await makeSampler(dir, provider(v.provider), note);
  if (cfg.structured)
    throw new Error(
      `${dir}: ${cmd} does not apply to an image-completion model (it generates the missing part of a given image): use onnxvae complete ${dir}`,
    );
  const n = num(v.n, 'n', 64, { int: true, min: 1, max: LIMITS.n });
  // Conditional models: --label C draws that class ("draw 7s"); without it, one class per column.
  const grid = gridLabels(cfg, n, v.label === undefined ? undefined : num(v.label, 'label', 0, { int: true, min: 0 }));
  const temperature = num(v.temperature, 'temperature', 1, { min: 0 });
  const seed = num(v.seed, 'seed', 0, { int: true, min: 0 });
  const s = await sampler.sample(n, { temperature, prng: new Prng(seed), label: grid.labels });
  // Named by what drew them, so DIR/samples.png (written by training, shown in report.html) is never replaced.
  const file = v.out ?? join(dir, `samples-seed${seed}-t${temperature}${v.label === undefined ? '' : `-label${v.label}`}.png`);
  writeImageGrid(file, s.x, n, hw[0], hw[1], Math.min(grid.cols ?? 8, n), 2, channels);
  out(`wrote ${file}\n`);
  return 0;
}

export const sampleCommand: Command = {
  summary: 'draw from the prior and decode into a PNG grid',
  usage: 'onnxvae sample DIR [--n 64] [--temperature 1] [--seed 0] [--label C] [--out FILE]',
  help: `Draws --n latents from the prior and writes the decoded images as a PNG grid. Without --out it writes
DIR/samples-seed<S>-t<T>.png (…-label<C>.png with --label), so the samples.png of the training run stays as it was.

  --n N                 images, 1 … ${LIMITS.n}  [64]
  --temperature T       scales the prior's standard deviation, ≥ 0  [1]
  --seed S              [0]
  --label C             conditional models: draw class C; without it, one class per column
  --out FILE            the PNG to write (replaced if it exists)
${PROVIDER_HELP()}`,
  run,
};

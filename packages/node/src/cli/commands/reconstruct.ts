/**
 * `onnxvae reconstruct DIR` (test images over their reconstructions) and `onnxvae interpolate DIR` (the decoded
 * path between two test images): one run, as both encode test images first.
 */
import { join } from 'node:path';
import { asTrained, loadData } from '../../data/source.js';
import { writeImageGrid } from '../../report/report.js';
import { BINARIZE_HELP, binarization, bundleDir, channelCount, imageSize, LIMITS, num, PROVIDER_HELP, provider } from '../args.js';
import type { Command, CommandContext } from '../context.js';
import { makeSampler } from '../open-bundle.js';

async function run({ cmd, v, pos, out, note }: CommandContext): Promise<number> {
  const dir = bundleDir(pos, cmd);
  const { b, sampler, hw, channels, cfg } = await makeSampler(dir, provider(v.provider), note);
  if (cfg.structured)
    throw new Error(
      `${dir}: ${cmd} does not apply to an image-completion model (it generates the missing part of a given image): use onnxvae complete ${dir}`,
    );
  const trained = asTrained(b.manifest.training.data, v.data); // binarized, sized and converted as the model was trained
  const { test } = await loadData({
    ...trained,
    testData: v['test-data'],
    labels: v.labels,
    testLabels: v['test-labels'],
    binarize: binarization(v) ?? trained.binarize,
    size: imageSize(v.size) ?? trained.size,
    channels: channelCount(v.channels) ?? trained.channels,
    seed: b.manifest.training.seed,
    log: note,
  });
  const d = cfg.inputShape.reduce((a, c) => a * c, 1);
  if (test.dims.reduce((a, c) => a * c, 1) !== d)
    throw new Error(`data examples have ${test.dims.reduce((a, c) => a * c, 1)} values, the model takes ${d}`);
  if (cmd === 'reconstruct') {
    const n = Math.min(test.n, num(v.n, 'n', 16, { int: true, min: 1, max: LIMITS.n }));
    const x = test.x.slice(0, n * d);
    const r = await sampler.reconstruct(x, n, test.labels?.subarray(0, n));
    const both = new Float32Array(2 * n * d);
    both.set(x);
    both.set(r, n * d);
    // Never the training run's reconstructions.png: that one shows the digits the run itself picked.
    const file = v.out ?? join(dir, `reconstructions-n${n}.png`);
    writeImageGrid(file, both, 2 * n, hw[0], hw[1], Math.min(8, n), 2, channels);
    out(`wrote ${file}\n`);
  } else {
    const steps = num(v.steps, 'steps', 10, { int: true, min: 2, max: LIMITS['interpolate-steps'] });
    // A conditional model encodes each end with its label and decodes the path with the first one's.
    const ys = test.labels?.subarray(0, 2);
    const { mu } = await sampler.encode(test.x.slice(0, 2 * d), 2, ys);
    const L = sampler.latent; // the decoder's input width (G·K for categorical latents)
    const r = await sampler.interpolate(mu.slice(0, L), mu.slice(L, 2 * L), steps, v.slerp ? 'slerp' : 'linear', ys?.[0]);
    const file = v.out ?? join(dir, 'interpolation.png');
    writeImageGrid(file, r.x, steps, hw[0], hw[1], steps, 2, channels);
    out(`wrote ${file}\n`);
  }
  return 0;
}

export const reconstructCommand: Command = {
  summary: 'test images over their reconstructions, as a PNG',
  usage: 'onnxvae reconstruct DIR [--test-data FILE | --data mnist|mnist-full|FILE|DIR] [--n 16] [--out FILE]',
  help: `Encodes the first --n test images and decodes them; writes the images over their reconstructions.

  --test-data FILE      take the images from FILE
  --data mnist|mnist-full|FILE|DIR
                        without --test-data: the test set of this data  [the data the model was trained on]
  --labels FILE         labels (conditional models), --test-labels FILE those of --test-data
${BINARIZE_HELP('as the model was trained')}
  --size WxH, --channels 1|3
                        image folders: resize and convert the images  [as the model was trained]
  --n N                 images, 1 … ${LIMITS.n}  [16]
  --out FILE            [DIR/reconstructions-n<N>.png; the run's own reconstructions.png is kept]
${PROVIDER_HELP()}`,
  run,
};

export const interpolateCommand: Command = {
  summary: 'decode the path between the first two test images, as a PNG',
  usage: 'onnxvae interpolate DIR [--test-data FILE | --data mnist|mnist-full|FILE|DIR] [--steps 10] [--slerp] [--out FILE]',
  help: `Encodes the first two test images and decodes --steps points on the path between their latent means.

  --test-data FILE      take the two images from FILE
  --data mnist|mnist-full|FILE|DIR
                        without --test-data: the test set of this data  [the data the model was trained on]
  --labels FILE         labels (conditional models), --test-labels FILE those of --test-data
${BINARIZE_HELP('as the model was trained')}
  --steps N             images on the path, 2 … ${LIMITS['interpolate-steps']}  [10]
  --slerp               spherical instead of linear interpolation
  --out FILE            [DIR/interpolation.png]
${PROVIDER_HELP()}`,
  run,
};

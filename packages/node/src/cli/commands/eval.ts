/**
 * `onnxvae eval DIR`: the mean ELBO and log p(x) ≈ IWAE of a bundle on a test set.
 */
import { Evaluator } from '@onnxvae/core';
import { checkLabels } from '../../conditional.js';
import { asTrained, loadTestData } from '../../data/source.js';
import { Progress } from '../../report/progress.js';
import { BINARIZE_HELP, binarization, bundleDir, channelCount, imageSize, LIMITS, num, PROVIDER_HELP, provider } from '../args.js';
import { type Command, type CommandContext, defaultErr } from '../context.js';
import { sessionsFor } from '../open-bundle.js';

async function run({ cmd, v, pos, out, err, note }: CommandContext): Promise<number> {
  const dir = bundleDir(pos, cmd);
  const { b, rt } = await sessionsFor(dir, provider(v.provider), note);
  const k = num(v.k, 'k', 1000, { int: true, min: 1, max: LIMITS.k });
  // --test-data FILE is scored whole; otherwise the test set of --data (the model's own by default).
  const trained = asTrained(b.manifest.training.data, v.data); // binarized, sized and converted as the model was trained
  const { test, what } = await loadTestData({
    ...trained,
    testData: v['test-data'],
    labels: v.labels,
    testLabels: v['test-labels'],
    binarize: binarization(v) ?? trained.binarize,
    size: imageSize(v.size) ?? trained.size,
    channels: channelCount(v.channels) ?? trained.channels,
    limit: v.limit === undefined ? undefined : num(v.limit, 'limit', 0, { int: true, min: 2 }),
    seed: b.manifest.training.seed, // a user file's test split is the one training held out
    log: note,
  });
  err(`eval: scoring ${what}\n`);
  const d = b.manifest.config.inputShape.reduce((a, c) => a * c, 1);
  if (test.dims.reduce((a, c) => a * c, 1) !== d)
    throw new Error(`data examples have ${test.dims.reduce((a, c) => a * c, 1)} values, the model takes ${d}`);
  checkLabels(b.manifest.config, test, 'test data');
  const ev = new Evaluator(rt.ort, await rt.createSession(b.files['eval.onnx'], 'eval.onnx'), b.manifest, b.state.params);
  // Examples scored, their rate and the ETA: a redrawn line on a terminal, a line every 2 s or 10% elsewhere.
  const bar = new Progress(test.n, {
    label: `eval K=${k}`,
    unit: 'examples',
    stream: { write: (s: string) => err(s), isTTY: err === defaultErr && process.stderr.isTTY, columns: process.stderr.columns },
  });
  let done = 0;
  const r = await ev.evaluate(test.x, test.n, {
    k,
    seed: num(v.seed, 'seed', 0, { int: true, min: 0 }),
    y: test.labels,
    onProgress: (d) => {
      bar.tick(d - done);
      done = d;
    },
  });
  bar.done();
  if (v.json) out(`${JSON.stringify({ elbo: r.elbo, iwae: r.iwae, k: r.k, n: r.n, rec: r.rec, kl: r.kl, data: test.name })}\n`);
  else out(`${test.n} examples of ${test.name}: ELBO ${r.elbo.toFixed(3)} nats, log p(x) ≈ ${r.iwae.toFixed(3)} nats (IWAE, K=${k})\n`);
  return 0;
}

export const evalCommand: Command = {
  summary: 'score a bundle on a test set: ELBO and log p(x) ≈ IWAE with K samples (nats)',
  usage: 'onnxvae eval DIR [--test-data FILE | --data mnist|mnist-full|FILE|DIR] [--k 1000] [--json]',
  help: `Scores the bundle in DIR: the mean ELBO and log p(x) ≈ IWAE with K importance samples, in nats per example. It
says on stderr which examples it scores, and shows their progress with an ETA.

  --test-data FILE      score every example of FILE (IDX or .npy)
  --data mnist|mnist-full|FILE|DIR
                        without --test-data: score the test set of this data: mnist-full's official 10,000 test
                        digits, mnist's 2,000 held out, or the 20% of FILE or DIR drawn with the training seed
                        [the data the model was trained on]
  --labels FILE         labels of --data, --test-labels FILE those of --test-data (conditional models)
${BINARIZE_HELP('as the model was trained; under dynamic, the test set is binarized once, by a draw with seed 0')}
  --size WxH, --channels 1|3
                        image folders: resize and convert the images  [as the model was trained]
  --limit N             the first ⌈N/4⌉ test examples, as train --limit N scored
  --k K                 importance samples per example, 1 … ${LIMITS.k}  [1000]
  --seed S              [0]
  --json                print {"elbo", "iwae", "k", "n", "rec", "kl", "data"} on stdout
${PROVIDER_HELP()}`,
  run,
};

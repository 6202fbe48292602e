#!/usr/bin/env node
/** The `onnxvae` command: train, eval, gap, variance, sample, reconstruct, interpolate, export, info. */
import { copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Evaluator, Prng } from '@onnxvae/core';
import { ensureWritableDir, readBundleDir } from './bundle-io.js';
import { bundleSampler, checkLabels, gridLabels } from './conditional.js';
import { readConfigFile } from './config-file.js';
import { loadData } from './data/source.js';
import { formatGap, gapReport, gapSummary } from './gap.js';
import { Progress } from './report/progress.js';
import { writeImageGrid } from './report/report.js';
import { createNodeRuntime, PROVIDERS, type ProviderChoice, setOrtLogLevel } from './session.js';
import { imageDims, train } from './train.js';
import { gradientVarianceReport } from './variance.js';

const USAGE = `usage: onnxvae <command> [options]

commands:
  train        --data mnist|FILE [--test-data FILE] [--labels FILE] [--epochs 10] [--batch 128] [--lr 1e-3]
               [--provider auto|cpu|cuda|webgpu] [--threads N] [--seed 0] [--out runs/mnist] [--config model.json]
               [--resume] [--grayscale] [--limit N] [--save-every 1] [--keep 3] [--fused K] [--kl-warmup EPOCHS] [--beta 1]
  eval DIR     [--data mnist|FILE] [--k 1000] [--limit N] [--json] [--provider P]
  gap DIR      [--data mnist|FILE] [--steps 300] [--lr 1e-2] [--k 1000] [--limit N] [--seed 0] [--json]
               amortization gap: log p(x) (IWAE), ELBO with the encoder, ELBO after refining each q_i for --steps
  sample DIR   [--n 64] [--temperature 1] [--seed 0] [--label C] [--out DIR/samples.png]   (--label: conditional models)
  reconstruct DIR [--data mnist|FILE] [--n 16] [--out DIR/reconstructions.png]
  interpolate DIR [--data mnist|FILE] [--steps 10] [--slerp] [--out DIR/interpolation.png]
  variance DIR|--config model.json [--data mnist|FILE] [--batch 64] [--draws 200] [--samples M] [--seed 0] [--out DIR]
               gradient variance of reparameterization vs the score function (with and without baselines):
               a table (stdout, gradient-variance.txt), gradient-variance.json and a bar chart gradient-variance.png
  export DIR   --out WEBDIR   copy what a browser needs (manifest.json, decoder.onnx, encoder.onnx, train_step.onnx, checkpoint)
  info DIR     what a bundle holds [--json]

train --resume continues the newest valid checkpoint in --out (seed, batch and lr default to the checkpoint's).
Exit status: 0 done, 1 failed (the message says why), 2 bad command line.
ONNXVAE_ORT_LOG_LEVEL=warning shows onnxruntime's own log (default: fatal only).`;

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
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function num(v: string | undefined, name: string, def: number, opts: { int?: boolean; min?: number } = {}): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || (opts.int && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min)) {
    throw new UsageError(
      `--${name} must be ${opts.int ? 'an integer' : 'a number'}${opts.min !== undefined ? ` ≥ ${opts.min}` : ''}, got '${v}'`,
    );
  }
  return n;
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

async function sessionsFor(dir: string, p: ProviderChoice) {
  const b = await readBundleDir(dir);
  const rt = await createNodeRuntime({ provider: p });
  return { b, rt };
}

async function makeSampler(dir: string, p: ProviderChoice) {
  const { b, rt } = await sessionsFor(dir, p);
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
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    err(`onnxvae: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values: v, positionals: pos } = parsed;
  const cmd = pos[0];
  try {
    if (v.help) {
      out(`${USAGE}\n`);
      return 0;
    }
    if (!cmd) throw new UsageError('no command given');
    switch (cmd) {
      case 'train': {
        const r = await train({
          data: v.data ?? 'mnist',
          testData: v['test-data'],
          labels: v.labels,
          testLabels: v['test-labels'],
          binarize: !v.grayscale,
          epochs: num(v.epochs, 'epochs', 10, { int: true, min: 1 }),
          batch: v.batch === undefined ? undefined : num(v.batch, 'batch', 0, { int: true, min: 1 }),
          lr: v.lr === undefined ? undefined : num(v.lr, 'lr', 0, { min: Number.MIN_VALUE }),
          provider: provider(v.provider),
          threads: v.threads === undefined ? undefined : num(v.threads, 'threads', 1, { int: true, min: 1 }),
          seed: v.seed === undefined ? undefined : num(v.seed, 'seed', 0, { int: true, min: 0 }),
          out: v.out ?? 'runs/mnist',
          config: v.config === undefined ? undefined : readConfigFile(v.config),
          resume: v.resume,
          limit: v.limit === undefined ? undefined : num(v.limit, 'limit', 0, { int: true, min: 2 }),
          saveEvery: num(v['save-every'], 'save-every', 1, { int: true, min: 1 }),
          keepCheckpoints: num(v.keep, 'keep', 3, { int: true, min: 1 }),
          fusedSteps: num(v.fused, 'fused', 1, { int: true, min: 1 }),
          klWarmupEpochs: num(v['kl-warmup'], 'kl-warmup', 0, { min: 0 }),
          beta: num(v.beta, 'beta', 1, { min: 0 }),
          log: (line) => err(`${line}\n`),
          progressStream: {
            write: (s: string) => err(s),
            isTTY: err === defaultErr && process.stderr.isTTY,
            columns: process.stderr.columns,
          },
        });
        const last = r.metrics[r.metrics.length - 1];
        out(
          `trained ${r.steps} steps on ${r.provider}; test ELBO ${last.test_elbo.toFixed(2)} nats; wrote ${resolve(r.outDir)} (report.html)\n`,
        );
        return 0;
      }
      case 'eval': {
        const dir = bundleDir(pos, cmd);
        const { b, rt } = await sessionsFor(dir, provider(v.provider));
        const k = num(v.k, 'k', 1000, { int: true, min: 1 });
        const { test } = loadData({
          data: v.data ?? 'mnist',
          labels: v.labels,
          testLabels: v['test-labels'],
          binarize: v.grayscale ? false : (b.manifest.training.data?.binarize ?? true), // as the model was trained
          limit: v.limit === undefined ? undefined : num(v.limit, 'limit', 0, { int: true, min: 2 }),
          seed: b.manifest.training.seed, // a user file's test split is the one training held out
        });
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
        if (v.json) out(`${JSON.stringify({ elbo: r.elbo, iwae: r.iwae, k: r.k, n: r.n, rec: r.rec, kl: r.kl })}\n`);
        else out(`${test.n} examples: ELBO ${r.elbo.toFixed(3)} nats, log p(x) ≈ ${r.iwae.toFixed(3)} nats (IWAE, K=${k})\n`);
        return 0;
      }
      case 'sample': {
        const dir = bundleDir(pos, cmd);
        const { sampler, hw, cfg } = await makeSampler(dir, provider(v.provider));
        const n = num(v.n, 'n', 64, { int: true, min: 1 });
        // Conditional models: --label C draws that class ("draw 7s"); without it, one class per column.
        const grid = gridLabels(cfg, n, v.label === undefined ? undefined : num(v.label, 'label', 0, { int: true, min: 0 }));
        const s = await sampler.sample(n, {
          temperature: num(v.temperature, 'temperature', 1, { min: 0 }),
          prng: new Prng(num(v.seed, 'seed', 0, { int: true, min: 0 })),
          label: grid.labels,
        });
        const file = v.out ?? join(dir, 'samples.png');
        writeImageGrid(file, s.x, n, hw[0], hw[1], Math.min(grid.cols ?? 8, n));
        out(`wrote ${file}\n`);
        return 0;
      }
      case 'reconstruct':
      case 'interpolate': {
        const dir = bundleDir(pos, cmd);
        const { b, sampler, hw, cfg } = await makeSampler(dir, provider(v.provider));
        const { test } = loadData({
          data: v.data ?? 'mnist',
          labels: v.labels,
          testLabels: v['test-labels'],
          binarize: v.grayscale ? false : (b.manifest.training.data?.binarize ?? true), // as the model was trained
          seed: b.manifest.training.seed,
        });
        const d = cfg.inputShape.reduce((a, c) => a * c, 1);
        if (test.dims.reduce((a, c) => a * c, 1) !== d)
          throw new Error(`data examples have ${test.dims.reduce((a, c) => a * c, 1)} values, the model takes ${d}`);
        if (cmd === 'reconstruct') {
          const n = Math.min(test.n, num(v.n, 'n', 16, { int: true, min: 1 }));
          const x = test.x.slice(0, n * d);
          const r = await sampler.reconstruct(x, n, test.labels?.subarray(0, n));
          const both = new Float32Array(2 * n * d);
          both.set(x);
          both.set(r, n * d);
          const file = v.out ?? join(dir, 'reconstructions.png');
          writeImageGrid(file, both, 2 * n, hw[0], hw[1], Math.min(8, n));
          out(`wrote ${file}\n`);
        } else {
          const steps = num(v.steps, 'steps', 10, { int: true, min: 2 });
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
          labels: v.labels,
          testLabels: v['test-labels'],
          binarize: !v.grayscale,
          limit: v.limit === undefined ? undefined : num(v.limit, 'limit', 0, { int: true, min: 2 }),
          steps: num(v.steps, 'steps', 300, { int: true, min: 1 }),
          lr: num(v.lr, 'lr', 1e-2, { min: Number.MIN_VALUE }),
          k: num(v.k, 'k', 1000, { int: true, min: 2 }),
          seed: num(v.seed, 'seed', 0, { int: true, min: 0 }),
          provider: provider(v.provider),
          threads: v.threads === undefined ? undefined : num(v.threads, 'threads', 1, { int: true, min: 1 }),
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
          binarize: !v.grayscale,
          limit: v.limit === undefined ? undefined : num(v.limit, 'limit', 0, { int: true, min: 2 }),
          batch: num(v.batch, 'batch', 64, { int: true, min: 1 }),
          draws: num(v.draws, 'draws', 200, { int: true, min: 2 }),
          samples: v.samples === undefined ? undefined : num(v.samples, 'samples', 1, { int: true, min: 1 }),
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
        await readBundleDir(dir); // validates every file before copying
        ensureWritableDir(v.out);
        for (const f of ['decoder.onnx', 'encoder.onnx', 'train_step.onnx', 'eval.onnx', 'checkpoint.safetensors', 'manifest.json'])
          copyFileSync(join(dir, f), join(v.out, f));
        out(`exported ${dir} to ${v.out}\n`);
        return 0;
      }
      case 'info': {
        const dir = bundleDir(pos, cmd);
        const { manifest: m } = await readBundleDir(dir);
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
      err(`onnxvae: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    err(`onnxvae: error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

// Run when executed as the bin (not when imported by tests).
const invoked = process.argv[1] ? resolve(process.argv[1]) : '';
if (invoked.endsWith('cli.js') || invoked.endsWith('/onnxvae')) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

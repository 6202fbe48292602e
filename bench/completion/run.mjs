#!/usr/bin/env node
/**
 * The image-completion benchmark of Sohn, Lee & Yan 2015 (structured-output CVAE, MNIST quadrants): for each observed
 * part and each model (CVAE, GSNN, the hybrid α·CVAE + (1 − α)·GSNN with α = --alpha, the deterministic baseline) it trains with `onnxvae train --task complete` and
 * estimates the test conditional log-likelihood log p(y|x) with `onnxvae eval --k K` (importance sampling with the
 * recognition network for the CVAE; plain Monte Carlo over the prior network for the GSNN; exact for the baseline),
 * and writes a markdown table of the negative CLL (nats per test image, lower is better) and results.json.
 *
 *   node bench/completion/run.mjs --data mnist-full --epochs 10 --observed quadrant --out runs/completion
 *   node bench/completion/run.mjs --data mnist --limit 512 --epochs 1 --k 10        # a smoke test
 *   node bench/completion/run.mjs --binarize none   # gray-level targets (binary cross-entropy), as Pyro's reproduction
 *
 * Needs the built packages (`npm run build`).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'packages/node/dist/cli.js');
export const MODELS = ['baseline', 'gsnn', 'cvae', 'hybrid'];

function run(args, what) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}): onnxvae ${args.join(' ')}\n${r.stderr.slice(-3000)}`);
  return r;
}

export function benchmark(o) {
  mkdirSync(o.out, { recursive: true });
  const cfgFile = join(o.out, 'model.json');
  writeFileSync(cfgFile, JSON.stringify({ hidden: o.hidden, latent: o.latent }));
  const data = ['--data', o.data, ...(o.limit ? ['--limit', String(o.limit)] : []), ...(o.binarize ? ['--binarize', o.binarize] : [])];
  const rows = [];
  for (const observed of o.observed) {
    for (const model of o.models) {
      const dir = join(o.out, `${observed}-${model}`);
      const t0 = performance.now();
      run(
        [
          'train',
          ...data,
          '--epochs',
          String(o.epochs),
          '--batch',
          String(o.batch),
          '--lr',
          String(o.lr),
          '--seed',
          '0',
          '--config',
          cfgFile,
          '--task',
          'complete',
          '--observed',
          observed,
          '--completion-model',
          model,
          ...(model === 'hybrid' ? ['--hybrid-alpha', String(o.alpha)] : []),
          '--provider',
          'cpu',
          '--out',
          dir,
        ],
        `train (${observed}, ${model})`,
      );
      const seconds = (performance.now() - t0) / 1000;
      const e = JSON.parse(run(['eval', dir, '--k', String(o.k), '--json', '--provider', 'cpu'], `eval (${observed}, ${model})`).stdout);
      rows.push({ observed, model, cll: e.iwae, celbo: e.elbo, k: e.k, n: e.n, trainSeconds: seconds });
    }
  }
  const table = markdown(rows, o);
  writeFileSync(join(o.out, 'results.json'), `${JSON.stringify({ options: o, rows }, null, 2)}\n`);
  writeFileSync(join(o.out, 'table.md'), table);
  return { rows, table };
}

const f2 = (v) => (Number.isFinite(v) ? v.toFixed(2) : String(v));

export function markdown(rows, o) {
  const parts = [...new Set(rows.map((r) => r.observed))];
  const head = `| model | ${parts.map((p) => `−log p(y|x), ${p} given`).join(' | ')} |\n|---|${parts.map(() => '---:').join('|')}|\n`;
  const body = o.models
    .map((m) => `| ${m} | ${parts.map((p) => f2(-(rows.find((r) => r.model === m && r.observed === p)?.cll ?? Number.NaN))).join(' | ')} |`)
    .join('\n');
  const n = rows[0]?.n;
  return `${head}${body}\n\nData ${o.data}${o.limit ? ` (--limit ${o.limit})` : ''}${o.binarize ? `, --binarize ${o.binarize}` : ''}; MLP hidden [${o.hidden}], latent ${o.latent}${o.models.includes('hybrid') ? `; hybrid α = ${o.alpha}` : ''}; ${o.epochs} epochs, batch ${o.batch}, lr ${o.lr}, seed 0, CPU; log p(y|x) on ${n} test images with K = ${o.k} (\`onnxvae eval\`).\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values: v } = parseArgs({
    options: {
      data: { type: 'string', default: 'mnist-full' },
      limit: { type: 'string' },
      binarize: { type: 'string' },
      epochs: { type: 'string', default: '10' },
      batch: { type: 'string', default: '100' },
      lr: { type: 'string', default: '0.001' },
      hidden: { type: 'string', default: '500,500' },
      latent: { type: 'string', default: '20' },
      k: { type: 'string', default: '100' },
      observed: { type: 'string', default: 'quadrant' },
      models: { type: 'string', default: MODELS.join(',') },
      alpha: { type: 'string', default: '0.5' },
      out: { type: 'string', default: 'runs/completion' },
    },
  });
  const o = {
    data: v.data,
    limit: v.limit ? Number(v.limit) : undefined,
    binarize: v.binarize,
    epochs: Number(v.epochs),
    batch: Number(v.batch),
    lr: Number(v.lr),
    hidden: v.hidden.split(',').map(Number),
    latent: Number(v.latent),
    k: Number(v.k),
    observed: v.observed.split(','),
    models: v.models.split(','),
    alpha: Number(v.alpha),
    out: resolve(v.out),
  };
  process.stdout.write(benchmark(o).table);
}

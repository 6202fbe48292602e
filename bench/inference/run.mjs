#!/usr/bin/env node
/**
 * npm run inference-compare: amortized vs per-datapoint vs semi-amortized inference on the same decoder and data.
 * For each mode it trains with `onnxvae train` (the same hidden sizes, latent, epochs, batch, lr and seed), then
 * measures with `onnxvae gap` on the test split: log p(x) (IWAE with the refined q), the ELBO of the model's own q
 * (the encoder's; a per-datapoint model's fitted by its refineSteps; a semi-amortized model's refined) and after
 * refining each q_i further, and so the amortization gap L[q*] − L[q] (Cremer, Li & Duvenaud 2018). It writes a
 * markdown table (and results.json) with the parameter counts, train/test ELBO, seconds per epoch and the seconds
 * the test set's inference took.
 *
 *   node bench/inference/run.mjs --data mnist --epochs 10 --out runs/inference
 *   node bench/inference/run.mjs --data mnist --limit 512 --epochs 1 --k 10 --steps 20     # a smoke test
 *   node bench/inference/run.mjs --modes per-datapoint --pd-lr 0.3                         # one mode, another table lr
 *
 * Needs the built packages (`npm run build`).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'packages/node/dist/cli.js');

export const MODES = ['amortized', 'per-datapoint', 'semi-amortized'];

function run(args, what) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}): onnxvae ${args.join(' ')}\n${r.stderr.slice(-4000)}`);
  return r;
}

/** The model config of one mode: the same decoder everywhere; the mode's inference options. */
export function modeConfig(mode, o) {
  const base = { hidden: o.hidden, latent: o.latent };
  if (mode === 'per-datapoint') return { ...base, inference: mode, refineSteps: o.pdSteps, ...(o.pdLr ? { refineLr: o.pdLr } : {}) };
  if (mode === 'semi-amortized') return { ...base, inference: mode, refineSteps: o.saSteps };
  return base;
}

export function compare(o) {
  mkdirSync(o.out, { recursive: true });
  const rows = [];
  for (const mode of o.modes) {
    const dir = join(o.out, mode);
    const cfgFile = join(o.out, `${mode}.json`);
    writeFileSync(cfgFile, JSON.stringify(modeConfig(mode, o)));
    const data = ['--data', o.data, ...(o.limit ? ['--limit', String(o.limit)] : []), ...(o.binarize ? ['--binarize', o.binarize] : [])];
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
        '--provider',
        'cpu',
        '--out',
        dir,
      ],
      `train (${mode})`,
    );
    const trainSeconds = (performance.now() - t0) / 1000;
    const metrics = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const last = metrics[metrics.length - 1];
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const count = (pred) => manifest.params.filter(pred).reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
    const gap = JSON.parse(
      run(['gap', dir, ...data, '--steps', String(o.steps), '--k', String(o.k), '--json', '--provider', 'cpu'], `gap (${mode})`).stdout,
    );
    rows.push({
      mode,
      config: modeConfig(mode, o),
      params: count(() => true),
      encoderParams: count((p) => p.name.startsWith('encoder.')),
      tableParams: count((p) => p.name.startsWith('q.')),
      trainElbo: last.train_elbo,
      testElbo: last.test_elbo,
      secondsPerEpoch: metrics.reduce((a, m) => a + m.seconds, 0) / metrics.length,
      testInferenceSeconds: last.test_seconds,
      trainSeconds,
      logpx: gap.logpx,
      elboModel: gap.elboEncoder,
      elboRefined: gap.elboRefined,
      amortizationGap: gap.amortizationGap,
      approximationGap: gap.approximationGap,
      gapExamples: gap.n,
    });
  }
  const table = markdown(rows, o);
  writeFileSync(join(o.out, 'results.json'), `${JSON.stringify({ options: o, rows }, null, 2)}\n`);
  writeFileSync(join(o.out, 'table.md'), table);
  return { rows, table };
}

const f2 = (v) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(2) : String(v));

export function markdown(rows, o) {
  const head =
    "| inference | parameters (encoder + table) | train ELBO | test ELBO | log p(x) (IWAE) | ELBO, model's q | ELBO, refined q* | amortization gap | s / epoch | test inference s |\n" +
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n';
  const body = rows
    .map(
      (r) =>
        `| ${r.mode}${r.config.refineSteps ? ` (K = ${r.config.refineSteps}${r.config.refineLr ? `, lr ${r.config.refineLr}` : ''})` : ''} | ${r.params.toLocaleString('en-US')} (${r.encoderParams.toLocaleString('en-US')} + ${r.tableParams.toLocaleString('en-US')}) | ${f2(r.trainElbo)} | ${f2(r.testElbo)} | ${f2(r.logpx)} | ${f2(r.elboModel)} | ${f2(r.elboRefined)} | ${f2(r.amortizationGap)} | ${f2(r.secondsPerEpoch)} | ${f2(r.testInferenceSeconds)} |`,
    )
    .join('\n');
  const note =
    `\n\nData ${o.data}${o.limit ? ` (--limit ${o.limit})` : ''}${o.binarize ? `, --binarize ${o.binarize}` : ''}; decoder hidden [${o.hidden}], latent ${o.latent}; ` +
    `${o.epochs} epochs, batch ${o.batch}, lr ${o.lr}, seed 0, CPU. Bounds on ${rows[0]?.gapExamples ?? '?'} test examples with K = ${o.k}; ` +
    `q* = each q_i refined by ${o.steps} more Adam steps.\n`;
  return head + body + note;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values: v } = parseArgs({
    options: {
      data: { type: 'string', default: 'mnist' },
      limit: { type: 'string' },
      binarize: { type: 'string' },
      epochs: { type: 'string', default: '10' },
      batch: { type: 'string', default: '100' },
      lr: { type: 'string', default: '0.001' },
      hidden: { type: 'string', default: '400' },
      latent: { type: 'string', default: '20' },
      'pd-steps': { type: 'string', default: '100' },
      'sa-steps': { type: 'string', default: '10' },
      'pd-lr': { type: 'string' },
      steps: { type: 'string', default: '300' },
      k: { type: 'string', default: '1000' },
      modes: { type: 'string', default: MODES.join(',') },
      out: { type: 'string', default: 'runs/inference' },
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
    pdSteps: Number(v['pd-steps']),
    saSteps: Number(v['sa-steps']),
    pdLr: v['pd-lr'] ? Number(v['pd-lr']) : undefined,
    steps: Number(v.steps),
    k: Number(v.k),
    modes: v.modes.split(','),
    out: resolve(v.out),
  };
  for (const m of o.modes) if (!MODES.includes(m)) throw new Error(`--modes: unknown mode '${m}' (known: ${MODES.join(', ')})`);
  const { table } = compare(o);
  process.stdout.write(table);
}

#!/usr/bin/env node
/**
 * npm run paper: the reference table of Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders" (ICLR 2016,
 * arXiv:1509.00519), Table 1 (MNIST), measured with onnxvae beside the paper's numbers.
 *
 * For each preset (models/presets/burda-1layer.json, burda-2layer.json) and each run (VAE with k = 1, IWAE with
 * k = 5 and k = 50 by default) it trains with `onnxvae train` on the paper's schedule — 3^i epochs at learning rate
 * 0.001·10^(−i/7), i = 0…7, 3,280 epochs in all, Adam, batches of 20 — or that schedule compressed to --budget
 * epochs (see `compressSchedule`), one `train --resume --lr` per stage, then estimates the test log-likelihood with
 * `onnxvae eval --k 5000` (the paper's k), and writes a markdown table (and results.json) into --out.
 *
 *   npm run paper                                   # the full schedule on mnist-full: days on a CPU; a GPU job
 *   node bench/paper/run.mjs --budget 8 --eval-limit 500 --runs vae-k1,iwae-k50
 *   node bench/paper/run.mjs --data mnist --limit 256 --budget 1 --eval-k 10    # a smoke test
 *   node bench/paper/run.mjs --budget 100 --dry-run                             # the plan: stages, lrs, commands
 *
 * Needs the built packages (`npm run build`; `npm run paper` builds first).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'packages/node/dist/cli.js');

/** The paper's schedule: stage i trains 3^i epochs at 0.001·10^(−i/7) (i = 0…7: 3,280 epochs). */
export const PAPER_EPOCHS = 3280;
export const STAGES = Array.from({ length: 8 }, (_, i) => ({ stage: i, paperEpochs: 3 ** i, lr: 1e-3 * 10 ** (-i / 7) }));

/**
 * The schedule compressed to `budget` epochs, exactly:
 *  - budget ≥ 8: stage i gets e_i = max(1, ⌊3^i·B/3280⌋) epochs; epochs left over go one each to the stages with the
 *    largest remainders 3^i·B/3280 − e_i (stages held up to 1 by the floor excluded), and an excess made by that floor
 *    of 1 comes off the longest stage, one epoch at a time. Σ e_i = B, every learning rate is used, and B = 3280 is the
 *    paper's schedule itself.
 *  - budget < 8 (fewer epochs than stages): B stages spread evenly over i = 0…7, i_j = round(7j/(B − 1)) (B = 1:
 *    stage 0), one epoch each, so the run still starts at 0.001 and (B ≥ 2) ends at 0.0001.
 */
export function compressSchedule(budget) {
  if (!Number.isInteger(budget) || budget < 1) throw new Error(`--budget must be a positive integer, got ${budget}`);
  if (budget < STAGES.length) {
    const picks = budget === 1 ? [0] : Array.from({ length: budget }, (_, j) => Math.round((7 * j) / (budget - 1)));
    return picks.map((i) => ({ ...STAGES[i], epochs: 1 }));
  }
  const target = STAGES.map((s) => (s.paperEpochs * budget) / PAPER_EPOCHS);
  const e = target.map((t) => Math.max(1, Math.floor(t)));
  let left = budget - e.reduce((a, b) => a + b, 0);
  const byRemainder = STAGES.map((_, i) => i)
    .filter((i) => target[i] >= 1)
    .sort((a, b) => target[b] - Math.floor(target[b]) - (target[a] - Math.floor(target[a])) || b - a);
  for (let j = 0; left > 0; j = (j + 1) % byRemainder.length, left--) e[byRemainder[j]] += 1;
  for (; left < 0; left++) e[e.indexOf(Math.max(...e))] -= 1;
  return STAGES.map((s, i) => ({ ...s, epochs: e[i] }));
}

/**
 * Burda et al. 2016, Table 1, MNIST: test log-likelihood (nats, k = 5000 importance samples), by stochastic layers,
 * training objective and k. The VAE rows with k > 1 average the ELBO over k samples.
 */
export const PAPER = {
  1: { vae: { 1: -86.76, 5: -86.47, 50: -86.35 }, iwae: { 1: -86.76, 5: -85.54, 50: -84.78 } },
  2: { vae: { 1: -85.33, 5: -85.01, 50: -84.78 }, iwae: { 1: -85.33, 5: -83.89, 50: -82.9 } },
};

const HELP = `usage: node bench/paper/run.mjs [options]

  --data D            mnist-full (60,000 train / 10,000 test), mnist (the small 8,000/2,000 set), or a file  [mnist-full]
  --binarize MODE     dynamic|threshold|none, passed to train when the CLI has the option  [dynamic]
  --presets LIST      preset names in models/presets, or .json paths  [burda-1layer,burda-2layer]
  --runs LIST         vae-kK and iwae-kK, comma-separated  [vae-k1,iwae-k5,iwae-k50]
  --budget EPOCHS     epochs per run: the paper's schedule (3280) or it compressed (see --dry-run)  [3280]
  --batch B           [20, the paper's]
  --eval-k K          importance samples for log p(x)  [5000, the paper's]
  --eval-limit N      score the first N test digits  [all]
  --limit N           train on the first N training examples (quick runs; as train --limit)
  --seed S            [0]
  --provider P        cpu|cuda|webgpu|auto  [cpu]
  --threads N         CPU threads per process  [onnxruntime's choice]
  --out DIR           run folders, table.md and results.json  [runs/paper]
  --table FILE        also write the table here
  --date YYYY-MM-DD   the date the table states  [today]
  --dry-run           print the plan (stages, learning rates, commands) and stop`;

function fail(msg, code = 2) {
  process.stderr.write(`paper: ${msg}\n`);
  process.exit(code);
}

function positiveInt(v, name) {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

function parseRun(s) {
  const m = /^(vae|iwae)-k(\d+)$/.exec(s.trim());
  if (!m || Number(m[2]) < 1) fail(`--runs: '${s}' is not vae-kK or iwae-kK (e.g. vae-k1, iwae-k50)`);
  return { name: m[0], method: m[1], k: Number(m[2]) };
}

function loadPreset(s) {
  const path = s.endsWith('.json') ? resolve(s) : join(ROOT, 'models/presets', `${s}.json`);
  if (!existsSync(path)) fail(`--presets: no preset ${s} (${path})`);
  const cfg = JSON.parse(readFileSync(path, 'utf8'));
  return { name: basename(path, '.json'), path, cfg, layers: cfg.hierarchical ? 2 : 1 };
}

/** Runs the CLI; its stderr is passed on, prefixed; resolves with stdout (rejects on a non-zero exit). */
function cli(args, tag, threads) {
  const argv = [CLI, ...args, ...(threads ? ['--threads', String(threads)] : [])];
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      err += d;
      for (const line of String(d).split(/[\r\n]+/))
        if (line.trim() && !line.startsWith('npm warn')) process.stderr.write(`[${tag}] ${line}\n`);
    });
    p.on('close', (code) =>
      code === 0 ? res(out) : rej(new Error(`onnxvae ${args.join(' ')} exited with ${code}:\n${err.split('\n').slice(-8).join('\n')}`)),
    );
  });
}

function readMetrics(dir) {
  const f = join(dir, 'metrics.jsonl');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** The run's saved progress (paper.json in its folder), when it was made with this run's config; else undefined. */
function savedEval(x) {
  const f = join(x.dir, 'paper.json');
  if (!existsSync(f)) return undefined;
  try {
    const j = JSON.parse(readFileSync(f, 'utf8'));
    return JSON.stringify(j.config) === JSON.stringify(x.cfg) ? j : undefined;
  } catch {
    return undefined;
  }
}

function writeProgress(x, fields) {
  const prev = savedEval(x) ?? {};
  writeFileSync(join(x.dir, 'paper.json'), `${JSON.stringify({ ...prev, ...fields, config: x.cfg }, null, 2)}\n`);
}

/**
 * How many of the run's stages the folder already holds: the longest prefix of the plan's stages (same epochs and
 * learning rates) that paper.json records as trained, and only if metrics.jsonl reaches its last epoch. 0 when the
 * folder was trained on another schedule (another --budget): the run is then trained again from the start.
 */
function keptStages(x, saved) {
  if (!saved || !existsSync(join(x.dir, 'manifest.json'))) return 0;
  const m = readMetrics(x.dir);
  const epoch = m.length ? m[m.length - 1].epoch : 0;
  const rec = saved.stages ?? [];
  let n = 0;
  while (n < x.stages.length && n < rec.length && rec[n].until === x.stages[n].until && rec[n].lr === x.stages[n].lr) n++;
  if (n < rec.length) return 0; // the folder went further on another schedule
  return n > 0 && x.stages[n - 1].until === epoch ? n : 0;
}

const fmt = (v) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(2));
const seconds = (s) =>
  s >= 3600
    ? `${(s / 3600).toFixed(1)} h`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`
      : `${s.toFixed(1)} s`;

/** The markdown table and the lines above it. */
export function renderTable(r) {
  const lines = [];
  lines.push(
    `Measured ${r.date} on ${r.machine}, wall time ${seconds(r.wallSeconds)}${r.rows.length ? ` (training and evaluation summed over the runs, across resumed invocations: ${seconds(r.rows.reduce((a, x) => a + x.trainSeconds + x.evalSeconds, 0))})` : ''}; command: \`${r.command}\``,
    '',
    `- data: ${r.data}${r.limit ? ` (first ${r.limit} training examples)` : ''}, binarization: ${r.binarization}`,
    `- training: ${r.budget} epochs per run (the paper: ${PAPER_EPOCHS}), batch ${r.batch}, Adam (β₁ ${r.adam.beta1}, β₂ ${r.adam.beta2}, ε ${r.adam.eps}), seed ${r.seed}; schedule ${r.schedule.map((s) => `${s.epochs}×${s.lr.toPrecision(2)}`).join(', ')} (epochs × lr, stages i = ${r.schedule.map((s) => s.stage).join(',')})`,
    `- test log-likelihood: log p(x) ≈ the IWAE bound with k = ${r.evalK} importance samples (the paper: 5000) on ${r.wholeTestSet ? 'all' : 'the first'} ${r.evalN} test digits; test ELBO: train's last epoch, on its test split`,
    '',
    '| stochastic layers | preset | objective | k | epochs | test ELBO | log p(x), measured | log p(x), paper | measured − paper | train | eval |',
    '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const x of r.rows) {
    const paper = x.paper;
    lines.push(
      `| ${x.layers} | ${x.preset} | ${x.method === 'vae' ? 'VAE' : 'IWAE'} | ${x.k} | ${x.epochs} | ${fmt(x.testElbo)} | ${fmt(x.logpx)} | ${fmt(paper)} | ${paper === undefined ? '—' : fmt(x.logpx - paper)} | ${seconds(x.trainSeconds)} | ${seconds(x.evalSeconds)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function main() {
  let a;
  try {
    a = parseArgs({
      options: {
        data: { type: 'string', default: 'mnist-full' },
        binarize: { type: 'string' },
        presets: { type: 'string', default: 'burda-1layer,burda-2layer' },
        runs: { type: 'string', default: 'vae-k1,iwae-k5,iwae-k50' },
        budget: { type: 'string', default: String(PAPER_EPOCHS) },
        batch: { type: 'string', default: '20' },
        'eval-k': { type: 'string', default: '5000' },
        'eval-limit': { type: 'string' },
        limit: { type: 'string' },
        seed: { type: 'string', default: '0' },
        provider: { type: 'string', default: 'cpu' },
        threads: { type: 'string' },
        out: { type: 'string', default: 'runs/paper' },
        table: { type: 'string' },
        date: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (e) {
    fail(`${e.message}\n${HELP}`);
  }
  if (a.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const budget = positiveInt(a.budget, 'budget');
  const batch = positiveInt(a.batch, 'batch');
  const evalK = positiveInt(a['eval-k'], 'eval-k');
  const evalLimit = a['eval-limit'] === undefined ? undefined : positiveInt(a['eval-limit'], 'eval-limit');
  const limit = a.limit === undefined ? undefined : positiveInt(a.limit, 'limit');
  const seed = Number(a.seed);
  if (!Number.isInteger(seed) || seed < 0) fail(`--seed must be an integer ≥ 0, got ${a.seed}`);
  const threads = a.threads === undefined ? undefined : positiveInt(a.threads, 'threads');
  const presets = a.presets.split(',').map(loadPreset);
  const runs = a.runs.split(',').map(parseRun);
  const schedule = compressSchedule(budget);
  const out = resolve(a.out);
  if (a.binarize !== undefined && !['dynamic', 'threshold', 'none'].includes(a.binarize))
    fail(`--binarize must be dynamic, threshold or none, got ${a.binarize}`);

  if (!existsSync(CLI)) fail(`${CLI} is missing: run \`npm run build\` first (npm run paper does)`);
  // What this build's CLI offers: --data mnist-full and --binarize arrive with issue 11 item 1.
  const trainHelp = spawnSync(process.execPath, [CLI, 'help', 'train'], { encoding: 'utf8' }).stdout ?? '';
  const hasBinarize = trainHelp.includes('--binarize');
  if (a.data === 'mnist-full' && !trainHelp.includes('mnist-full'))
    fail("this build's `onnxvae train` has no --data mnist-full yet; pass --data mnist (the 8,000/2,000 digits) or a file");
  if (a.binarize !== undefined && !hasBinarize)
    fail("this build's `onnxvae train` has no --binarize; leave the option out (it then binarizes at 0.5)");
  const binarize = hasBinarize ? (a.binarize ?? 'dynamic') : undefined;
  const binarization = binarize ?? 'threshold at 0.5 (this build of the CLI has no --binarize)';
  const dataArgs = ['--data', a.data, ...(binarize ? ['--binarize', binarize] : []), ...(limit ? ['--limit', String(limit)] : [])];

  const plan = [];
  for (const p of presets)
    for (const r of runs) {
      const name = `${p.name}-${r.name}`;
      const dir = join(out, name);
      const cfgPath = join(out, 'configs', `${name}.json`);
      const cfg = { ...p.cfg, objective: r.method === 'vae' ? 'kl' : 'iwae', samples: r.k };
      let total = 0;
      const stages = schedule.map((s, j) => {
        total += s.epochs;
        const args = ['train', ...dataArgs, '--config', cfgPath, '--epochs', String(total), '--batch', String(batch)];
        args.push('--lr', String(s.lr), '--seed', String(seed), '--provider', a.provider, '--out', dir, ...(j > 0 ? ['--resume'] : []));
        return { ...s, until: total, args };
      });
      // eval --limit N scores the first ⌈N/4⌉ test examples (as train --limit N does).
      const evalLimitArg = evalLimit ? 4 * evalLimit : limit;
      const evalArgs = ['eval', dir, ...dataArgs.filter((_, i, l) => l[i] !== '--limit' && l[i - 1] !== '--limit')];
      evalArgs.push(
        '--k',
        String(evalK),
        '--seed',
        String(seed),
        '--provider',
        a.provider,
        '--json',
        ...(evalLimitArg ? ['--limit', String(evalLimitArg)] : []),
      );
      plan.push({ preset: p, run: r, name, dir, cfgPath, cfg, stages, evalArgs });
    }

  if (a['dry-run']) {
    const show = (args) => `onnxvae ${args.join(' ')}`;
    process.stdout.write(
      `${JSON.stringify(
        {
          budget,
          schedule,
          binarization,
          runs: plan.map((x) => ({ name: x.name, config: x.cfg, train: x.stages.map((s) => show(s.args)), eval: show(x.evalArgs) })),
        },
        null,
        2,
      )}\n`,
    );
    return;
  }

  mkdirSync(join(out, 'configs'), { recursive: true });
  const t0 = performance.now();
  const rows = [];
  for (const x of plan) {
    writeFileSync(x.cfgPath, `${JSON.stringify(x.cfg, null, 2)}\n`);
    process.stderr.write(`paper: ${x.name}: ${x.stages.length} stages, ${budget} epochs\n`);
    // Resumable: a stage whose epochs the run folder already holds (same config) is not trained again, and an eval
    // result saved with the same command is reused, so an interrupted table (the full schedule takes days on a
    // CPU) picks up where it stopped: rerun the same command.
    let saved = savedEval(x);
    const kept = keptStages(x, saved);
    if (saved && kept === 0) {
      process.stderr.write(`paper: ${x.name}: ${x.dir} was trained on another schedule; training this run from the start\n`);
      writeFileSync(join(x.dir, 'paper.json'), `${JSON.stringify({ config: x.cfg, stages: [] }, null, 2)}\n`);
      saved = savedEval(x);
    }
    let trainSeconds = kept > 0 ? (saved?.trainSeconds ?? 0) : 0;
    const stagesDone = (saved?.stages ?? []).slice(0, kept);
    for (const [j, s] of x.stages.entries()) {
      if (j < kept) {
        process.stderr.write(`paper: ${x.name}: stage ${s.stage} (to epoch ${s.until}) already trained, kept\n`);
        continue;
      }
      const tStage = performance.now();
      await cli(s.args, `${x.name} i=${s.stage}`, threads);
      trainSeconds += (performance.now() - tStage) / 1000;
      stagesDone.push({ stage: s.stage, until: s.until, lr: s.lr });
      writeProgress(x, { trainSeconds, stages: stagesDone, eval: undefined });
    }
    saved = savedEval(x);
    const metrics = readMetrics(x.dir);
    const last = metrics[metrics.length - 1];
    if (last.epoch !== budget) throw new Error(`${x.name}: metrics.jsonl ends at epoch ${last.epoch}, expected ${budget}`);
    let ev;
    let evalSeconds;
    if (saved?.eval && saved.evalCommand === x.evalArgs.join(' ') && saved.epoch === budget) {
      process.stderr.write(`paper: ${x.name}: eval already done (${x.dir}/paper.json), kept\n`);
      ev = saved.eval;
      evalSeconds = saved.evalSeconds;
    } else {
      const tEval = performance.now();
      ev = JSON.parse((await cli(x.evalArgs, `${x.name} eval`, threads)).trim().split('\n').pop());
      evalSeconds = (performance.now() - tEval) / 1000;
      writeProgress(x, { trainSeconds, eval: ev, evalSeconds, evalCommand: x.evalArgs.join(' '), epoch: budget });
    }
    if (evalLimit && ev.n !== evalLimit)
      process.stderr.write(`paper: ${x.name}: eval scored ${ev.n} test digits (asked ${evalLimit}: the test set has no more)\n`);
    rows.push({
      name: x.name,
      preset: x.preset.name,
      layers: x.preset.layers,
      method: x.run.method,
      k: x.run.k,
      epochs: last.epoch,
      testElbo: last.test_elbo,
      elbo: ev.elbo,
      logpx: ev.iwae,
      evalK: ev.k,
      evalN: ev.n,
      paper: PAPER[x.preset.layers]?.[x.run.method]?.[x.run.k],
      trainSeconds,
      evalSeconds,
    });
  }
  const adam = { beta1: 0.9, beta2: 0.999, eps: 1e-8, ...(presets[0].cfg.optimizer ?? {}) };
  const result = {
    date: a.date ?? new Date().toISOString().slice(0, 10),
    machine: `${process.platform}/${process.arch}, ${(await import('node:os')).cpus().length} cores, provider ${a.provider}`,
    command: `node bench/paper/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    data: a.data,
    limit,
    binarization,
    budget,
    batch,
    adam,
    seed,
    schedule,
    evalK,
    evalN: rows[0]?.evalN,
    wholeTestSet: !evalLimit && !limit,
    wallSeconds: (performance.now() - t0) / 1000,
    rows,
  };
  const table = renderTable(result);
  writeFileSync(join(out, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(out, 'table.md'), table);
  if (a.table) writeFileSync(resolve(a.table), table);
  process.stdout.write(table);
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  main().catch((e) => fail(e.message, 1));
}

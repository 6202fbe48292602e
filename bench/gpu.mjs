#!/usr/bin/env node
/**
 * bench/gpu.mjs: the reference train step (784-400-20-400-784, Bernoulli, Adam 1e-3) on every execution provider that
 * starts on this machine (webgpu through onnxruntime-node's bundled Dawn, cuda where its provider libraries are
 * installed, cpu), batch 128 and 1024: ms/step (median of N timed steps after warm-up), samples/s, the loss after
 * the run, and whether each provider agrees with cpu (same start, same data, same noise) within the cross-runtime
 * tests' tolerances: PASS / FAIL / SKIP per provider. Prints what the machine has (nvidia-smi, driver and CUDA
 * versions, Vulkan loader and drivers, node and onnxruntime-node versions) and writes one JSON file of results.
 *
 *   node bench/gpu.mjs [--steps 20] [--warmup 3] [--batches 128,1024] [--providers cpu,cuda,webgpu]
 *                      [--webgpu-state host,device] [--seed 0] [--out FILE]
 *
 * --out defaults to $OUT/gpu-results.json when $OUT is set, else bench/gpu-results.json. Exit status: 0 when no
 * provider FAILs (a SKIP, a provider that cannot start here, is not a failure), 1 when one does, 2 on a bad option.
 * webgpu runs twice: with the parameters and Adam state copied to the host after every step (`host`, as
 * `onnxvae train --provider webgpu` runs) and kept on the GPU as gpu-buffer tensors (`device`).
 *
 * On a machine with no network (the GPU machine) it runs from a copy of the working tree plus these carried paths,
 * made here by `bash bench/gpu.sh pack` (it builds, bundles this script with @onnxvae/core and @onnxvae/node into
 * bench/dist/gpu.mjs, and downloads the Vulkan loader's .deb files into bench/dist/debs); 5 paths, about 50 MB:
 *   bench/dist
 *   node_modules/onnxruntime-node/package.json
 *   node_modules/onnxruntime-node/dist
 *   node_modules/onnxruntime-node/bin/napi-v6/linux/x64
 *   node_modules/onnxruntime-common
 * and there: `bash bench/gpu.sh` (it unpacks the Vulkan loader if the machine lacks it, points the loader at an NVIDIA
 * image's driver if nothing else is visible, and runs the bundle). bench/README.md has the sizes and the whole call.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createBundle, initialState, REFERENCE_VAE, Trainer } from '../packages/core/dist/index.js';
import { TRAIN_METRICS } from '../packages/core/dist/internal.js';
import { diagnose } from '../packages/node/dist/cli/commands/doctor.js';
import { createNodeRuntime, setOrtLogLevel } from '../packages/node/dist/session.js';

/**
 * Agreement with cpu, from the tests that compare runtimes:
 * - test/cross-runtime.test.ts (onnxruntime-node cpu vs onnxruntime-web wasm, reference model, 5 Adam steps): the loss
 *   of every step within 1e-4 relative; parameters within 5·lr = 5e-3 absolute at worst and 1e-5 on average (Adam's
 *   m̂/√v̂ can flip the sign of a step where a gradient is ~0, moving a weight by up to lr).
 * - packages/node/src/cli.test.ts, WebGPU on SwiftShader vs cpu (one epoch): ELBO terms within 1e-5 relative, the KL
 *   within 1e-4 nats.
 * The parameters are compared where they can be read back (not for webgpu `device`: onnxruntime-node 1.30 aborts the
 * process when a gpu-buffer tensor's getData() is called).
 */
const TOL = { lossRel: 1e-4, paramMaxAbs: 5e-3, paramMeanAbs: 1e-5, elboRel: 1e-5, klAbs: 1e-4 };
const LR = 1e-3;
const D = 784;
/** Distinct batches cycled through (fresh data each step would only cost host time; 4 keep the loss moving). */
const NBATCH = 4;

const HERE = dirname(fileURLToPath(import.meta.url));
/** bench/ whether this runs as bench/gpu.mjs or as the bundle bench/dist/gpu.mjs. */
const BENCH = basename(HERE) === 'dist' ? dirname(HERE) : HERE;

function usage(msg) {
  process.stderr.write(`bench/gpu.mjs: ${msg}\n(see the comment at the top of bench/gpu.mjs for the options)\n`);
  process.exit(2);
}

function parseList(v, name, allowed) {
  const xs = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!xs.length) usage(`--${name} is empty`);
  if (allowed) for (const x of xs) if (!allowed.includes(x)) usage(`--${name}: unknown '${x}' (choose from ${allowed.join(', ')})`);
  return [...new Set(xs)];
}

function posInt(v, name, min = 1, max = 1_000_000) {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) usage(`--${name} must be an integer ${min} … ${max}, got '${v}'`);
  return n;
}

let args;
try {
  args = parseArgs({
    options: {
      steps: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '3' },
      batches: { type: 'string', default: '128,1024' },
      providers: { type: 'string', default: 'cpu,cuda,webgpu' },
      'webgpu-state': { type: 'string', default: 'host,device' },
      seed: { type: 'string', default: '0' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
} catch (e) {
  usage(e.message);
}
if (args.help) {
  process.stdout.write(
    'node bench/gpu.mjs [--steps 20] [--warmup 3] [--batches 128,1024] [--providers cpu,cuda,webgpu] [--webgpu-state host,device] [--seed 0] [--out FILE]\n',
  );
  process.exit(0);
}
const STEPS = posInt(args.steps, 'steps');
const WARMUP = posInt(args.warmup, 'warmup', 0);
const BATCHES = parseList(args.batches, 'batches').map((b) => posInt(b, 'batches', 1, 65_536));
const REQUESTED = parseList(args.providers, 'providers', ['cpu', 'cuda', 'webgpu']);
const STATES = parseList(args['webgpu-state'], 'webgpu-state', ['host', 'device']);
const SEED = posInt(args.seed, 'seed', 0, 2 ** 31);
const OUT_FILE = resolve(args.out ?? (process.env.OUT ? join(process.env.OUT, 'gpu-results.json') : join(BENCH, 'gpu-results.json')));

// ORT's C++ logger would print the expected CUDA probe failure and node placement warnings; onnxvae explains failures.
setOrtLogLevel('fatal');

// ---------------------------------------------------------------------------------------------------------------
// The machine.

const t0 = Date.now();
const machine = await diagnose();
// doctor reads @onnxvae/node's version next to its own module, which a bundle moves: read it from the tree instead.
try {
  machine.versions.onnxvae = JSON.parse(readFileSync(join(BENCH, '..', 'packages', 'node', 'package.json'), 'utf8')).version;
} catch {}
const smi = machine.cuda.nvidiaSmi;
const print = (s = '') => process.stdout.write(`${s}\n`);

print(`# onnxvae GPU bench, ${new Date().toISOString()}`);
print(
  `onnxvae ${machine.versions.onnxvae}, node ${process.version}, onnxruntime-node ${machine.versions.onnxruntimeNode}, ${process.platform} ${process.arch}`,
);
print(`CPU: ${machine.cpu.cores} × ${machine.cpu.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`);
print();
print('## nvidia-smi');
print(smi.found ? (smi.output ?? '') : `not found (${smi.error})`);
if (smi.found)
  print(`driver ${smi.driver ?? '?'}, CUDA ${smi.cuda ?? '?'}; ${smi.gpus.map((g) => `${g.name} (${g.architecture ?? '?'})`).join(', ')}`);
print();
print('## Vulkan');
const vk = machine.vulkan;
print(`loader libvulkan.so.1: ${vk.loader.loads ? (vk.loader.path ?? 'loads') : 'not found'}`);
for (const [k, v] of Object.entries(vk.env)) print(`${k}=${v}`);
print(`drivers (ICDs) ${vk.searched[0]?.startsWith('$') ? `named by ${vk.searched[0].slice(1)}` : `in ${vk.searched.join(', ')}`}:`);
for (const i of vk.icds)
  print(
    `  ${i.file}: ${i.driver} (${i.software ? 'software' : 'hardware'}), library ${i.library} ${i.libraryPath ? `→ ${i.libraryPath}` : 'NOT FOUND'}`,
  );
if (!vk.icds.length) print('  none');
for (const i of vk.unused) print(`  not searched by the loader: ${i.file} (${i.driver})`);
print();
print('## providers (onnxvae doctor)');
for (const p of machine.providers) print(`${p.provider.padEnd(7)} ${(p.available ? 'ok' : 'unavailable').padEnd(12)} ${p.reason}`);
print();

// ---------------------------------------------------------------------------------------------------------------
// The runs.

/** Binarized data with structure: each pixel is on with its own probability (a fixed random image of rates). */
function makeBatches(batch, seed) {
  let s = (seed * 2654435761 + 12345) >>> 0;
  const next = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const rate = Float32Array.from({ length: D }, () => next() ** 3);
  return Array.from({ length: NBATCH }, () => {
    const x = new Float32Array(batch * D);
    for (let i = 0; i < x.length; i++) x[i] = next() < rate[i % D] ? 1 : 0;
    return x;
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const bundle = await createBundle(REFERENCE_VAE, initialState(REFERENCE_VAE, SEED));
const trainStepOnnx = bundle.files['train_step.onnx'];
// Every train_step output but the metrics: the parameters and optimizer state (the flat layout's vectors).
const stateOutputs = bundle.manifest.graphs.train_step.outputs.map((o) => o.name).filter((n) => !TRAIN_METRICS.includes(n));
const dataFor = new Map(BATCHES.map((b) => [b, makeBatches(b, SEED + b)]));

/** WARMUP + STEPS optimizer steps from the seed's initial state: per-step wall times, losses, final metrics, parameters. */
async function runOne(rt, batch, state) {
  const session = await rt.createSession(
    trainStepOnnx,
    'train_step.onnx',
    state === 'device' ? { outputsOnDevice: stateOutputs } : undefined,
  );
  const trainer = new Trainer(rt.ort, session, bundle.manifest, initialState(REFERENCE_VAE, SEED), { lr: LR });
  const data = dataFor.get(batch);
  const losses = [];
  const ms = [];
  let last;
  for (let i = 0; i < WARMUP + STEPS; i++) {
    const t = performance.now();
    last = await trainer.trainStep(data[i % NBATCH], batch);
    const dt = performance.now() - t;
    if (i >= WARMUP) ms.push(dt);
    losses.push(last.loss);
  }
  const params = state === 'device' ? undefined : (await trainer.snapshot()).params;
  await session.release();
  return { ms, losses, rec: last.rec, kl: last.kl, elbo: last.elbo, params };
}

function compare(run, ref) {
  const rel = (a, b) => Math.abs(a - b) / Math.abs(b);
  const lossRel = Math.max(...run.losses.map((l, i) => rel(l, ref.losses[i])));
  const elboRel = Math.max(rel(run.rec, ref.rec), rel(run.elbo, ref.elbo));
  const klAbs = Math.abs(run.kl - ref.kl);
  let paramMaxAbs;
  let paramMeanAbs;
  if (run.params) {
    let worst = 0;
    let sum = 0;
    let count = 0;
    for (const k of Object.keys(ref.params)) {
      const a = run.params[k].data;
      const b = ref.params[k].data;
      for (let i = 0; i < b.length; i++) {
        const d = Math.abs(a[i] - b[i]);
        worst = Math.max(worst, d);
        sum += d;
        count++;
      }
    }
    paramMaxAbs = worst;
    paramMeanAbs = sum / count;
  }
  const failed = [];
  if (!(lossRel < TOL.lossRel)) failed.push(`loss ${lossRel.toExponential(2)} ≥ ${TOL.lossRel}`);
  if (!(elboRel < TOL.elboRel)) failed.push(`ELBO terms ${elboRel.toExponential(2)} ≥ ${TOL.elboRel}`);
  if (!(klAbs < TOL.klAbs)) failed.push(`KL ${klAbs.toExponential(2)} nats ≥ ${TOL.klAbs}`);
  if (paramMaxAbs !== undefined && !(paramMaxAbs < TOL.paramMaxAbs))
    failed.push(`max |Δparam| ${paramMaxAbs.toExponential(2)} ≥ ${TOL.paramMaxAbs}`);
  if (paramMeanAbs !== undefined && !(paramMeanAbs < TOL.paramMeanAbs))
    failed.push(`mean |Δparam| ${paramMeanAbs.toExponential(2)} ≥ ${TOL.paramMeanAbs}`);
  return { lossRel, elboRel, klAbs, paramMaxAbs, paramMeanAbs, pass: failed.length === 0, failed };
}

// cpu first: it is the reference every other provider is compared with, so it runs even when not asked for.
const order = ['cpu', 'cuda', 'webgpu'].filter((p) => p === 'cpu' || REQUESTED.includes(p));
const variants = order.flatMap((p) => (p === 'webgpu' ? STATES.map((s) => ({ provider: p, state: s })) : [{ provider: p, state: 'host' }]));
const results = [];
const reference = new Map();

for (const { provider, state } of variants) {
  const label = provider === 'webgpu' ? `webgpu (${state})` : provider;
  const entry = { provider, state, label, requested: REQUESTED.includes(provider), result: 'SKIP', runs: [] };
  results.push(entry);
  let rt;
  try {
    rt = await createNodeRuntime({ provider });
  } catch (e) {
    // doctor's one line says why (and its fixes are in the JSON); createNodeRuntime's whole message goes to the file.
    entry.reason = machine.providers.find((p) => p.provider === provider)?.reason ?? e.message;
    entry.error = e.message;
    continue;
  }
  if (provider === 'webgpu') entry.adapter = machine.providers.find((p) => p.provider === 'webgpu')?.adapter;
  try {
    for (const batch of BATCHES) {
      process.stderr.write(`${label}, batch ${batch}: ${WARMUP} warm-up + ${STEPS} timed steps …\n`);
      const r = await runOne(rt, batch, state);
      if (provider === 'cpu') reference.set(batch, r);
      const msPerStep = median(r.ms);
      const run = {
        batch,
        msPerStep,
        msPerStepMean: r.ms.reduce((a, b) => a + b, 0) / r.ms.length,
        msPerStepMin: Math.min(...r.ms),
        samplesPerSec: (batch * 1000) / msPerStep,
        steps: WARMUP + STEPS,
        loss: r.losses[r.losses.length - 1],
        rec: r.rec,
        kl: r.kl,
        elbo: r.elbo,
        losses: r.losses,
      };
      if (provider !== 'cpu') {
        run.agreement = compare(r, reference.get(batch));
        run.speedupVsCpu = reference.get(batch).msMedian / msPerStep;
      } else {
        r.msMedian = msPerStep;
        run.speedupVsCpu = 1;
      }
      entry.runs.push(run);
    }
    entry.result = entry.runs.every((r) => !r.agreement || r.agreement.pass) ? 'PASS' : 'FAIL';
    if (entry.result === 'FAIL')
      entry.reason = entry.runs.flatMap((r) => r.agreement?.failed.map((f) => `batch ${r.batch}: ${f}`) ?? []).join('; ');
  } catch (e) {
    entry.result = 'FAIL';
    entry.reason = `${e.name ?? 'Error'}: ${e.message}`;
    print(`${label}: FAIL (${entry.reason})`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The table and the file.

const fmt = (x, d) => (x === undefined ? '—' : x.toFixed(d));
const exp = (x) => (x === undefined ? '—' : x.toExponential(1));
print();
print(
  `## reference VAE 784-400-20-400-784, Bernoulli, Adam ${LR}; median ms/step of ${STEPS} steps after ${WARMUP} warm-up; loss after ${WARMUP + STEPS} steps`,
);
print();
const head = ['provider', 'batch', 'ms/step', 'samples/s', '× cpu', 'loss', 'Δloss rel', 'Δparam max', 'result'];
const rows = [];
for (const e of results) {
  if (!e.runs.length) {
    rows.push([e.label, '—', '—', '—', '—', '—', '—', '—', `${e.result}: ${e.reason ?? ''}`]);
    continue;
  }
  for (const r of e.runs)
    rows.push([
      e.label,
      String(r.batch),
      fmt(r.msPerStep, 2),
      fmt(r.samplesPerSec, 0),
      fmt(r.speedupVsCpu, 2),
      fmt(r.loss, 4),
      exp(r.agreement?.lossRel),
      exp(r.agreement?.paramMaxAbs),
      e.provider === 'cpu' ? `${e.result} (reference)` : r.agreement?.pass ? 'PASS' : `FAIL: ${r.agreement?.failed.join('; ') ?? e.reason}`,
    ]);
}
const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === head.length - 1 ? 0 : r[i].length))));
const line = (cells) =>
  cells
    .map((c, i) => (i === cells.length - 1 ? c : i === 0 ? c.padEnd(width[i]) : c.padStart(width[i])))
    .join('  ')
    .trimEnd();
print(line(head));
for (const r of rows) print(line(r));
print();
for (const e of results) print(`${e.label}: ${e.result}${e.reason ? ` (${e.reason})` : ''}`);

const webgpu = machine.providers.find((p) => p.provider === 'webgpu');
const report = {
  format: 'onnxvae-gpu-bench',
  version: 1,
  date: new Date().toISOString(),
  command: `node bench/gpu.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  seconds: (Date.now() - t0) / 1000,
  machine: {
    versions: machine.versions,
    cpu: { ...machine.cpu, memoryGiB: totalmem() / 2 ** 30, logicalCores: cpus().length },
    nvidiaSmi: smi,
    vulkan: vk,
    cuda: machine.cuda,
    providers: machine.providers,
  },
  /** The WebGPU adapter Dawn gets (null where WebGPU does not start). ORT does not expose Dawn's adapter info, so it is
   * told from the Vulkan driver that gives the adapter, and nvidia-smi for an NVIDIA GPU's name. */
  adapter: webgpu?.available ? (webgpu.adapter ?? null) : null,
  model: { name: 'REFERENCE_VAE', layers: '784-400-20-400-784', likelihood: 'bernoulli', optimizer: 'adam', lr: LR },
  settings: { steps: STEPS, warmup: WARMUP, batches: BATCHES, seed: SEED, providers: REQUESTED, webgpuState: STATES },
  tolerances: TOL,
  results,
  pass: results.every((e) => e.result !== 'FAIL'),
};
writeFileSync(OUT_FILE, `${JSON.stringify(report, null, 2)}\n`);
print(`\nwrote ${OUT_FILE}`);
process.exit(report.pass ? 0 : 1);

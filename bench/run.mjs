#!/usr/bin/env node
/**
 * npm run bench (after `npm run build`): how fast onnxvae trains and evaluates on the CPU, against the hardware and
 * the peers, in one run (issue 13). bench/README.md says what every row means.
 *
 *   node bench/run.mjs [--quick] [--json]
 *
 * - the lone MatMul: one onnxruntime-node session computing [128, 784] · [784, 400] (the reference model's biggest
 *   layer; also with 1 thread, and a [1024, 1024] · [1024, 1024]): the GFLOP/s the training rows are measured against;
 * - the reference VAE (784-400-20-400-784, Bernoulli, Adam, batch 128) per optimizer step: onnxruntime-node cpu
 *   (plain, fused 8 steps in a Loop, 1 thread, the named layout against the default flat one), onnxruntime-web wasm
 *   (1 thread, and one thread per core on worker_threads), and the peers: TensorFlow.js (wasm, cpu), jax-js (wasm,
 *   jit) and PyTorch (when a python3 with torch is found), each row's GFLOP/s of matmuls and fraction of the MatMul;
 * - the conv VAE (convolutions 32, 64, dense 256, latent 16, batch 128) and the Burda MLP (784-200-200-50 tanh, batch
 *   20) on onnxvae and PyTorch;
 * - scaling: ms/step at batch 32 … 256 with the fixed cost per step (the least-squares intercept), and a width-1600
 *   model against its FLOP floor at the MatMul rate;
 * - the decoder's latency on 64 codes (node cpu, web wasm) and the IWAE evaluation's throughput (k = 1000 on 100
 *   digits) with the projected time of `onnxvae eval --k 5000` over 10,000 digits.
 *
 * Every number is the median of several repetitions. --quick: a smoke run with a few steps (test/bench.test.ts), no
 * TF.js cpu row, no batch 256; its numbers are not timings. --json: ONE JSON object on stdout, the tables and the
 * progress on stderr.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ortNode from 'onnxruntime-node';
import { REFERENCE_VAE, resolveConfig } from '../packages/core/dist/index.js';
import { decoderFlops, fitLine, fmt, pct, printTable, progress, settings, trainStepFlops } from './lib/common.mjs';
import { decodeRow, evalRow, matmulRow, trainRow } from './lib/onnx.mjs';
import { jaxRow, tfjsRow, torchRows } from './lib/peers.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

let args;
try {
  args = parseArgs({
    options: { quick: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  }).values;
} catch (e) {
  process.stderr.write(`bench/run.mjs: ${e.message}\nusage: node bench/run.mjs [--quick] [--json]\n`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write('usage: node bench/run.mjs [--quick] [--json]  (bench/README.md explains the rows)\n');
  process.exit(0);
}
const S = settings(!!args.quick);
const CORES = availableParallelism();
// With --json, stdout carries only the JSON: the tables (and anything a library prints) go to stderr.
const write = args.json ? (s) => process.stderr.write(s) : (s) => process.stdout.write(s);
if (args.json) console.log = console.error;

const B = 128;
const REF = { cfg: REFERENCE_VAE, hidden: [400], latent: 20 };
const CONV = resolveConfig({ arch: 'conv', inputShape: [1, 28, 28], convChannels: [32, 64], hidden: [256], latent: 16 });
const BURDA = resolveConfig(JSON.parse(readFileSync(join(HERE, '..', 'models', 'presets', 'burda-1layer.json'), 'utf8')));
const WIDE = resolveConfig({ hidden: [1600] });
const convTiming = { ...S, steps: Math.max(2, Math.round(S.steps / 2)) };

// ---------------------------------------------------------------------------------------------------------------
// Measurements. Each helper returns plain numbers; the tables and the JSON are made from them at the end.

/** The lone MatMul on onnxruntime-node cpu: the rate the training rows are compared with. */
async function measureMatmul() {
  progress('lone MatMul');
  return {
    ref: await matmulRow(ortNode, [B, 784, 400], S.calls * 4),
    ref1t: await matmulRow(ortNode, [B, 784, 400], S.calls * 4, { intraOpNumThreads: 1 }),
    large: await matmulRow(ortNode, [1024, 1024, 1024], S.calls),
    // The IWAE evaluation's own shape: ~1,536 sample rows through the decoder's 400 → 784 layer (runtime/evaluator.ts).
    evalShape: await matmulRow(ortNode, [1536, 400, 784], S.calls),
  };
}

/** The reference model on onnxruntime-node cpu: plain (flat layout), fused 8, 1 thread, named layout. */
async function measureNode() {
  const row = (label, opts) => {
    progress(`onnxvae node cpu: ${label}`);
    return trainRow(ortNode, REF.cfg, S, { batch: B, ...opts });
  };
  return {
    plain: await row('plain', {}),
    fused: await row('fused 8', { fused: 8 }),
    oneThread: await row('1 thread', { sessionOptions: { intraOpNumThreads: 1 } }),
    named: await row('named layout', { layout: 'named' }),
  };
}

/** onnxruntime-web in a child process per thread count (it reads numThreads once, at start). */
function measureWeb(threads) {
  const r = spawnSync(process.execPath, [join(HERE, 'lib', 'web-child.mjs'), JSON.stringify({ threads, quick: S.quick })], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    timeout: 1_800_000,
  });
  if (r.status !== 0) throw new Error(`web-child.mjs (${threads} threads) failed: ${r.error?.message ?? `exit ${r.status}`}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** ms/step at several batch sizes (reference widths) and the width-1600 model at batch 128. */
async function measureScaling(plain128) {
  const perBatch = {};
  for (const b of S.batches) {
    if (b === B) {
      perBatch[b] = plain128;
      continue;
    }
    progress(`onnxvae node cpu: batch ${b}`);
    perBatch[b] = (await trainRow(ortNode, REF.cfg, S, { batch: b })).ms;
  }
  progress('onnxvae node cpu: width 1600');
  const wide = (await trainRow(ortNode, WIDE, S, { batch: B })).ms;
  return { perBatch, wide };
}

async function measureOtherModels() {
  progress('onnxvae node cpu: conv VAE');
  const conv = await trainRow(ortNode, CONV, convTiming, { batch: B });
  progress('onnxvae node cpu: Burda MLP');
  const burda = await trainRow(ortNode, BURDA, S, { batch: 20 });
  return { conv: conv.ms, burda: burda.ms };
}

function measureTorch() {
  progress('PyTorch (bench/torch_vae.py)');
  const models = [
    { name: 'reference', arch: 'mlp', hidden: [400], latent: 20, batch: B },
    { name: 'conv', arch: 'conv', channels: [32, 64], hidden: [256], latent: 16, batch: B, step_scale: convTiming.steps / S.steps },
    { name: 'burda', arch: 'mlp', hidden: [200, 200], latent: 50, batch: 20, activation: 'tanh', eps: BURDA.optimizer.eps },
  ];
  return torchRows(models, S, CORES);
}

const t0 = Date.now();
const mm = await measureMatmul();
const node = await measureNode();
const scaling = await measureScaling(node.plain.ms);
const other = await measureOtherModels();
progress('onnxvae node cpu: decoder, 64 samples');
const decodeNode = await decodeRow(ortNode, REF.cfg, S.calls);
progress(`onnxvae node cpu: IWAE eval, k ${S.evalK} on ${S.evalN} digits`);
const evalNode = await evalRow(ortNode, REF.cfg, { k: S.evalK, n: S.evalN, reps: Math.min(S.reps, 3) });
const web1 = measureWeb(1);
const webN = CORES > 1 ? measureWeb(CORES) : null;
progress('TensorFlow.js wasm');
const tfjsWasm = await tfjsRow('wasm', S);
let tfjsCpu = null;
if (S.tfjsCpu) {
  progress('TensorFlow.js cpu');
  tfjsCpu = await tfjsRow('cpu', { ...S, steps: S.tfjsCpuSteps, reps: 3, warmup: 1 });
}
progress('jax-js wasm');
const jax = await jaxRow(S);
const torch = measureTorch();
const seconds = (Date.now() - t0) / 1000;

// ---------------------------------------------------------------------------------------------------------------
// Derived numbers.

const rate = mm.ref.gflops;
const flops = trainStepFlops(REF.hidden, REF.latent, B);
const gflopsOf = (ms, f = flops) => f / (ms * 1e6);
const fraction = (ms, f = flops) => gflopsOf(ms, f) / rate;
const tm = (name) => torch.models?.[name]?.ms_per_step ?? null;
const fit = fitLine(
  S.batches,
  S.batches.map((b) => scaling.perBatch[b]),
);
const wideFlops = trainStepFlops([1600], 20, B);
const wideFloor = wideFlops / (rate * 1e6);
const decFlops = decoderFlops(REF.hidden, REF.latent);
const evalGflops = (evalNode.samplesPerS * decFlops) / 1e9;
const projectedK5000 = (5000 * 10_000) / evalNode.samplesPerS;

const tfjsMs = tfjsWasm.ms;
const torchMs = tm('reference');
const trainRowCells = ({ label, ms, skipped }) =>
  skipped
    ? [label, skipped]
    : [
        label,
        fmt(ms),
        fmt(1000 / ms, 1),
        fmt(gflopsOf(ms), 1),
        pct(fraction(ms)),
        fmt(tfjsMs / ms),
        torchMs === null ? '—' : fmt(torchMs / ms),
      ];
const webNLabel =
  webN === null || webN.threads === webN.threadsAsked
    ? `onnxvae · onnxruntime-web wasm, ${webN?.threads ?? CORES} threads`
    : `onnxvae · onnxruntime-web wasm, ${webN.threadsAsked} threads asked: fell back to ${webN.threads}`;
const tfjsLabel = `TensorFlow.js wasm, ${tfjsWasm.threads === 1 ? '1 thread (no wasm threads in Node)' : `${tfjsWasm.threads} threads`}`;
const jaxLabel = `jax-js wasm (jit), ${jax.threads === 1 ? '1 thread (no Web Worker in Node)' : 'threaded'}`;
/** The reference model's training rows: a label and ms/step, or why the row did not run. */
const refList = [
  { label: 'onnxvae · onnxruntime-node cpu', ms: node.plain.ms },
  { label: 'onnxvae · onnxruntime-node cpu, fused 8 steps (Loop)', ms: node.fused.ms },
  { label: 'onnxvae · onnxruntime-node cpu, 1 thread', ms: node.oneThread.ms },
  { label: 'onnxvae · onnxruntime-node cpu, named layout (not flat)', ms: node.named.ms },
  { label: 'onnxvae · onnxruntime-web wasm, 1 thread', ms: web1.train.ms },
  webN === null ? { label: webNLabel, skipped: '— (1 core)' } : { label: webNLabel, ms: webN.train.ms },
  { label: tfjsLabel, ms: tfjsWasm.ms },
  tfjsCpu === null ? { label: 'TensorFlow.js cpu', skipped: 'skipped (--quick)' } : { label: 'TensorFlow.js cpu', ms: tfjsCpu.ms },
  { label: jaxLabel, ms: jax.ms },
  torchMs === null
    ? { label: 'PyTorch cpu', skipped: `skipped (${torch.skipped})` }
    : { label: `PyTorch ${torch.torch} cpu, ${torch.threads} threads, OpenBLAS 1 thread`, ms: torchMs },
];
const result = {
  quick: S.quick,
  cores: CORES,
  seconds,
  flops_per_step: flops,
  matmul_gflops: rate,
  matmul_1t_gflops: mm.ref1t.gflops,
  matmul_large_gflops: mm.large.gflops,
  matmul_eval_shape_gflops: mm.evalShape.gflops,
  ms_per_step: node.plain.ms,
  fraction_of_matmul: fraction(node.plain.ms),
  fused_ms_per_step: node.fused.ms,
  one_thread_ms_per_step: node.oneThread.ms,
  named_ms_per_step: node.named.ms,
  wasm_ms_per_step: web1.train.ms,
  wasm_threads_asked: webN?.threadsAsked ?? null,
  wasm_threads: webN?.threads ?? null,
  wasm_threads_ms_per_step: webN?.train.ms ?? null,
  tfjs_wasm_ms_per_step: tfjsWasm.ms,
  tfjs_cpu_ms_per_step: tfjsCpu?.ms ?? null,
  jax_wasm_ms_per_step: jax.ms,
  torch_ms_per_step: tm('reference'),
  torch_threads: torch.threads ?? null,
  torch_version: torch.torch ?? null,
  conv_ms_per_step: other.conv,
  torch_conv_ms_per_step: tm('conv'),
  burda_ms_per_step: other.burda,
  torch_burda_ms_per_step: tm('burda'),
  scaling_ms_per_step: scaling.perBatch,
  intercept_ms: fit.intercept,
  slope_ms_per_sample: fit.slope,
  width1600_ms_per_step: scaling.wide,
  width1600_floor_ms: wideFloor,
  width1600_fraction_of_matmul: wideFloor / scaling.wide,
  decode64_ms: decodeNode.ms,
  wasm_decode64_ms: web1.decode64Ms,
  wasm_threads_decode64_ms: webN?.decode64Ms ?? null,
  eval_k: S.evalK,
  eval_digits: S.evalN,
  eval_samples_per_s: evalNode.samplesPerS,
  eval_gflops: evalGflops,
  eval_fraction_of_matmul: evalGflops / rate,
  eval_fraction_of_eval_shape_matmul: evalGflops / mm.evalShape.gflops,
  eval_k5000_10k_digits_projected_s: projectedK5000,
  tfjs_wasm_threads: tfjsWasm.threads,
  jax_wasm_threads: jax.threads,
  // The reference table's rows as printed, each with its fraction of the MatMul.
  rows: refList.filter((r) => !r.skipped).map((r) => ({ label: r.label, ms_per_step: r.ms, fraction_of_matmul: fraction(r.ms) })),
};

// ---------------------------------------------------------------------------------------------------------------
// Tables.

const mode = S.quick ? ' [--quick: smoke run, not timings]' : '';
printTable(
  write,
  `Lone MatMul, onnxruntime-node cpu (${CORES} cores), median of ${S.calls * 4} runs${mode}`,
  ['matmul', 'threads', 'ms', 'GFLOP/s'],
  [
    ['[128, 784] · [784, 400]', 'default', fmt(mm.ref.ms, 3), fmt(mm.ref.gflops, 1)],
    ['[128, 784] · [784, 400]', '1', fmt(mm.ref1t.ms, 3), fmt(mm.ref1t.gflops, 1)],
    ['[1024, 1024] · [1024, 1024]', 'default', fmt(mm.large.ms, 3), fmt(mm.large.gflops, 1)],
    ['[1536, 400] · [400, 784] (eval)', 'default', fmt(mm.evalShape.ms, 3), fmt(mm.evalShape.gflops, 1)],
  ],
);

printTable(
  write,
  `Reference VAE 784-400-20-400-784, Bernoulli, Adam, batch ${B}: ${fmt(flops / 1e9, 3)} GFLOP of matmuls per step; ` +
    `median of ${S.reps} × ${S.steps} steps${mode}`,
  ['runtime', 'ms/step', 'steps/s', 'GFLOP/s', 'of MatMul', '× TF.js wasm', '× PyTorch'],
  refList.map(trainRowCells),
  [
    `of MatMul: the row's matmul GFLOP/s over the lone MatMul's (${fmt(rate, 1)} GFLOP/s); × peer > 1: faster than the peer`,
    `flat vs named layout: ${fmt(node.named.ms / node.plain.ms)}× (named ms / flat ms)`,
  ],
);

const vsTorch = (label, batch, ms, t) => [label, String(batch), fmt(ms), t === null ? '—' : fmt(t), t === null ? '—' : fmt(t / ms)];
printTable(
  write,
  `Other models, onnxvae (onnxruntime-node cpu, plain) vs PyTorch${mode}`,
  ['model', 'batch', 'onnxvae ms/step', 'PyTorch ms/step', '× PyTorch'],
  [
    vsTorch('reference 784-400-20-400-784', B, node.plain.ms, torchMs),
    vsTorch('conv VAE: conv 32, 64 (k4 s2), dense 256, latent 16', B, other.conv, tm('conv')),
    vsTorch('Burda MLP 784-200-200-50 tanh', 20, other.burda, tm('burda')),
  ],
  torchMs === null ? [`PyTorch skipped (${torch.skipped})`] : [],
);

printTable(
  write,
  `Scaling, onnxvae onnxruntime-node cpu, Adam${mode}`,
  ['model', 'batch', 'ms/step', 'samples/s', 'GFLOP/s', 'of MatMul'],
  [
    ...S.batches.map((b) => {
      const ms = scaling.perBatch[b];
      const f = trainStepFlops(REF.hidden, REF.latent, b);
      return ['784-400-20-400-784', String(b), fmt(ms), fmt((1000 * b) / ms, 0), fmt(gflopsOf(ms, f), 1), pct(fraction(ms, f))];
    }),
    [
      '784-1600-20-1600-784',
      String(B),
      fmt(scaling.wide),
      fmt((1000 * B) / scaling.wide, 0),
      fmt(gflopsOf(scaling.wide, wideFlops), 1),
      pct(fraction(scaling.wide, wideFlops)),
    ],
  ],
  [
    `fixed cost per step (least-squares intercept of ms/step over batch ${S.batches.join(', ')}): ${fmt(fit.intercept)} ms; ` +
      `slope ${fmt(fit.slope * 1000, 1)} µs per sample`,
    `width 1600: ${fmt(wideFlops / 1e9, 3)} GFLOP per step, floor at the MatMul rate ${fmt(wideFloor)} ms, ` +
      `measured ${fmt(scaling.wide)} ms (the floor is ${pct(wideFloor / scaling.wide)} of it)`,
  ],
);

printTable(
  write,
  `Decoder latency, decoder.onnx on 64 latent codes, median of ${S.calls} runs${mode}`,
  ['runtime', 'ms'],
  [
    ['onnxruntime-node cpu', fmt(decodeNode.ms, 3)],
    ['onnxruntime-web wasm, 1 thread', fmt(web1.decode64Ms, 3)],
    ...(webN ? [[`onnxruntime-web wasm, ${webN.threads} threads`, fmt(webN.decode64Ms, 3)]] : []),
  ],
);

printTable(
  write,
  `IWAE evaluation, reference model, onnxruntime-node cpu (Evaluator, eval.onnx), k ${S.evalK} on ${S.evalN} digits${mode}`,
  ['measure', 'value'],
  [
    ['seconds (median)', fmt(evalNode.seconds, 3)],
    ['samples/s (k × digits / s)', fmt(evalNode.samplesPerS, 0)],
    [`decoder GFLOP/s (${decFlops.toLocaleString('en')} FLOP per sample)`, fmt(evalGflops, 1)],
    ['of MatMul', pct(evalGflops / rate)],
    ['of MatMul at the eval shape [1536, 400] · [400, 784]', pct(evalGflops / mm.evalShape.gflops)],
    ['projected `onnxvae eval --k 5000` over 10,000 digits', `${fmt(projectedK5000 / 60, 1)} min`],
  ],
);
write(`\n(${fmt(seconds, 0)} s in all)\n`);

if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);

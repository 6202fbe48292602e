#!/usr/bin/env node
/**
 * The performance levers of issue 13, each measured against its own baseline in the same run (medians of repeated
 * timings; the machine is shared, so compare within a run):
 *   - the lone MatMul rate (the floor's yardstick) at the train step's and the IWAE evaluation's shapes;
 *   - train_step's 'named' layout (a feed per tensor) against 'flat' (one vector per kind), reference model, batch 128;
 *   - the Bernoulli log-likelihood: Softplus against Σ(x−½)l + Σ(log σ(|l|) − ½|l|), forward + backward, [128, 784];
 *   - IWAE evaluation: cache-sized runs (evalChunking) against the old 128 samples × 100 examples;
 *   - the PRNG's normals per second;
 *   - the step's floor: what a lone Adam update (the 12 elementwise ops over the flat vector) and handing three
 *     P-vectors back through the binding cost against the whole step, for the reference model (batch 128) and the
 *     Burda MLP (batch 20); Adam in 8 cache-sized chunks against one pass;
 *   - sessions: three train sessions of one model in one process, interleaved round by round.
 *
 *   npm run build && node bench/levers.mjs            # add --json for one JSON object
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import {
  buildEval,
  buildTrainStep,
  createBundle,
  Evaluator,
  flatLayout,
  Graph,
  gradients,
  initialState,
  optimizerStateSpecs,
  Prng,
  parameterSpecs,
  REFERENCE_VAE,
  resolveConfig,
  serializeModel,
  Trainer,
  updatedName,
} from '../packages/core/dist/internal.js';

const json = process.argv.includes('--json');
const log = (s) => process.stderr.write(`${s}\n`);
const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const f32 = (n, fn) => Float32Array.from({ length: n }, (_, i) => fn(i));

/** Median ms per call of each variant, interleaved round by round so load drifts hit all alike. */
async function compare(variants, { warm = 10, rounds = 7, reps = 20 } = {}) {
  for (const run of Object.values(variants)) for (let i = 0; i < warm; i++) await run();
  const t = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++)
    for (const [k, run] of Object.entries(variants)) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) await run();
      t[k].push((performance.now() - t0) / reps);
    }
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
}

async function matmulRate(M, K, N) {
  const g = new Graph('mm');
  g.output(g.MatMul(g.input('a', 'float32', [M, K]), g.input('b', 'float32', [K, N])), 'c');
  const s = await ort.InferenceSession.create(serializeModel(g));
  const feeds = {
    a: new ort.Tensor(
      'float32',
      f32(M * K, () => 0.5),
      [M, K],
    ),
    b: new ort.Tensor(
      'float32',
      f32(K * N, () => 0.25),
      [K, N],
    ),
  };
  const { ms } = await compare({ ms: () => s.run(feeds) }, { reps: 50 });
  return (2 * M * K * N) / ms / 1e6;
}

async function trainLayouts() {
  const cfg = REFERENCE_VAE;
  const B = 128;
  const st = initialState(cfg, 0);
  const x = new ort.Tensor(
    'float32',
    f32(B * 784, (i) => ((i * 7919) % 3 === 0 ? 1 : 0)),
    [B, 784],
  );
  const eps = new ort.Tensor(
    'float32',
    f32(B * 20, (i) => Math.sin(i)),
    [1, B, 20],
  );
  const sc = (v) => new ort.Tensor('float32', Float32Array.of(v), []);
  const specs = parameterSpecs(cfg);
  const make = async (layout) => {
    const s = await ort.InferenceSession.create(serializeModel(buildTrainStep(cfg, { layout })));
    const feeds = {};
    if (layout === 'flat') {
      const { entries, size } = flatLayout(specs);
      const p = new Float32Array(size);
      for (const e of entries) p.set(st.params[e.name].data, e.offset);
      feeds.params = new ort.Tensor('float32', p, [size]);
      for (const k of ['adam_m', 'adam_v']) feeds[k] = new ort.Tensor('float32', new Float32Array(size), [size]);
    } else {
      for (const sp of specs) feeds[sp.name] = new ort.Tensor('float32', Float32Array.from(st.params[sp.name].data), sp.shape);
      for (const ss of optimizerStateSpecs(cfg, specs))
        feeds[ss.name] = new ort.Tensor('float32', new Float32Array(ss.shape.reduce((a, b) => a * b, 1)), ss.shape);
    }
    let t = 0;
    return async () => {
      t++;
      const out = await s.run({ x, eps, step: sc(t), lr: sc(1e-3), beta: sc(1), ...feeds });
      for (const k of Object.keys(feeds)) feeds[k] = out[updatedName(k)];
    };
  };
  return compare({ named: await make('named'), flat: await make('flat') });
}

async function bernoulliForms() {
  const B = 128;
  const D = 784;
  const forms = {
    softplus: (g, x, l) => g.ReduceSum(g.Sub(g.Mul(x, l), g.Softplus(l)), [-1]),
    split: (g, x, l) => {
      const a = g.Abs(l);
      return g.Add(g.ReduceSum(g.Mul(g.Sub(x, 0.5), l), [-1]), g.ReduceSum(g.Sub(g.Log(g.Sigmoid(a)), g.Mul(a, 0.5)), [-1]));
    },
  };
  const feeds = {
    x: new ort.Tensor(
      'float32',
      f32(B * D, (i) => (i % 3 === 0 ? 1 : 0)),
      [B, D],
    ),
    l: new ort.Tensor(
      'float32',
      f32(B * D, (i) => Math.sin(i) * 8),
      [B, D],
    ),
  };
  const runs = {};
  for (const [k, fn] of Object.entries(forms)) {
    const g = new Graph(k);
    const x = g.input('x', 'float32', [B, D]);
    const l = g.input('l', 'float32', [B, D]);
    const y = g.ReduceSum(fn(g, x, l), [0]);
    g.output(y, 'y');
    g.output(gradients(g, y, [l])[0], 'dl');
    const s = await ort.InferenceSession.create(serializeModel(g));
    runs[k] = () => s.run(feeds);
  }
  return compare(runs);
}

async function evalChunks() {
  const cfg = REFERENCE_VAE;
  const st = initialState(cfg, 0);
  const s = await ort.InferenceSession.create(serializeModel(buildEval(cfg)));
  const ev = new Evaluator(ort, s, { config: cfg, params: Object.keys(st.params).map((name) => ({ name })) }, st.params);
  const n = 40;
  const k = 1000;
  const x = f32(n * 784, (i) => ((((Math.sin(i * 12.9898) * 43758.5453) % 1) + 1) % 1 > 0.8 ? 1 : 0));
  const t = await compare(
    { auto: () => ev.evaluate(x, n, { k }), old: () => ev.evaluate(x, n, { k, chunk: 128, batch: 100 }) },
    { warm: 1, rounds: 3, reps: 1 },
  );
  const flop = n * k * 2 * (20 * 400 + 400 * 784);
  return { auto_gflops: flop / t.auto / 1e6, old_gflops: flop / t.old / 1e6, k5000_10k_seconds: (t.auto / 1000) * (1e4 / n) * 5 };
}

/** Adam as train_step does it (optim/optimizer.ts, constants folded), over a P-vector, in `chunks` Split parts. */
function adamGraph(n, chunks) {
  const g = new Graph('adam');
  const ins = ['p', 'm', 'v', 'd'].map((k) => g.input(k, 'float32', [n]));
  const step = (p, m, v, d) => {
    const m2 = g.Add(g.Mul(m, 0.9), g.Mul(d, 0.1));
    const v2 = g.Add(g.Mul(v, 0.999), g.Mul(g.Mul(d, d), 0.001));
    return [g.Sub(p, g.Mul(g.Div(m2, g.Add(g.Sqrt(v2), 1e-8)), 1e-3)), m2, v2];
  };
  let outs;
  if (chunks === 1) outs = step(...ins);
  else {
    const base = Math.ceil(n / chunks);
    const sizes = Array.from({ length: chunks }, (_, i) => Math.min(base, n - i * base));
    const parts = ins.map((x) => g.Split(x, 0, sizes));
    const res = sizes.map((_, i) => step(...parts.map((q) => q[i])));
    outs = [0, 1, 2].map((j) =>
      g.Concat(
        res.map((r) => r[j]),
        0,
      ),
    );
  }
  for (const [i, o] of outs.entries()) g.output(o, `o${i}`);
  return g;
}

/** The step against its memory-bound parts: a lone Adam update and three P-vectors handed back (Identity). */
async function stepFloor(cfg, B) {
  const st = initialState(cfg, 0);
  const P = Object.values(st.params).reduce((a, t) => a + t.data.length, 0);
  const b = await createBundle(cfg, st);
  const tr = new Trainer(ort, await ort.InferenceSession.create(b.files['train_step.onnx']), b.manifest, st, { lr: 1e-3 });
  const x = f32(B * 784, (i) => ((i * 7919) % 3 === 0 ? 1 : 0));
  const vec = (fn) => new ort.Tensor('float32', f32(P, fn), [P]);
  const adamFeeds = { p: vec(Math.sin), m: vec(Math.cos), v: vec(() => 0.5), d: vec((i) => Math.sin(3 * i)) };
  const runOf = async (g, feeds) => {
    const s = await ort.InferenceSession.create(serializeModel(g));
    return async () => {
      const o = await s.run(feeds);
      for (const t of Object.values(o)) t.dispose?.();
    };
  };
  const ident = new Graph('identity');
  for (const k of ['p', 'm', 'v']) ident.output(ident.Identity(ident.input(k, 'float32', [P])), `o${k}`);
  const t = await compare({
    step: () => tr.trainStep(x, B),
    adam: await runOf(adamGraph(P, 1), adamFeeds),
    adam8: await runOf(adamGraph(P, 8), adamFeeds),
    returns: await runOf(ident, { p: adamFeeds.p, m: adamFeeds.m, v: adamFeeds.v }),
  });
  return { P, ...t };
}

/** Three train sessions of the reference model in one process, timed round by round: ms/step [session][round]. */
async function sessions() {
  const cfg = REFERENCE_VAE;
  const B = 128;
  const x = f32(B * 784, (i) => ((i * 7919) % 3 === 0 ? 1 : 0));
  const ss = [];
  for (let i = 0; i < 3; i++) {
    const st = initialState(cfg, 0);
    const b = await createBundle(cfg, st);
    const tr = new Trainer(ort, await ort.InferenceSession.create(b.files['train_step.onnx']), b.manifest, st, { lr: 1e-3 });
    ss.push(() => tr.trainStep(x, B));
  }
  const out = ss.map(() => []);
  for (let r = 0; r < 3; r++) {
    for (const [i, f] of ss.entries()) {
      for (let w = 0; w < 5; w++) await f();
      const reps = [];
      for (let k = 0; k < 5; k++) {
        const t0 = performance.now();
        for (let j = 0; j < 20; j++) await f();
        reps.push((performance.now() - t0) / 20);
      }
      out[i].push(median(reps));
    }
  }
  return out;
}

function prngNormals() {
  const p = new Prng(1);
  const a = new Float32Array(1 << 16);
  for (let i = 0; i < 20; i++) p.fillNormal(a);
  const ts = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) p.fillNormal(a);
    ts.push((performance.now() - t0) / (20 * a.length));
  }
  return median(ts) * 1e6; // ns per normal
}

log('lone MatMul …');
const mmStep = await matmulRate(128, 784, 400);
const mmEval = await matmulRate(1536, 400, 784);
log('train_step layouts …');
const layouts = await trainLayouts();
log('Bernoulli log-likelihood forms …');
const forms = await bernoulliForms();
log('IWAE evaluation …');
const ev = await evalChunks();
const ns = prngNormals();
log('the step against its memory-bound parts …');
const floorRef = await stepFloor(REFERENCE_VAE, 128);
const BURDA = resolveConfig(JSON.parse(readFileSync(new URL('../models/presets/burda-1layer.json', import.meta.url), 'utf8')));
const floorBurda = await stepFloor(BURDA, 20);
log('three sessions in one process …');
const sess = await sessions();
const stepFlop = 2 * 128 * (784 * 400 + 400 * 20 * 2 + 20 * 400 + 400 * 784) * 3 - 2 * 128 * 784 * 400; // fwd + bwd, no dX of layer 1
const result = {
  matmul_gflops_128x784x400: mmStep,
  matmul_gflops_1536x400x784: mmEval,
  train_named_ms: layouts.named,
  train_flat_ms: layouts.flat,
  train_step_gflop: stepFlop / 1e9,
  train_flat_fraction_of_matmul: stepFlop / 1e6 / layouts.flat / mmStep,
  bernoulli_softplus_ms: forms.softplus,
  bernoulli_split_ms: forms.split,
  eval_gflops: ev.auto_gflops,
  eval_gflops_old_chunks: ev.old_gflops,
  eval_fraction_of_matmul: ev.auto_gflops / mmEval,
  eval_k5000_10k_digits_s: ev.k5000_10k_seconds,
  prng_ns_per_normal: ns,
  floor_reference: floorRef,
  floor_burda_batch20: floorBurda,
  sessions_ms_by_round: sess,
};
if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  const r = (v, d = 2) => v.toFixed(d);
  console.log(`
lever                                             baseline        now   ratio
lone MatMul 128×784·784×400 (GFLOP/s)                        ${r(mmStep, 0).padStart(9)}
lone MatMul 1536×400·400×784 (GFLOP/s)                       ${r(mmEval, 0).padStart(9)}
train_step named → flat layout (ms/step)          ${r(layouts.named).padStart(8)} ${r(layouts.flat).padStart(10)} ${r(layouts.named / layouts.flat).padStart(7)}
  flat step: ${r(result.train_step_gflop, 3)} GFLOP, ${r(100 * result.train_flat_fraction_of_matmul, 0)}% of the lone-MatMul rate
Bernoulli Softplus → split form, fwd+bwd (ms)      ${r(forms.softplus, 3).padStart(8)} ${r(forms.split, 3).padStart(10)} ${r(forms.softplus / forms.split).padStart(7)}
IWAE eval 128×100 → cache-sized runs (GFLOP/s)    ${r(ev.old_gflops, 1).padStart(8)} ${r(ev.auto_gflops, 1).padStart(10)} ${r(ev.auto_gflops / ev.old_gflops).padStart(7)}
  eval: ${r(100 * result.eval_fraction_of_matmul, 0)}% of the lone-MatMul rate; eval --k 5000 over 10,000 digits ≈ ${r(ev.k5000_10k_seconds, 0)} s
PRNG normals (ns each)                                        ${r(ns, 1).padStart(9)}
Adam in one pass → 8 cache-sized chunks, P = ${floorRef.P} (ms) ${r(floorRef.adam, 3).padStart(6)} ${r(floorRef.adam8, 3).padStart(10)} ${r(floorRef.adam / floorRef.adam8).padStart(7)}
${[
  ['reference, batch 128', floorRef],
  ['Burda MLP, batch 20', floorBurda],
]
  .map(
    ([name, f]) =>
      `step floor, ${name} (P = ${f.P}): step ${r(f.step, 3)} ms; a lone Adam update ${r(f.adam, 3)} ms (${r((100 * f.adam) / f.step, 0)}%); three P-vectors returned ${r(f.returns, 3)} ms (${r((100 * f.returns) / f.step, 0)}%)`,
  )
  .join('\n')}
three train sessions in one process, ms/step by round (5 × 20 steps each):
${sess.map((rs, i) => `  session ${i + 1}: ${rs.map((v) => r(v)).join('  ')}`).join('\n')}
`);
}

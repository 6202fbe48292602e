#!/usr/bin/env node
/**
 * npm run bench: training speed of the reference VAE (784-400-20-400-784, Bernoulli, Adam, batch 128) per optimizer
 * step, on onnxruntime-node CPU (plain and fused K-step graphs), onnxruntime-web WASM, and the peer in the same run:
 * TensorFlow.js (wasm backend, and its pure-JS cpu backend), same model, same optimizer, same batch.
 * Prints a table and ratios against TF.js. Run after `npm run build`.
 */
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { createBundle, initialState, REFERENCE_VAE, Trainer } from '../packages/core/dist/index.js';

const B = 128;
const D = 784;
const quick = process.argv.includes('--quick');
const STEPS = quick ? 10 : 40;
const WARMUP = 3;

function batchOf(seed) {
  const x = new Float32Array(B * D);
  let s = seed >>> 0;
  for (let i = 0; i < x.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    x[i] = s >>> 31;
  }
  return x;
}
const data = Array.from({ length: 4 }, (_, i) => batchOf(i + 1));

async function timeOnnx(label, ort, opts = {}) {
  const k = opts.fused ?? 1;
  const st = initialState(REFERENCE_VAE, 0);
  const bundle = await createBundle(REFERENCE_VAE, st, { fusedSteps: k });
  const session = await ort.InferenceSession.create(bundle.files['train_step.onnx'], opts.sessionOptions ?? {});
  const trainer = new Trainer(ort, session, bundle.manifest, st, { lr: 1e-3 });
  const big = new Float32Array(k * B * D);
  for (let i = 0; i < k; i++) big.set(data[i % data.length], i * B * D);
  const run = (i) => (k === 1 ? trainer.trainStep(data[i % data.length], B) : trainer.trainStep(big, B));
  for (let i = 0; i < WARMUP; i++) await run(i);
  const n = Math.max(1, Math.round(STEPS / k));
  const t0 = performance.now();
  let last;
  for (let i = 0; i < n; i++) last = await run(i);
  const ms = (performance.now() - t0) / (n * k);
  return { label, ms, loss: last.loss };
}

async function timeTfjs(backend) {
  await tf.setBackend(backend);
  await tf.ready();
  const lin = (i, o) => {
    const b = 1 / Math.sqrt(i);
    return { w: tf.variable(tf.randomUniform([i, o], -b, b)), b: tf.variable(tf.randomUniform([o], -b, b)) };
  };
  const e1 = lin(784, 400);
  const mu = lin(400, 20);
  const lv = lin(400, 20);
  const d1 = lin(20, 400);
  const d2 = lin(400, 784);
  const opt = tf.train.adam(1e-3);
  const f = (l, x) => tf.add(tf.matMul(x, l.w), l.b);
  const step = (x, eps) =>
    opt.minimize(() => {
      const h = tf.relu(f(e1, x));
      const m = f(mu, h);
      const v = f(lv, h);
      const z = tf.add(m, tf.mul(tf.exp(tf.mul(v, 0.5)), eps));
      const logits = f(d2, tf.relu(f(d1, z)));
      const rec = tf.sum(tf.sub(tf.mul(x, logits), tf.softplus(logits)), 1);
      const kl = tf.mul(tf.sum(tf.sub(tf.add(tf.square(m), tf.exp(v)), tf.add(v, 1)), 1), 0.5);
      return tf.mean(tf.sub(kl, rec));
    }, true);
  const xs = data.map((d) => tf.tensor2d(d, [B, D]));
  let loss;
  const n = backend === 'cpu' ? Math.max(2, Math.round(STEPS / 8)) : STEPS;
  for (let i = 0; i < WARMUP; i++) tf.tidy(() => step(xs[i % xs.length], tf.randomNormal([B, 20])).dataSync());
  const t0 = performance.now();
  for (let i = 0; i < n; i++) loss = tf.tidy(() => step(xs[i % xs.length], tf.randomNormal([B, 20])).dataSync()[0]);
  const ms = (performance.now() - t0) / n;
  tf.disposeVariables();
  for (const x of xs) x.dispose();
  return { label: `TensorFlow.js ${backend}`, ms, loss };
}

ortWeb.env.wasm.numThreads = 1;
const rows = [];
rows.push(await timeOnnx('onnxvae · onnxruntime-node cpu', ortNode));
rows.push(await timeOnnx('onnxvae · onnxruntime-node cpu, 1 thread', ortNode, { sessionOptions: { intraOpNumThreads: 1 } }));
rows.push(await timeOnnx('onnxvae · onnxruntime-node cpu, fused 8 steps (Loop)', ortNode, { fused: 8 }));
rows.push(await timeOnnx('onnxvae · onnxruntime-web wasm (1 thread)', ortWeb));
rows.push(await timeTfjs('wasm'));
if (!quick) rows.push(await timeTfjs('cpu'));

const peer = rows.find((r) => r.label === 'TensorFlow.js wasm').ms;
console.log(
  `\nreference VAE 784-400-20-400-784, Bernoulli, Adam, batch ${B}; ms per optimizer step (${STEPS} steps after ${WARMUP} warm-up)\n`,
);
console.log(`${'runtime'.padEnd(56)} ${'ms/step'.padStart(9)} ${'steps/s'.padStart(9)} ${'× TF.js wasm'.padStart(13)}`);
for (const r of rows) {
  console.log(
    `${r.label.padEnd(56)} ${r.ms.toFixed(2).padStart(9)} ${(1000 / r.ms).toFixed(1).padStart(9)} ${(peer / r.ms).toFixed(2).padStart(13)}`,
  );
}
console.log('\n(× TF.js wasm > 1 means faster than TensorFlow.js on its wasm backend in this run)');

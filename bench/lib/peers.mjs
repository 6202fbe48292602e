/**
 * bench/lib/peers.mjs: the same reference VAE (784-400-20-400-784, ReLU, Bernoulli, analytic KL, loss = mean over
 * the batch of KL − log p(x|z), Adam 1e-3, batch 128) written in each peer: TensorFlow.js (wasm and cpu backends),
 * jax-js (wasm backend, one jit-compiled function for the loss, its gradient and Adam) and PyTorch (bench/torch_vae.py
 * in a python3 child, when one with torch is found).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { binaryBatches, D, timeSteps } from './common.mjs';

const B = 128;
const H = 400;
const L = 20;
const LR = 1e-3;
const ADAM = { b1: 0.9, b2: 0.999, eps: 1e-8 };

/** PyTorch-style U(±1/√in) weights and biases for one [in, out] layer, from a fixed LCG. */
function uniformLayer(inF, outF, seed) {
  const bound = 1 / Math.sqrt(inF);
  let s = seed >>> 0;
  const u = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 * bound - bound;
  };
  return { w: Float32Array.from({ length: inF * outF }, u), b: Float32Array.from({ length: outF }, u) };
}
const LAYERS = { e1: [D, H], mu: [H, L], lv: [H, L], d1: [L, H], d2: [H, D] };

/** Noise batches [B, L] for the peers that take it from the host (the same cost onnxvae's Trainer pays). */
function noiseBatches(count = 4) {
  return Array.from({ length: count }, (_, c) => {
    let s = (c + 11) >>> 0;
    const u = () => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return (s + 1) / 2 ** 32;
    };
    return Float32Array.from({ length: B * L }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
  });
}

/** TensorFlow.js on `backend` ('wasm' or 'cpu'): tf.train.adam minimizing the loss, one dataSync per step. */
export async function tfjsRow(backend, timing) {
  const tf = await import('@tensorflow/tfjs');
  const tfWasm = await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend(backend);
  await tf.ready();
  const params = Object.fromEntries(
    Object.entries(LAYERS).map(([name, [i, o]], n) => {
      const { w, b } = uniformLayer(i, o, n + 1);
      return [name, { w: tf.variable(tf.tensor2d(w, [i, o])), b: tf.variable(tf.tensor1d(b)) }];
    }),
  );
  const opt = tf.train.adam(LR, ADAM.b1, ADAM.b2, ADAM.eps);
  const f = (l, x) => tf.add(tf.matMul(x, l.w), l.b);
  const loss = (x, eps) => {
    const h = tf.relu(f(params.e1, x));
    const m = f(params.mu, h);
    const v = f(params.lv, h);
    const z = tf.add(m, tf.mul(tf.exp(tf.mul(v, 0.5)), eps));
    const logits = f(params.d2, tf.relu(f(params.d1, z)));
    const rec = tf.sum(tf.sub(tf.mul(x, logits), tf.softplus(logits)), 1);
    const kl = tf.mul(tf.sum(tf.sub(tf.add(tf.square(m), tf.exp(v)), tf.add(v, 1)), 1), 0.5);
    return tf.mean(tf.sub(kl, rec));
  };
  const xs = binaryBatches(B).map((d) => tf.tensor2d(d, [B, D]));
  const eps = noiseBatches().map((e) => tf.tensor2d(e, [B, L]));
  const r = await timeSteps(
    async (i) => tf.tidy(() => opt.minimize(() => loss(xs[i % xs.length], eps[i % eps.length]), true).dataSync()[0]),
    timing,
  );
  tf.disposeVariables();
  for (const t of [...xs, ...eps]) t.dispose();
  opt.dispose();
  // tfjs-backend-wasm runs threaded only where it finds wasm threads support (not in Node: 1 thread).
  const threads = backend === 'wasm' ? tfWasm.getThreadsCount() : 1;
  return { ms: r.ms, repsMs: r.repsMs, loss: r.last, threads };
}

/**
 * jax-js on its wasm backend: one jit-compiled step (valueAndGrad of the loss, then Adam, written out: jax-js has no
 * optimizers of its own; @jax-js/optax is a separate package). Arrays are reference-counted: every function consumes
 * its arguments, `.ref` keeps one for another use.
 */
export async function jaxRow(timing) {
  const { init, defaultDevice, jit, valueAndGrad, numpy: np, nn, tree } = await import('@jax-js/jax');
  const devices = await init('wasm');
  if (!devices.includes('wasm')) throw new Error(`jax-js: no wasm backend (devices: ${devices.join(', ')})`);
  defaultDevice('wasm');
  const f = (l, x) => np.matmul(x, l.w).add(l.b);
  const loss = (p, x, eps) => {
    const h = nn.relu(f(p.e1, x.ref));
    const m = f(p.mu, h.ref);
    const v = f(p.lv, h);
    const z = m.ref.add(np.exp(v.ref.mul(0.5)).mul(eps));
    const logits = f(p.d2, nn.relu(f(p.d1, z)));
    const rec = x.mul(logits.ref).sub(nn.softplus(logits)).sum(1);
    const kl = np.square(m).add(np.exp(v.ref)).sub(v).sub(1).sum(1).mul(0.5);
    return kl.sub(rec).mean();
  };
  const lossAndGrad = valueAndGrad(loss);
  const { b1, b2, eps: e } = ADAM;
  // c1 = 1/(1 − β₁ᵗ), c2 = 1/(1 − β₂ᵗ) come in as arrays, so one compiled step serves every t.
  const step = jit((p, m, v, x, eps, c1, c2) => {
    const [l, g] = lossAndGrad(tree.ref(p), x, eps);
    const m2 = tree.map((mi, gi) => mi.mul(b1).add(gi.mul(1 - b1)), m, tree.ref(g));
    const v2 = tree.map((vi, gi) => vi.mul(b2).add(np.square(gi).mul(1 - b2)), v, g);
    const p2 = tree.map(
      (pi, mi, vi) =>
        pi.sub(
          mi
            .mul(c1.ref)
            .mul(LR)
            .div(np.sqrt(vi.mul(c2.ref)).add(e)),
        ),
      p,
      tree.ref(m2),
      tree.ref(v2),
    );
    c1.dispose();
    c2.dispose();
    return [l, p2, m2, v2];
  });
  let p = Object.fromEntries(
    Object.entries(LAYERS).map(([name, [i, o]], n) => {
      const { w, b } = uniformLayer(i, o, n + 1);
      return [name, { w: np.array(w).reshape([i, o]), b: np.array(b) }];
    }),
  );
  let m = tree.map((a) => np.zerosLike(a.ref), p);
  let v = tree.map((a) => np.zerosLike(a.ref), p);
  const xs = binaryBatches(B);
  const noise = noiseBatches();
  let t = 0;
  const r = await timeSteps(async (i) => {
    t += 1;
    const x = np.array(xs[i % xs.length]).reshape([B, D]);
    const eps = np.array(noise[i % noise.length]).reshape([B, L]);
    const [l, p2, m2, v2] = step(p, m, v, x, eps, np.array(1 / (1 - b1 ** t)), np.array(1 / (1 - b2 ** t)));
    p = p2;
    m = m2;
    v = v2;
    return (await l.data())[0];
  }, timing);
  tree.dispose([p, m, v]);
  step.dispose();
  // jax-js's wasm backend starts threads only where there is a Web Worker (globalThis.Worker; Node has none).
  const threads = typeof globalThis.Worker === 'undefined' ? 1 : null;
  return { ms: r.ms, repsMs: r.repsMs, loss: r.last, threads };
}

const TORCH_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'torch_vae.py');

/**
 * A python3 that imports torch: $PYTHON where set (only it), else python3 on the PATH, then /usr/bin/python3 (Debian's
 * python3-torch installs for the system python, which a pyenv or venv python3 on the PATH may hide).
 */
export function findTorchPython() {
  const candidates = process.env.PYTHON ? [process.env.PYTHON] : ['python3', '/usr/bin/python3'];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return null;
}

/**
 * Runs bench/torch_vae.py on `models` with torch.set_num_threads(threads) and OPENBLAS_NUM_THREADS=1 (its best
 * setting here: bench/README.md). Returns its JSON, or null with the reason when no python3 has torch.
 */
export function torchRows(models, timing, threads) {
  const py = findTorchPython();
  if (!py) return { skipped: 'no torch', models: {} };
  const opts = { threads, steps: timing.steps, warmup: timing.warmup, reps: timing.reps, models };
  const r = spawnSync(py, [TORCH_SCRIPT, JSON.stringify(opts)], {
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: String(threads) },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    timeout: 1_800_000,
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) return { skipped: `torch_vae.py failed (${r.error?.message ?? `exit ${r.status}`})`, models: {} };
  return { python: py, ...JSON.parse(r.stdout.trim().split('\n').pop()) };
}

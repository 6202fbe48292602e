/**
 * bench/lib/onnx.mjs: the onnxvae rows, for any onnxruntime module (onnxruntime-node here, onnxruntime-web in
 * bench/lib/web-child.mjs): a training step (plain, fused K steps, flat or named layout, session options), the
 * decoder's latency, the IWAE evaluation's throughput, and the lone MatMul the training rows are measured against.
 */
import { performance } from 'node:perf_hooks';
import { createBundle, Evaluator, Graph, initialState, serializeModel, Trainer } from '../../packages/core/dist/index.js';
import { binaryBatches, D, median, timeCalls, timeSteps } from './common.mjs';

const SEED = 0;
const LR = 1e-3;

/** Standard normal values from a fixed LCG (Box–Muller), for latent codes. */
function normals(n, seed = 7) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  const u = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s + 1) / 2 ** 32;
  };
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

/**
 * ms per optimizer step of train_step.onnx for `cfg` at `batch`: `fused` steps per session run (a Loop over K
 * batches), `layout` 'flat' (all parameters in one vector, the default) or 'named' (one input per tensor).
 */
export async function trainRow(ort, cfg, timing, { batch, fused = 1, layout = 'flat', sessionOptions = {}, warmup } = {}) {
  const st = initialState(cfg, SEED);
  const bundle = await createBundle(cfg, st, { fusedSteps: fused, trainLayout: layout });
  const session = await ort.InferenceSession.create(bundle.files['train_step.onnx'], sessionOptions);
  const trainer = new Trainer(ort, session, bundle.manifest, st, { lr: LR });
  const data = binaryBatches(batch);
  let feed = data;
  if (fused > 1) {
    // Every session run gets K batches, the same 4 cycled as the plain rows.
    const big = new Float32Array(fused * batch * D);
    for (let i = 0; i < fused; i++) big.set(data[i % data.length], i * batch * D);
    feed = [big];
  }
  const r = await timeSteps((i) => trainer.trainStep(feed[i % feed.length], batch), {
    ...timing,
    warmup: warmup ?? timing.warmup,
    perCall: fused,
  });
  await session.release?.();
  return { ms: r.ms, repsMs: r.repsMs, loss: r.last.loss };
}

/** Median ms of one decoder.onnx run on `n` latent codes (the bundle's decoder, its parameters inside). */
export async function decodeRow(ort, cfg, calls, { n = 64, warmup = 3 } = {}) {
  const st = initialState(cfg, SEED);
  const bundle = await createBundle(cfg, st);
  const session = await ort.InferenceSession.create(bundle.files['decoder.onnx']);
  const z = new ort.Tensor('float32', normals(n * cfg.latent), [n, cfg.latent]);
  const ms = await timeCalls(
    async () => {
      const out = await session.run({ z });
      for (const t of Object.values(out)) t.dispose?.();
    },
    calls,
    warmup,
  );
  await session.release?.();
  return { ms };
}

/**
 * IWAE evaluation (eval.onnx through the Evaluator) with k samples on n digits, `reps` times: the median seconds and
 * the samples (k·n) per second. The model is the untrained initial state and the digits synthetic: the work per
 * sample does not depend on either.
 */
export async function evalRow(ort, cfg, { k, n, reps }) {
  const st = initialState(cfg, SEED);
  const bundle = await createBundle(cfg, st);
  const session = await ort.InferenceSession.create(bundle.files['eval.onnx']);
  const ev = new Evaluator(ort, session, bundle.manifest, st.params);
  const x = binaryBatches(n, 1)[0];
  const w = Math.min(n, 2);
  await ev.evaluate(x.subarray(0, w * D), w, { k }); // warm-up
  const secs = [];
  let iwae;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    iwae = (await ev.evaluate(x, n, { k })).iwae;
    secs.push((performance.now() - t0) / 1000);
  }
  await session.release?.();
  const s = median(secs);
  return { seconds: s, samplesPerS: (k * n) / s, iwae };
}

/** GFLOP/s of one MatMul [m, k] · [k, n], both inputs fed, median over single runs. */
export async function matmulRow(ort, [m, k, n], calls, sessionOptions = {}) {
  const g = new Graph('matmul');
  const a = g.input('a', 'float32', [m, k]);
  const b = g.input('b', 'float32', [k, n]);
  g.output(g.MatMul(a, b), 'c');
  const session = await ort.InferenceSession.create(serializeModel(g), sessionOptions);
  const feeds = {
    a: new ort.Tensor('float32', normals(m * k, 1), [m, k]),
    b: new ort.Tensor('float32', normals(k * n, 2), [k, n]),
  };
  const ms = await timeCalls(async () => {
    const out = await session.run(feeds);
    out.c.dispose?.();
  }, calls);
  await session.release?.();
  return { ms, gflops: (2 * m * k * n) / (ms * 1e6) };
}

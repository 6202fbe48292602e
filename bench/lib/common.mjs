/**
 * bench/lib/common.mjs: what every row of `npm run bench` shares: the settings (full and --quick), synthetic data,
 * timing by repetitions with medians, the FLOP counts, a least-squares line and the one table printer.
 */
import { performance } from 'node:perf_hooks';

export const D = 784;

/**
 * Timing settings. Every row is `reps` repetitions of `steps` timed steps after `warmup` untimed ones; a row's
 * number is the median over the repetitions of each repetition's ms per step. onnxruntime-web's first ~20 steps are
 * slow (its allocator and, threaded, its worker pool warm up), hence its own warm-up. `quick` is the smoke version
 * the test runs: numbers from it only show that every row works.
 */
export function settings(quick) {
  return quick
    ? {
        quick,
        warmup: 2,
        webWarmup: 3,
        steps: 3,
        reps: 2,
        tfjsCpuSteps: 1,
        calls: 8,
        evalK: 50,
        evalN: 10,
        batches: [32, 64, 128],
        tfjsCpu: false,
      }
    : {
        quick,
        warmup: 5,
        webWarmup: 25,
        steps: 20,
        reps: 5,
        tfjsCpuSteps: 3,
        calls: 50,
        evalK: 1000,
        evalN: 100,
        batches: [32, 64, 128, 256],
        tfjsCpu: true,
      };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Progress goes to stderr, so that `--json` leaves stdout to the one JSON object. */
export const progress = (msg) => process.stderr.write(`bench: ${msg}\n`);

/**
 * Times `call(i)` (an async function doing `perCall` optimizer steps): `warmup` calls, then `reps` repetitions of
 * enough calls for `steps` steps. Returns the median ms per step, each repetition's, and the last call's result.
 */
export async function timeSteps(call, { warmup, steps, reps, perCall = 1 }) {
  let last;
  for (let i = 0; i < warmup; i++) last = await call(i);
  const calls = Math.max(1, Math.round(steps / perCall));
  const perRep = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) last = await call(i);
    perRep.push((performance.now() - t0) / (calls * perCall));
  }
  return { ms: median(perRep), repsMs: perRep, last };
}

/** Times each of `n` calls of `call` alone (after `warmup`): the median ms of one call. */
export async function timeCalls(call, n, warmup = 3) {
  for (let i = 0; i < warmup; i++) await call(i);
  const ts = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call(i);
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

/** `count` batches of `batch` × D random binary pixels (a fixed LCG: every runtime trains on the same data). */
export function binaryBatches(batch, count = 4, d = D) {
  return Array.from({ length: count }, (_, b) => {
    const x = new Float32Array(batch * d);
    let s = (b + 1) >>> 0;
    for (let i = 0; i < x.length; i++) {
      s = (s * 1664525 + 1013904223) >>> 0;
      x[i] = s >>> 31;
    }
    return x;
  });
}

/** The dense layers [in, out] of an MLP VAE: encoder trunk, μ and log σ² heads, decoder. */
export function mlpLayers(hidden, latent, d = D) {
  const enc = [d, ...hidden];
  const dec = [latent, ...[...hidden].reverse(), d];
  const pairs = (s) => s.slice(1).map((o, i) => [s[i], o]);
  const top = hidden[hidden.length - 1];
  return [...pairs(enc), [top, latent], [top, latent], ...pairs(dec)];
}

/**
 * FLOPs of one training step's matmuls at batch B: forward 2·B·in·out per layer, backward twice that (dX and dW)
 * except the first layer, whose input is the data and needs no dX.
 */
export function trainStepFlops(hidden, latent, batch, d = D) {
  const layers = mlpLayers(hidden, latent, d);
  let f = 0;
  for (const [i, [a, b]] of layers.entries()) f += 2 * batch * a * b * (i === 0 ? 2 : 3);
  return f;
}

/** FLOPs of one decoder pass for one latent sample (its matmuls): Σ 2·in·out. */
export function decoderFlops(hidden, latent, d = D) {
  const s = [latent, ...[...hidden].reverse(), d];
  return s.slice(1).reduce((f, o, i) => f + 2 * s[i] * o, 0);
}

/** Least-squares line y = a + b·x. */
export function fitLine(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((s, v) => s + v, 0) / n;
  const my = ys.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const b = sxy / sxx;
  return { intercept: my - b * mx, slope: b };
}

/** Fixed-point strings for the table; '—' for a missing number. */
export const fmt = (v, digits = 2) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));
export const pct = (v) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : `${(100 * v).toFixed(1)}%`);

/**
 * The one table printer: a title, a header row and rows of cells (strings); the first column is left-aligned, the
 * others right-aligned; `notes` lines follow the table.
 */
export function printTable(write, title, header, rows, notes = []) {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells) =>
    cells
      .map((v, c) => (c === 0 ? String(v ?? '').padEnd(widths[c]) : String(v ?? '').padStart(widths[c])))
      .join('  ')
      .trimEnd();
  write(`\n${title}\n`);
  write(`${line(header)}\n`);
  for (const r of rows) write(`${line(r)}\n`);
  for (const n of notes) write(`  ${n}\n`);
}

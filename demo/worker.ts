/**
 * The demo's module worker (bundled by demo/build.mjs to demo/dist/worker.js): every onnxruntime-web call of the
 * page runs here, so session creation, first-run shader compilation, decodes and fine-tuning never block the page.
 * onnxruntime-web itself is imported from /node_modules/onnxruntime-web/dist/ort.all.min.mjs (a module worker has
 * no import map; build.mjs rewrites the bare import), so it finds its .wasm and pthread .mjs files next to it.
 * The protocol is in protocol.ts.
 */
import { observedMask, Prng } from '@onnxvae/core';
import { createWebRuntime, type FineTuner, fetchBytes, WebModel, type WebRuntime } from '../packages/web/src/index.js';
import type { Api, InitArgs, InitResult, Request, RequestType, WorkerEvent } from './protocol.js';

/** The worker's global scope, typed by hand (the project compiles against the DOM lib, not WebWorker). */
const scope = self as unknown as {
  postMessage(message: unknown, options?: { transfer?: Transferable[] }): void;
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  crossOriginIsolated: boolean;
  navigator: { hardwareConcurrency?: number };
};

const emit = (e: WorkerEvent) => scope.postMessage(e);

interface Digits {
  x: Float32Array;
  n: number;
  labels: number[];
}

let rt: WebRuntime;
let model: WebModel;
let digits: Digits;
let prng: Prng;
let mapUrl = '';
let sliderLabel: number | undefined;
let tuner: FineTuner | undefined;
let tuning = false;
/** Prior samples for "nearest samples", per label (-1: a plain model); decoded again after fine-tuning. */
/** The image-completion model (completeInit), separate from the main one: fine-tuning does not touch it. */
let completer: WebModel | undefined;
const banks = new Map<number, { z: Float32Array; x: Float32Array }>();
const BANK = 256;
const BANK_SEED = 2024;

async function loadDigits(): Promise<Digits> {
  // 200 labels and a shape: 64 KiB is ample; the pixels are exactly n × 28 × 28 bytes.
  const metaBytes = await fetchBytes('/models/digits.json', undefined, 0, { maxBytes: 65536 });
  const meta = JSON.parse(new TextDecoder().decode(metaBytes)) as { shape: number[]; labels: number[] };
  const size = meta.shape.reduce((a, b) => a * b, 1);
  const bytes = await fetchBytes('/models/digits.bin', undefined, size);
  if (bytes.length !== size) throw new Error(`/models/digits.bin: ${bytes.length} bytes, digits.json says ${size}`);
  return { x: Float32Array.from(bytes, (b) => b / 255), n: meta.shape[0], labels: meta.labels };
}

/** The digits in a fixed shuffled order, so every fine-tuning batch mixes the classes (with their labels). */
function shuffled(d: Digits, D: number): { x: Float32Array; labels: Int32Array } {
  const perm = new Prng(7).permutation(d.n);
  const out = new Float32Array(d.x.length);
  for (const [i, src] of perm.entries()) out.set(d.x.subarray(src * D, (src + 1) * D), i * D);
  return { x: out, labels: Int32Array.from(perm, (src) => d.labels[src]) };
}

/** The digits of one class, in file order. */
function pick(d: Digits, D: number, label: number): { x: Float32Array; labels: Int32Array } {
  const rows = d.labels.flatMap((l, i) => (l === label ? [i] : []));
  const out = new Float32Array(rows.length * D);
  rows.forEach((src, i) => {
    out.set(d.x.subarray(src * D, (src + 1) * D), i * D);
  });
  return { x: out, labels: new Int32Array(rows.length).fill(label) };
}

const imageLength = () => model.imageSize[0] * model.imageSize[1];

async function init(a: InitArgs): Promise<InitResult> {
  let fallbackError: string | undefined;
  try {
    rt = await createWebRuntime({ prefer: a.prefer });
  } catch (e) {
    // Asked for WebGPU explicitly and it is missing: say so, and fall back to WASM rather than show nothing.
    fallbackError = (e as Error).message;
    rt = await createWebRuntime({ prefer: 'wasm' });
    rt.notes.unshift(`WebGPU unavailable (${fallbackError}); falling back to wasm`);
  }
  // Threads need SharedArrayBuffer, which only a cross-origin isolated context has (the demo server sends COOP/COEP).
  const isolated = scope.crossOriginIsolated === true;
  rt.ort.env.wasm.numThreads = isolated ? Math.min(4, scope.navigator.hardwareConcurrency || 1) : 1;
  emit({ event: 'runtime', provider: rt.provider, notes: rt.notes, fallbackError });
  model = await WebModel.load(rt, a.modelUrl, {
    onProgress: (p) =>
      emit({ event: 'progress', text: `Loading ${p.file}: ${Math.round(p.loaded / 1024)} / ${Math.round(p.total / 1024)} KiB` }),
  });
  const L = model.latent;
  // A conditional model decodes the sliders (and window.__demo.decode) for one class: `?label=`, else 0.
  sliderLabel = model.classes === undefined ? undefined : (a.sliderLabel ?? 0);
  // Warm-up: the first run of each session compiles its shaders (WebGPU) or sets up its kernels; do it now, here.
  emit({ event: 'progress', text: 'warming up (first decode and encode)…' });
  await model.sampler.decode(new Float32Array(L), 1, sliderLabel);
  await model.sampler.encode(new Float32Array(imageLength()), 1, model.classes === undefined ? undefined : 0);
  digits = await loadDigits();
  prng = new Prng(a.seed);
  mapUrl = a.mapUrl ?? (L === 2 ? a.modelUrl : '/models/mnist-2d');
  return {
    latent: L,
    classes: model.classes,
    imageSize: model.imageSize,
    weights: model.weights,
    // What onnxruntime-web settled on (it drops to 1 where threads cannot work).
    threads: rt.ort.env.wasm.numThreads ?? 1,
    isolated,
    digitLabels: digits.labels,
    mapUrl,
  };
}

async function bank(label: number | undefined): Promise<{ z: Float32Array; x: Float32Array }> {
  const key = label ?? -1;
  let b = banks.get(key);
  if (!b) {
    b = await model.sampler.sample(BANK, { prng: new Prng(BANK_SEED), label });
    banks.set(key, b);
  }
  return b;
}

type Handler<K extends RequestType> = (args: Api[K][0]) => Promise<Api[K][1]>;
const handlers: { [K in RequestType]: Handler<K> } = {
  init: (a) => init(a),
  sample: async ({ n, temperature, labels }) => model.sampler.sample(n, { temperature, prng, label: labels }),
  decode: async ({ z, n, label }) => ({ x: await model.sampler.decode(z, n, label ?? sliderLabel) }),
  encode: async ({ x, label, k }) => {
    const L = model.latent;
    const { mu, logvar } = await model.sampler.encode(x, 1, label);
    const sigma = logvar.map((v) => Math.exp(v / 2));
    const recon = await model.sampler.decode(mu, 1, label);
    const b = await bank(label);
    const dist = Array.from({ length: BANK }, (_, i) => {
      let s = 0;
      for (let j = 0; j < L; j++) s += (b.z[i * L + j] - mu[j]) ** 2;
      return Math.sqrt(s);
    });
    const nearest = dist
      .map((d, i) => [d, i])
      .sort((p, q) => p[0] - q[0] || p[1] - q[1])
      .slice(0, k)
      .map((p) => p[1]);
    const D = imageLength();
    const nearestX = new Float32Array(nearest.length * D);
    nearest.forEach((i, r) => {
      nearestX.set(b.x.subarray(i * D, (i + 1) * D), r * D);
    });
    return { mu: mu.slice(), sigma, recon, nearest, distances: nearest.map((i) => dist[i]), nearestX, bank: BANK };
  },
  interpolate: async ({ a, b }) => {
    const D = imageLength();
    const L = model.latent;
    const two = new Float32Array(2 * D);
    two.set(digits.x.subarray(a * D, (a + 1) * D));
    two.set(digits.x.subarray(b * D, (b + 1) * D), D);
    const ab = model.classes === undefined ? undefined : [digits.labels[a], digits.labels[b]];
    const { mu } = await model.sampler.encode(two, 2, ab);
    // A conditional model keeps the target's class along the path: only the style moves.
    const r = await model.sampler.interpolate(mu.slice(0, L), mu.slice(L, 2 * L), 10, 'slerp', ab?.[1]);
    return { x: r.x };
  },
  map: async ({ G }) => {
    const m2 = model.latent === 2 && mapUrl === model.baseUrl ? model : await WebModel.load(rt, mapUrl);
    const grid = new Float32Array(G * G * 2);
    for (let r = 0; r < G; r++) {
      for (let c = 0; c < G; c++) {
        grid[(r * G + c) * 2] = -2.5 + (5 * c) / (G - 1);
        grid[(r * G + c) * 2 + 1] = 2.5 - (5 * r) / (G - 1);
      }
    }
    const [h, w] = m2.imageSize;
    return { x: await m2.sampler.decode(grid, G * G, m2.classes === undefined ? undefined : 0), h, w };
  },
  completeInit: async ({ url }) => {
    const m = await WebModel.load(rt, url);
    const s = m.manifest.config.structured;
    if (!s) {
      await m.sampler.release();
      throw new Error(`${url} is not an image-completion model (its config has no \`structured: {observed}\`)`);
    }
    const [h, w] = m.imageSize;
    // Warm-up, as for the main model: the first run compiles the shaders (WebGPU); the same batch as a request.
    await m.sampler.complete(new Float32Array(h * w), 1, { samples: 8, seed: 0 });
    completer = m;
    return { observed: s.observed, mask: observedMask(m.manifest.config).slice(), imageSize: m.imageSize, latent: m.latent };
  },
  complete: async ({ c, samples, seed }) => {
    if (!completer) throw new Error('the completion model is not loaded');
    const r = await completer.sampler.complete(c, 1, { samples, seed });
    return { x: r.x, samples: r.samples };
  },
  finetune: async ({ only }) => {
    // One fine-tuning run at a time: a second one would interleave two runs' steps on the same weights.
    if (tuning) throw new Error('fine-tuning is already running');
    tuning = true;
    try {
      emit({ event: 'ft-status', text: 'loading train_step.onnx and the checkpoint…' });
      tuner ??= await model.fineTuner({ lr: 1e-3 });
      const D = imageLength();
      // All 200 digits in mixed batches of 50, or the 20 digits of one class as one batch.
      const pool = only === 'all' ? shuffled(digits, D) : pick(digits, D, Number(only));
      const poolN = pool.labels.length;
      const B = Math.min(50, poolN);
      const t0 = performance.now();
      let msPerStep = 0;
      for (let s = 0; s < 20; s++) {
        const k = (s * B) % poolN;
        const labels = model.classes === undefined ? undefined : pool.labels.slice(k, k + B);
        const m = await tuner.step(pool.x.slice(k * D, (k + B) * D), B, labels);
        msPerStep = (performance.now() - t0) / (s + 1);
        emit({ event: 'step', step: s + 1, of: 20, loss: m.loss, msPerStep, provider: tuner.provider });
      }
      const paramLocation = Object.values(tuner.trainer.parameterTensors)[0]?.location;
      // From now on decode with the fine-tuned weights: decoder.onnx and encoder.onnx are rebuilt from a snapshot.
      await model.useParams((await tuner.trainer.snapshot()).params);
      banks.clear();
      return { paramLocation, msPerStep, provider: tuner.provider };
    } finally {
      tuning = false;
    }
  },
};

/** The ArrayBuffers of a result's Float32Arrays, to transfer rather than copy (each its own copy, so safe to move). */
function transferables(result: unknown): Transferable[] {
  if (!result || typeof result !== 'object') return [];
  const out = new Set<ArrayBuffer>();
  for (const v of Object.values(result)) if (v instanceof Float32Array && v.buffer instanceof ArrayBuffer) out.add(v.buffer);
  return [...out];
}

/** Float32Arrays that are views into a larger or shared buffer are copied, so transferring one moves nothing else. */
function own<T>(result: T): T {
  if (!result || typeof result !== 'object') return result;
  const copy = { ...result } as Record<string, unknown>;
  for (const [k, v] of Object.entries(copy)) {
    if (v instanceof Float32Array && (v.byteOffset !== 0 || v.byteLength !== v.buffer.byteLength || !(v.buffer instanceof ArrayBuffer)))
      copy[k] = v.slice();
  }
  return copy as T;
}

scope.onmessage = (e) => {
  const { id, type, args } = e.data;
  // Every result's arrays are fresh (the bank of prior samples is kept here, and only copies of it leave).
  (handlers[type] as Handler<typeof type>)(args as never).then(
    (r) => {
      const result = own(r);
      scope.postMessage({ id, ok: true, result }, { transfer: transferables(result) });
    },
    (err: unknown) => scope.postMessage({ id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
};

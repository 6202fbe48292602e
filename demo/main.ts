/** The demo page's script (bundled by demo/build.mjs). State is exposed on window.__demo for the browser tests. */
import { Prng } from '@onnxvae/core';
import {
  createWebRuntime,
  drawImages,
  drawLossCurve,
  type FineTuner,
  fetchBytes,
  LatestOnly,
  WebModel,
  type WebProvider,
  type WebRuntime,
} from '../packages/web/src/index.js';
import type { DemoState } from './state.js';

const state: DemoState = { ready: false, losses: [], finetuneDone: false, mapReady: false, pending: 0 };
(window as unknown as { __demo: DemoState }).__demo = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);

function fail(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  state.error = msg;
  $('error').textContent = `Error: ${msg}`;
}

/**
 * Runs a UI job through a latest-wins scheduler (a slider fires far faster than a decode finishes: only the newest
 * request waits, stale ones are dropped), counting it in state.pending and showing its error.
 */
function job(latest: LatestOnly, task: () => Promise<void>): Promise<void> {
  state.pending++;
  return latest
    .run(task)
    .then(() => undefined, fail)
    .finally(() => {
      state.pending--;
    });
}

async function loadDigits(): Promise<{ x: Float32Array; n: number; labels: number[] }> {
  // 200 labels and a shape: 64 KiB is ample; the pixels are exactly n × 28 × 28 bytes.
  const metaBytes = await fetchBytes('/models/digits.json', undefined, 0, { maxBytes: 65536 });
  const meta = JSON.parse(new TextDecoder().decode(metaBytes)) as { shape: number[]; labels: number[] };
  const size = meta.shape.reduce((a, b) => a * b, 1);
  const bytes = await fetchBytes('/models/digits.bin', undefined, size);
  if (bytes.length !== size) throw new Error(`/models/digits.bin: ${bytes.length} bytes, digits.json says ${size}`);
  return { x: Float32Array.from(bytes, (b) => b / 255), n: meta.shape[0], labels: meta.labels };
}

/** The digits in a fixed shuffled order, so every fine-tuning batch mixes the classes (with their labels). */
function shuffled(d: { x: Float32Array; n: number; labels: number[] }, D: number): { x: Float32Array; labels: Int32Array } {
  const perm = new Prng(7).permutation(d.n);
  const out = new Float32Array(d.x.length);
  for (const [i, src] of perm.entries()) out.set(d.x.subarray(src * D, (src + 1) * D), i * D);
  return { x: out, labels: Int32Array.from(perm, (src) => d.labels[src]) };
}

/** The digits of one class, in file order. */
function pick(d: { x: Float32Array; n: number; labels: number[] }, D: number, label: number): { x: Float32Array; labels: Int32Array } {
  const rows = d.labels.flatMap((l, i) => (l === label ? [i] : []));
  const out = new Float32Array(rows.length * D);
  rows.forEach((src, i) => {
    out.set(d.x.subarray(src * D, (src + 1) * D), i * D);
  });
  return { x: out, labels: new Int32Array(rows.length).fill(label) };
}

async function main(): Promise<void> {
  const prefer = (params.get('provider') ?? 'auto') as WebProvider | 'auto';
  let rt: WebRuntime;
  try {
    rt = await createWebRuntime({ prefer });
  } catch (e) {
    // Asked for WebGPU explicitly and it is missing: say so, and fall back to WASM rather than show nothing.
    fail(e);
    rt = await createWebRuntime({ prefer: 'wasm' });
    rt.notes.unshift(`WebGPU unavailable (${(e as Error).message}); falling back to wasm`);
  }
  state.provider = rt.provider;
  state.notes = rt.notes;
  const modelUrl = params.get('model') ?? '/models/mnist';
  $('status').textContent = `Running on ${rt.provider} (${rt.notes.join('; ')}). Loading ${modelUrl}…`;
  const model = await WebModel.load(rt, modelUrl, {
    onProgress: (p) => {
      $('status').textContent =
        `Running on ${rt.provider}. Loading ${p.file}: ${Math.round(p.loaded / 1024)} / ${Math.round(p.total / 1024)} KiB`;
    },
  });
  const [h, w] = model.imageSize;
  const L = model.latent;
  state.latent = L;
  // A conditional model decodes with a label: the samples show one class per position, the sliders class `?label=`.
  const classes = model.classes;
  state.classes = classes;
  const sliderLabel = classes === undefined ? undefined : Number(params.get('label') ?? 0);
  const sampleLabels = classes === undefined ? undefined : Array.from({ length: 16 }, (_, i) => i % classes);
  state.decode = async (z, n) => Array.from(await model.sampler.decode(Float32Array.from(z), n, sliderLabel));
  const weights = model.weights === 'float16' ? ', float16 weights' : '';
  $('status').textContent = `Running on ${rt.provider} (${rt.notes.join('; ')}). Model: ${modelUrl}, latent size ${L}${weights}.`;

  // Samples.
  const prng = new Prng(Number(params.get('seed') ?? 1));
  const samplesJob = new LatestOnly();
  const resample = async () => {
    const t = Number(($('temperature') as HTMLInputElement).value);
    $('tval').textContent = String(t);
    const s = await model.sampler.sample(16, { temperature: t, prng, label: sampleLabels });
    state.sampleLabels = sampleLabels;
    state.sampleZ = Array.from(s.z);
    state.samplePixels = Array.from(s.x);
    state.sampleTemperature = t;
    drawImages($<HTMLCanvasElement>('samples'), s.x, 16, h, w, 8, 3);
  };
  await resample();
  $('resample').onclick = () => job(samplesJob, resample);
  $('temperature').oninput = () => job(samplesJob, resample);

  // Latent sliders for the first dims.
  const z = new Float32Array(L);
  const dims = Math.min(L, 8);
  const sliderJob = new LatestOnly();
  const redraw = async () => {
    const now = z.slice();
    drawImages($<HTMLCanvasElement>('slider-out'), await model.sampler.decode(now, 1, sliderLabel), 1, h, w, 1, 6);
    state.sliderZ = Array.from(now);
  };
  for (let i = 0; i < dims; i++) {
    const lab = document.createElement('label');
    lab.textContent = `z[${i}] `;
    const inp = document.createElement('input');
    Object.assign(inp, { type: 'range', min: '-3', max: '3', step: '0.1', value: '0' });
    inp.oninput = () => {
      z[i] = Number(inp.value);
      job(sliderJob, redraw);
    };
    lab.append(inp);
    $('sliders').append(lab);
  }
  await redraw();

  // Interpolation between two digits of the fine-tuning set.
  const digits = await loadDigits();
  const D = h * w;
  for (const sel of [$('from'), $('to')] as HTMLSelectElement[]) {
    for (let c = 0; c < 10; c++) sel.append(new Option(String(c), String(digits.labels.indexOf(c))));
  }
  ($('to') as HTMLSelectElement).value = String(digits.labels.indexOf(7));
  const interp = async () => {
    const a = Number(($('from') as HTMLSelectElement).value);
    const b = Number(($('to') as HTMLSelectElement).value);
    const two = new Float32Array(2 * D);
    two.set(digits.x.subarray(a * D, (a + 1) * D));
    two.set(digits.x.subarray(b * D, (b + 1) * D), D);
    const ab = classes === undefined ? undefined : [digits.labels[a], digits.labels[b]];
    const { mu } = await model.sampler.encode(two, 2, ab);
    // A conditional model keeps the target's class along the path: only the style moves.
    const r = await model.sampler.interpolate(mu.slice(0, L), mu.slice(L, 2 * L), 10, 'slerp', ab?.[1]);
    drawImages($<HTMLCanvasElement>('interpolation'), r.x, 10, h, w, 10, 3);
  };
  await interp();
  const interpJob = new LatestOnly();
  $('interp').onclick = () => job(interpJob, interp);

  // The 2-D latent map, from the 2-D model (or this one, when it is 2-D).
  const mapUrl = params.get('map') ?? (L === 2 ? modelUrl : '/models/mnist-2d');
  try {
    const m2 = L === 2 ? model : await WebModel.load(rt, mapUrl);
    const G = 15;
    const grid = new Float32Array(G * G * 2);
    for (let r = 0; r < G; r++) {
      for (let c = 0; c < G; c++) {
        grid[(r * G + c) * 2] = -2.5 + (5 * c) / (G - 1);
        grid[(r * G + c) * 2 + 1] = 2.5 - (5 * r) / (G - 1);
      }
    }
    const [h2, w2] = m2.imageSize;
    drawImages(
      $<HTMLCanvasElement>('map'),
      await m2.sampler.decode(grid, G * G, m2.classes === undefined ? undefined : 0),
      G * G,
      h2,
      w2,
      G,
      1,
    );
    state.mapReady = true;
  } catch (e) {
    $('map-note').textContent = `No 2-D map: ${(e as Error).message}`;
  }

  // Fine-tuning with a live loss curve.
  let tuner: FineTuner | undefined;
  let tuning = false;
  $('finetune').onclick = async () => {
    // One fine-tuning run at a time: a second click would interleave two runs' steps on the same weights.
    if (tuning) return;
    tuning = true;
    ($('finetune') as HTMLButtonElement).disabled = true;
    try {
      $('ft-status').textContent = 'loading train_step.onnx and the checkpoint…';
      tuner ??= await model.fineTuner({ lr: 1e-3 });
      // All 200 digits in mixed batches of 50, or the 20 digits of one class as one batch.
      const only = ($('ft-digits') as HTMLSelectElement).value;
      const pool = only === 'all' ? shuffled(digits, D) : pick(digits, D, Number(only));
      const poolN = pool.labels.length;
      const B = Math.min(50, poolN);
      const t0 = performance.now();
      for (let s = 0; s < 20; s++) {
        const k = (s * B) % poolN;
        const m = await tuner.step(pool.x.slice(k * D, (k + B) * D), B, classes === undefined ? undefined : pool.labels.slice(k, k + B));
        state.msPerStep = (performance.now() - t0) / (s + 1);
        state.losses.push(m.loss);
        drawLossCurve($('loss') as HTMLCanvasElement, state.losses, 'loss (nats)');
        $('ft-status').textContent =
          `step ${s + 1}/20 on ${tuner.provider}: loss ${m.loss.toFixed(2)}, ${state.msPerStep.toFixed(0)} ms/step`;
      }
      state.paramLocation = Object.values(tuner.trainer.parameterTensors)[0]?.location;
      // From now on decode with the fine-tuned weights: decoder.onnx and encoder.onnx are rebuilt from a snapshot.
      await model.useParams((await tuner.trainer.snapshot()).params);
      state.tuned = true;
      await Promise.all([job(samplesJob, resample), job(sliderJob, redraw), job(interpJob, interp)]);
      $('ft-status').textContent += ' — samples, sliders and interpolation now use the fine-tuned weights';
      state.finetuneDone = true;
    } catch (e) {
      fail(e);
    } finally {
      tuning = false;
      ($('finetune') as HTMLButtonElement).disabled = false;
    }
  };
  state.ready = true;
}

main().catch(fail);

/**
 * The demo page's script (bundled by demo/build.mjs): the DOM only. Every onnxruntime-web call runs in the module
 * worker demo/worker.ts (protocol.ts); this side sends requests and draws what comes back, so the page never
 * freezes. State is exposed on window.__demo for the browser tests.
 */

import { drawImages, drawLossCurve } from '../packages/web/src/draw.js';
import { LatestOnly } from '../packages/web/src/schedule.js';
import { drawPad } from './pad.js';
import type { Api, InitResult, Reply, RequestType, WorkerEvent, WorkerMessage } from './protocol.js';
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

// ---- The worker and its requests --------------------------------------------------------------------------------

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'onnxvae-demo' });
state.worker = true;
let nextId = 1;
const waiting = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
const listeners: ((e: WorkerEvent) => void)[] = [];

/** Sends one request to the worker; resolves with its result (arrays transferred), rejects with its error. */
function call<K extends RequestType>(type: K, args: Api[K][0], transfer: Transferable[] = []): Promise<Api[K][1]> {
  const id = nextId++;
  return new Promise<Api[K][1]>((ok, no) => {
    waiting.set(id, { ok: ok as (v: unknown) => void, fail: no });
    worker.postMessage({ id, type, args }, transfer);
  });
}

worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
  const m = e.data;
  if ('event' in m) {
    for (const l of listeners) l(m);
    return;
  }
  const r = m as Reply;
  const w = waiting.get(r.id);
  waiting.delete(r.id);
  if (r.ok) w?.ok(r.result);
  else w?.fail(new Error(r.error));
};
/** The worker itself failed (its script did not load, or an uncaught error): every request in flight fails. */
worker.onerror = (e: ErrorEvent) => {
  e.preventDefault();
  const err = new Error(`the worker failed: ${e.message || 'its script did not load'}`);
  fail(err);
  for (const w of waiting.values()) w.fail(err);
  waiting.clear();
};

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

/** What runs where, in words: the provider, WASM threads and why, and that it is all in a worker. */
function describeRuntime(provider: string, notes: string[], info?: InitResult): string {
  const adapter = notes.find((n) => n.startsWith('webgpu: adapter found'))?.replace(/^webgpu: /, '');
  if (!info) return `Running on ${provider}${adapter ? ` (${adapter})` : ''}, in a Web Worker.`;
  const t = info.threads;
  const why = info.isolated ? 'cross-origin isolated' : 'not cross-origin isolated: no SharedArrayBuffer';
  const threads = `${t} thread${t === 1 ? '' : 's'} (${why})`;
  const other = notes.filter((n) => !n.startsWith('webgpu: adapter found')).join('; ');
  const head =
    provider === 'webgpu' ? `Running on webgpu (${adapter ?? 'adapter'}; its CPU side on wasm, ${threads})` : `Running on wasm, ${threads}`;
  return `${head}, in a Web Worker${other ? ` [${other}]` : ''}.`;
}

/** The worker resolves URLs against its own script (/demo/dist/worker.js): a relative one is made absolute here. */
const absolute = (url: string) => (/^([a-z][a-z0-9+.-]*:|\/)/i.test(url) ? url : new URL(url, location.href).href);

// ---- The page ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const prefer = (params.get('provider') ?? 'auto') as 'webgpu' | 'wasm' | 'auto';
  const modelUrl = absolute(params.get('model') ?? '/models/mnist');
  const labelParam = params.get('label');
  let status = `Starting the worker; loading ${modelUrl}…`;
  $('status').textContent = status;
  listeners.push((e) => {
    if (e.event === 'runtime') {
      state.provider = e.provider;
      state.notes = e.notes;
      status = describeRuntime(e.provider, e.notes);
      $('status').textContent = `${status} Loading ${modelUrl}…`;
      if (e.fallbackError) fail(new Error(e.fallbackError));
    } else if (e.event === 'progress' && !state.ready) $('status').textContent = `${status} ${e.text}`;
  });
  const info = await call('init', {
    prefer,
    modelUrl,
    mapUrl: params.get('map') ?? undefined,
    seed: Number(params.get('seed') ?? 1),
    sliderLabel: labelParam === null ? undefined : Number(labelParam),
  });
  const [h, w] = info.imageSize;
  const L = info.latent;
  const classes = info.classes;
  state.latent = L;
  state.classes = classes;
  state.threads = info.threads;
  state.isolated = info.isolated;
  // A conditional model decodes with a label: the samples show one class per position, the sliders class `?label=`.
  const sliderLabel = classes === undefined ? undefined : Number(labelParam ?? 0);
  const sampleLabels = classes === undefined ? undefined : Array.from({ length: 16 }, (_, i) => i % classes);
  state.decode = async (z, n) => {
    const zz = Float32Array.from(z);
    return Array.from((await call('decode', { z: zz, n, label: sliderLabel }, [zz.buffer])).x);
  };
  // The completion panel has its own model, loaded beside the rest; if it fails, the panel says why (nothing else).
  void setUpCompletion();
  const weights = info.weights === 'float16' ? ', float16 weights' : '';
  $('status').textContent =
    `${describeRuntime(state.provider ?? '?', state.notes ?? [], info)} Model: ${modelUrl}, latent size ${L}${weights}.`;

  // Samples.
  const samplesJob = new LatestOnly();
  const resample = async () => {
    const t = Number(($('temperature') as HTMLInputElement).value);
    $('tval').textContent = String(t);
    const s = await call('sample', { n: 16, temperature: t, labels: sampleLabels });
    state.sampleLabels = sampleLabels;
    state.sampleZ = Array.from(s.z);
    state.samplePixels = Array.from(s.x);
    state.sampleTemperature = t;
    drawImages($<HTMLCanvasElement>('samples'), s.x, 16, h, w, 8, 3);
  };
  await resample();
  $('resample').onclick = () => job(samplesJob, resample);
  $('temperature').oninput = () => job(samplesJob, resample);

  // Latent sliders: every dimension, the first 8 in view and the rest folded away in a <details>.
  const z = new Float32Array(L);
  const sliderJob = new LatestOnly();
  const redraw = async () => {
    const now = z.slice();
    const { x } = await call('decode', { z: now.slice(), n: 1, label: sliderLabel });
    drawImages($<HTMLCanvasElement>('slider-out'), x, 1, h, w, 1, 6);
    state.sliderZ = Array.from(now);
  };
  const FIRST = 8;
  const first = document.createElement('div');
  first.className = 'dims';
  $('sliders').append(first);
  let rest: HTMLElement = first;
  if (L > FIRST) {
    const more = document.createElement('details');
    const summary = document.createElement('summary');
    summary.textContent = `all ${L} dimensions (z[${FIRST}]–z[${L - 1}] here)`;
    rest = document.createElement('div');
    rest.className = 'dims';
    more.append(summary, rest);
    $('sliders').append(more);
  }
  const inputs: HTMLInputElement[] = [];
  const shown: HTMLElement[] = [];
  const showValue = (i: number) => {
    shown[i].textContent = (z[i] >= 0 ? '+' : '') + z[i].toFixed(1);
  };
  for (let i = 0; i < L; i++) {
    const lab = document.createElement('label');
    lab.append(`z[${i}] `);
    const inp = document.createElement('input');
    Object.assign(inp, { type: 'range', min: '-3', max: '3', step: '0.1', value: '0' });
    inp.setAttribute('aria-label', `latent dimension ${i}`);
    const out = document.createElement('output');
    inputs.push(inp);
    shown.push(out);
    inp.oninput = () => {
      z[i] = Number(inp.value);
      showValue(i);
      job(sliderJob, redraw);
    };
    lab.append(inp, ' ', out);
    (i < FIRST ? first : rest).append(lab);
    showValue(i);
  }
  await redraw();

  // Interpolation between two digits of the fine-tuning set (held by the worker).
  for (const sel of [$('from'), $('to')] as HTMLSelectElement[]) {
    for (let c = 0; c < 10; c++) sel.append(new Option(String(c), String(info.digitLabels.indexOf(c))));
  }
  ($('to') as HTMLSelectElement).value = String(info.digitLabels.indexOf(7));
  const interp = async () => {
    const a = Number(($('from') as HTMLSelectElement).value);
    const b = Number(($('to') as HTMLSelectElement).value);
    const { x } = await call('interpolate', { a, b });
    drawImages($<HTMLCanvasElement>('interpolation'), x, 10, h, w, 10, 3);
  };
  await interp();
  const interpJob = new LatestOnly();
  $('interp').onclick = () => job(interpJob, interp);

  // The 2-D latent map, from the 2-D model (or this one, when it is 2-D).
  try {
    const G = 15;
    const m = await call('map', { G });
    drawImages($<HTMLCanvasElement>('map'), m.x, G * G, m.h, m.w, G, 1);
    state.mapReady = true;
  } catch (e) {
    $('map-note').textContent = `No 2-D map: ${(e as Error).message}`;
  }

  // Draw a digit: encode it, show μ ± σ, the reconstruction and the nearest prior samples.
  const encode = setUpDrawing();

  // Fine-tuning (in the worker) with a live loss curve. The empty chart is drawn now: a canvas's first text draw
  // sets up its fonts (~100 ms on a busy CPU), which belongs at load, not in the middle of fine-tuning.
  drawLossCurve($('loss') as HTMLCanvasElement, state.losses, 'loss (nats)');
  let tuning = false;
  listeners.push((e) => {
    if (e.event === 'ft-status') $('ft-status').textContent = e.text;
    if (e.event !== 'step') return;
    state.msPerStep = e.msPerStep;
    state.losses.push(e.loss);
    drawLossCurve($('loss') as HTMLCanvasElement, state.losses, 'loss (nats)');
    $('ft-status').textContent = `step ${e.step}/${e.of} on ${e.provider}: loss ${e.loss.toFixed(2)}, ${e.msPerStep.toFixed(0)} ms/step`;
  });
  $('finetune').onclick = async () => {
    // One fine-tuning run at a time: a second click would interleave two runs' steps on the same weights.
    if (tuning) return;
    tuning = true;
    ($('finetune') as HTMLButtonElement).disabled = true;
    try {
      const r = await call('finetune', { only: ($('ft-digits') as HTMLSelectElement).value });
      state.paramLocation = r.paramLocation;
      state.msPerStep = r.msPerStep;
      state.tuned = true;
      await Promise.all([job(samplesJob, resample), job(sliderJob, redraw), job(interpJob, interp), encode(true)]);
      $('ft-status').textContent += ' — samples, sliders, interpolation and the drawing panel now use the fine-tuned weights';
      state.finetuneDone = true;
    } catch (e) {
      fail(e);
    } finally {
      tuning = false;
      ($('finetune') as HTMLButtonElement).disabled = false;
    }
  };

  // μ of the drawing into the sliders.
  $('mu-to-sliders').onclick = () => {
    const mu = state.encodedMu;
    if (!mu) return;
    mu.forEach((v, i) => {
      z[i] = Math.fround(Math.max(-3, Math.min(3, Math.round(v * 10) / 10)));
      inputs[i].value = String(z[i]);
      showValue(i);
    });
    job(sliderJob, redraw);
  };
  state.ready = true;

  /** The drawing panel; returns its encode (`onlyIfDrawn`: skip when nothing has been drawn yet). */
  function setUpDrawing(): (onlyIfDrawn?: boolean) => Promise<void> {
    const pad = drawPad($<HTMLCanvasElement>('draw'), h, w, { onStroke: () => void encode() });

    const labelSel = $<HTMLSelectElement>('draw-label');
    if (classes !== undefined) {
      for (let c = 0; c < classes; c++) labelSel.append(new Option(String(c), String(c)));
      labelSel.onchange = () => void encode(true);
    } else labelSel.parentElement?.remove();

    const K = 8;
    const bars = document.getElementById('mu-bars') as Element;
    const encodeJob = new LatestOnly();
    const encode = (onlyIfDrawn = false): Promise<void> => {
      if (onlyIfDrawn && !pad.drawn) return Promise.resolve();
      return job(encodeJob, async () => {
        const x = pad.ink.slice();
        const label = classes === undefined ? undefined : Number(labelSel.value);
        const sent = x.slice();
        const r = await call('encode', { x: sent, label, k: K }, [sent.buffer]);
        state.drawnPixels = Array.from(x);
        state.drawnLabel = label;
        state.encodedMu = Array.from(r.mu);
        state.encodedSigma = Array.from(r.sigma);
        state.reconstructionPixels = Array.from(r.recon);
        state.nearestIndices = r.nearest;
        state.nearestDistances = r.distances;
        drawImages($<HTMLCanvasElement>('recon'), r.recon, 1, h, w, 1, 6);
        drawImages($<HTMLCanvasElement>('nearest'), r.nearestX, r.nearest.length, h, w, K, 3);
        $('nearest-note').textContent =
          `The ${r.nearest.length} of ${r.bank} fixed prior samples (seed 2024${label === undefined ? '' : `, class ${label}`}) whose latent z is nearest to μ (Euclidean distance in z, not in pixels): ` +
          r.distances.map((d) => d.toFixed(2)).join(', ');
        drawMuSigma(bars, r.mu, r.sigma);
        ($('mu-to-sliders') as HTMLButtonElement).disabled = false;
      });
    };
    $('draw-encode').onclick = () => void encode();
    $('draw-clear').onclick = () => {
      pad.clear();
      for (const k of ['drawnPixels', 'encodedMu', 'encodedSigma', 'reconstructionPixels', 'nearestIndices', 'nearestDistances'] as const)
        delete state[k];
      for (const id of ['recon', 'nearest']) {
        const c = $<HTMLCanvasElement>(id);
        c.getContext('2d')?.clearRect(0, 0, c.width, c.height);
      }
      bars.replaceChildren();
      $('nearest-note').textContent = '';
      ($('mu-to-sliders') as HTMLButtonElement).disabled = true;
    };
    return encode;
  }
}

/**
 * "Complete a digit": a pad that takes only the observed part (the top half: strokes are clipped to it, the rest is
 * shaded), and on each stroke 8 completions from the completion model (`?complete=`, default /models/mnist-complete).
 */
async function setUpCompletion(): Promise<void> {
  const url = absolute(params.get('complete') ?? '/models/mnist-complete');
  const status = $('complete-status');
  status.textContent = `Loading the completion model ${url}…`;
  let m: Api['completeInit'][1];
  try {
    m = await call('completeInit', { url });
  } catch (e) {
    state.completeError = e instanceof Error ? e.message : String(e);
    status.textContent = `No completion panel: ${state.completeError}`;
    $('fills-in').hidden = true;
    return;
  }
  const [h, w] = m.imageSize;
  const K = 8;
  let seed = Number(params.get('seed') ?? 1);
  const completeJob = new LatestOnly();
  /** Bumped by "clear": completions of a drawing cleared while they were computed are not shown. */
  let generation = 0;
  const complete = (): Promise<void> =>
    job(completeJob, async () => {
      const c = pad.ink.slice();
      const s = seed;
      const g = generation;
      const sent = c.slice();
      const r = await call('complete', { c: sent, samples: K, seed: s }, [sent.buffer]);
      if (g !== generation) return;
      state.completionInput = Array.from(c);
      state.completionPixels = Array.from(r.x);
      state.completionSeed = s;
      drawImages($<HTMLCanvasElement>('completions'), r.x, r.samples, h, w, K, 3);
      status.textContent = `${r.samples} completions, from the standard-normal draws of seed ${s} ("new draws" for others).`;
    });
  const pad = drawPad($<HTMLCanvasElement>('complete-draw'), h, w, { mask: m.mask, onStroke: () => void complete() });
  // The label over the bottom half fits a top-half model; another observed part is marked by the shading alone.
  if (m.observed !== 'top-half') {
    $('fills-in').hidden = true;
    $('complete-note').textContent =
      `Draw the observed part (${m.observed}); releasing asks the completion model for 8 completions. The shaded pixels are what the model fills in: strokes are clipped to the observed part.`;
  }
  const clear = $<HTMLButtonElement>('complete-clear');
  const reseed = $<HTMLButtonElement>('complete-reseed');
  clear.onclick = () => {
    generation++;
    pad.clear();
    for (const k of ['completionInput', 'completionPixels', 'completionSeed'] as const) delete state[k];
    const c = $<HTMLCanvasElement>('completions');
    c.getContext('2d')?.clearRect(0, 0, c.width, c.height);
    status.textContent = 'Draw the top half of a digit.';
  };
  reseed.onclick = () => {
    seed++;
    if (pad.drawn) void complete();
    else status.textContent = `Next completions from the draws of seed ${seed}.`;
  };
  clear.disabled = false;
  reseed.disabled = false;
  status.textContent = `Ready (${url}, latent size ${m.latent}): draw the top half of a digit.`;
  state.completeReady = true;
}

const SVG = 'http://www.w3.org/2000/svg';
/** μ as bars from 0 and ±σ as whiskers, one per latent dimension; hovering a dimension shows its numbers. */
function drawMuSigma(svg: Element, mu: Float32Array, sigma: Float32Array): void {
  const W = 420;
  const H = 150;
  const top = 10;
  const bottom = 20;
  const L = mu.length;
  const span = Math.max(1, ...Array.from(mu, (m, i) => Math.abs(m) + sigma[i])) * 1.05;
  const y = (v: number) => top + ((H - top - bottom) * (span - v)) / (2 * span);
  const band = (W - 30) / L;
  const el = (tag: string, attrs: Record<string, string | number>, parent: Element = svg) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    parent.append(e);
    return e;
  };
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('width', String(W));
  svg.setAttribute('height', String(H));
  el('line', { x1: 28, x2: W, y1: y(0), y2: y(0), stroke: '#999' });
  for (const v of [span / 1.05, -span / 1.05]) {
    const t = el('text', { x: 0, y: y(v) + 4, 'font-size': 10, fill: '#333' });
    t.textContent = v.toFixed(1);
  }
  for (let i = 0; i < L; i++) {
    const g = el('g', {});
    const cx = 30 + band * (i + 0.5);
    const m = mu[i];
    const s = sigma[i];
    el('rect', { x: cx - band * 0.35, width: band * 0.7, y: Math.min(y(0), y(m)), height: Math.abs(y(m) - y(0)), fill: '#1f77b4' }, g);
    el('line', { x1: cx, x2: cx, y1: y(m - s), y2: y(m + s), stroke: '#d62728' }, g);
    for (const v of [m - s, m + s]) el('line', { x1: cx - band * 0.2, x2: cx + band * 0.2, y1: y(v), y2: y(v), stroke: '#d62728' }, g);
    // A transparent full-height target, so the whole column shows the tooltip.
    el('rect', { x: cx - band / 2, width: band, y: 0, height: H, fill: 'transparent' }, g);
    const title = el('title', {}, g);
    title.textContent = `z[${i}]: μ = ${m.toFixed(3)}, σ = ${s.toFixed(3)}`;
    if (L <= 32 || i % 4 === 0) {
      const t = el('text', { x: cx, y: H - 6, 'font-size': 9, 'text-anchor': 'middle', fill: '#333' }, g);
      t.textContent = String(i);
    }
  }
}

main().catch(fail);

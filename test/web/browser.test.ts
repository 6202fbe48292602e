/**
 * The demo page in a real browser: headless Debian Chromium driven by playwright-core, on WebGPU (SwiftShader's
 * software Vulkan adapter) and on WASM. Checks that samples render, that decoded pixels match onnxruntime-node for
 * the same z, that fine-tuning lowers the loss, that a screenshot is not blank, that a conditional bundle loads and
 * draws labelled samples, and that bad input is reported.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain .mjs helpers without type declarations
import { buildDemo } from '../../demo/build.mjs';
// @ts-expect-error: plain .mjs helpers without type declarations
import { startServer } from '../../demo/serve.mjs';
import type { DemoState } from '../../demo/state.js';
import { createBundle, initialState, openSampler, resolveConfig, withFloat16Weights } from '../../packages/core/src/index.js';
import { readBundleDir, writeBundle } from '../../packages/node/src/bundle-io.js';
import { createNodeRuntime } from '../../packages/node/src/session.js';
import { decodePng } from './png-decode.js';

const CHROMIUM = '/usr/bin/chromium';
const root = resolve(__dirname, '../..');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`);

const BASE_FLAGS = [
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader', '--use-vulkan=swiftshader'];

type Demo = DemoState;
declare global {
  interface Window {
    __demo: Demo;
  }
}

let server: Server;
let base = '';
/** The WebGPU run's fine-tuning losses, compared step by step with the WASM run's (same data, seed and batches). */
let webgpuLosses: number[] | undefined;
const contexts: BrowserContext[] = [];
/** A private folder (the server mounts it at /test-models/bad-model/), so no other test's cleanup can remove it. */
const badDir = mkdtempSync(join(tmpdir(), 'onnxvae-bad-model-'));
/** A conditional bundle (784-32-4, 10 classes, fresh weights), mounted at /test-models/cvae/. */
const cvaeDir = mkdtempSync(join(tmpdir(), 'onnxvae-cvae-'));
/** models/mnist with float16 weights (what `onnxvae export --fp16` writes), mounted at /test-models/fp16/. */
const fp16Dir = mkdtempSync(join(tmpdir(), 'onnxvae-fp16-'));

async function launch(webgpu: boolean): Promise<BrowserContext> {
  const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'onnxvae-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: [...BASE_FLAGS, ...(webgpu ? WEBGPU_FLAGS : [])],
  });
  contexts.push(ctx);
  return ctx;
}

async function open(ctx: BrowserContext, query: string): Promise<{ page: Page; demo: Demo }> {
  const page = await ctx.newPage();
  await page.goto(`${base}/demo/?${query}`);
  await page.waitForFunction(() => window.__demo?.ready || window.__demo?.error, null, { timeout: 90_000 });
  return { page, demo: await page.evaluate(() => ({ ...window.__demo, decode: undefined })) };
}

/** Decodes z on onnxruntime-node CPU with the same decoder.onnx the page loaded. */
async function nodeDecode(z: number[], n: number): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(readFileSync(join(root, 'models/mnist/decoder.onnx')));
  const out = await s.run({ z: new ort.Tensor('float32', Float32Array.from(z), [n, z.length / n]) });
  return out.x_mean.data as Float32Array;
}

/**
 * Thirty slider moves fired without waiting, alternating a latent slider and the temperature slider (the WebGPU demo
 * once showed "Session mismatch" and closed the page on this). Then, once every job has settled: no error, the page
 * is alive, and both canvases show the final slider values, checked against onnxruntime-node.
 */
async function fastSliders(page: Page, tolerance: number): Promise<void> {
  const final = await page.evaluate(() => {
    const t = document.getElementById('temperature') as HTMLInputElement;
    const zs = Array.from(document.querySelectorAll<HTMLInputElement>('#sliders input'));
    for (let i = 0; i < 30; i++) {
      const el = i % 2 ? t : zs[(i >> 1) % 3];
      el.value = String(i % 2 ? 0.2 + 0.05 * (i % 17) : -2.5 + 0.3 * (i % 13));
      el.dispatchEvent(new Event('input'));
    }
    return { t: Number(t.value), z: zs.map((e) => Number(e.value)) };
  });
  await page.waitForFunction(() => window.__demo.pending === 0 || window.__demo.error, null, { timeout: 120_000 });
  expect(page.isClosed()).toBe(false);
  const got = await page.evaluate(() => {
    const read = (id: string) => {
      const c = document.getElementById(id) as HTMLCanvasElement;
      return { w: c.width, data: Array.from((c.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, c.width, c.height).data) };
    };
    const d = window.__demo;
    return {
      error: d.error,
      errorText: document.getElementById('error')?.textContent,
      sliderZ: d.sliderZ,
      t: d.sampleTemperature,
      z: d.sampleZ,
      px: d.samplePixels,
      slider: read('slider-out'),
      samples: read('samples'),
    };
  });
  expect(got.error).toBeUndefined();
  expect(got.errorText).toBe('');
  expect(got.t).toBe(final.t);
  const L = (got.sliderZ as number[]).length;
  const zFinal = Array.from({ length: L }, (_, i) => final.z[i] ?? 0);
  expect(got.sliderZ).toEqual(zFinal.map((v) => Math.fround(v)));
  /** Gray level (0–255) at the centre of pixel (x, y) of image k in a drawImages grid (pad 2). */
  const level = (c: { w: number; data: number[] }, k: number, cols: number, scale: number, x: number, y: number) => {
    const x0 = 2 + (k % cols) * (28 * scale + 2);
    const y0 = 2 + Math.floor(k / cols) * (28 * scale + 2);
    return c.data[((y0 + y * scale + (scale >> 1)) * c.w + x0 + x * scale + (scale >> 1)) * 4];
  };
  const maxLevelDiff = (c: { w: number; data: number[] }, want: ArrayLike<number>, n: number, cols: number, scale: number) => {
    let m = 0;
    for (let k = 0; k < n; k++)
      for (let p = 0; p < 784; p++)
        m = Math.max(m, Math.abs(level(c, k, cols, scale, p % 28, Math.floor(p / 28)) - want[k * 784 + p] * 255));
    return m;
  };
  // The slider canvas against onnxruntime-node's decode of the final z; the samples canvas against the pixels of
  // its final draw, which onnxruntime-node reproduces from their z. Gray levels round to integers: 0.5 + the
  // provider's pixel tolerance (×255) is the most an honest draw can differ.
  expect(maxLevelDiff(got.slider, await nodeDecode(zFinal, 1), 1, 1, 6)).toBeLessThanOrEqual(0.5 + tolerance * 255);
  expect(maxLevelDiff(got.samples, got.px as number[], 16, 8, 3)).toBeLessThanOrEqual(0.5);
  expect(maxAbsDiff(got.px as number[], await nodeDecode(got.z as number[], 16))).toBeLessThan(tolerance);
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe.skipIf(!haveChromium)('demo page in headless Chromium', () => {
  beforeAll(async () => {
    await buildDemo();
    server = await startServer(0, {
      root,
      mounts: { '/test-models/bad-model/': badDir, '/test-models/cvae/': cvaeDir, '/test-models/fp16/': fp16Dir },
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // A copy of the model with one byte of decoder.onnx flipped: the manifest's sha256 must catch it.
    cpSync(join(root, 'models/mnist'), badDir, { recursive: true });
    const dec = readFileSync(join(badDir, 'decoder.onnx'));
    dec[dec.length - 100] ^= 0xff;
    writeFileSync(join(badDir, 'decoder.onnx'), dec);
    const cvae = resolveConfig({ inputShape: [784], hidden: [32], latent: 4, conditional: { classes: 10, prior: 'learned' } });
    writeBundle(cvaeDir, await createBundle(cvae, initialState(cvae, 1)));
    writeBundle(fp16Dir, await withFloat16Weights(await readBundleDir(join(root, 'models/mnist'))));
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close();
    server?.close();
    rmSync(badDir, { recursive: true, force: true });
    rmSync(cvaeDir, { recursive: true, force: true });
    rmSync(fp16Dir, { recursive: true, force: true });
  });

  it('renders on WebGPU, matches onnxruntime-node, fine-tunes, and its screenshot is not blank', async () => {
    const ctx = await launch(true);
    const { page, demo } = await open(ctx, 'provider=webgpu');
    expect(demo.error).toBeUndefined();
    expect(demo.provider).toBe('webgpu');
    expect(demo.mapReady).toBe(true);
    const z = demo.sampleZ as number[];
    const px = demo.samplePixels as number[];
    expect(px.length).toBe(16 * 784);
    // WebGPU shaders' exp/sigmoid are not correctly rounded and the GPU sums in another order; pixel means (in
    // [0, 1]) agree with the CPU to ~1e-5 in practice, so 1e-3 is a safe bound that still catches any wrong op.
    const gpuDiff = maxAbsDiff(px, await nodeDecode(z, 16));
    console.info(`WebGPU vs onnxruntime-node CPU: max |Δpixel| ${gpuDiff.toExponential(2)}`);
    expect(gpuDiff).toBeLessThan(1e-3);
    // COOP/COEP from the demo server: the page is cross-origin isolated, so WASM may use threads.
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await fastSliders(page, 1e-3);

    await page.click('#finetune');
    await page.waitForFunction(() => window.__demo.finetuneDone || window.__demo.error, null, { timeout: 180_000 });
    const after = await page.evaluate(() => ({
      losses: window.__demo.losses,
      error: window.__demo.error,
      where: window.__demo.paramLocation,
      msPerStep: window.__demo.msPerStep,
    }));
    expect(after.error).toBeUndefined();
    console.info(`WebGPU fine-tuning: ${after.msPerStep?.toFixed(0)} ms/step (batch 50)`);
    webgpuLosses = after.losses;
    // The weights stayed on the GPU between steps (gpu-buffer outputs fed back as inputs).
    expect(after.where).toBe('gpu-buffer');
    expect(after.losses.length).toBe(20);
    // Batches cycle every 4 steps: the same batch's loss after 16 Adam steps must be lower.
    expect(after.losses[16]).toBeLessThan(after.losses[0]);

    const shot = decodePng(await page.locator('#samples').screenshot());
    let sum = 0;
    let sq = 0;
    const n = shot.width * shot.height;
    for (let i = 0; i < n; i++) {
      const v = shot.pixels[i * shot.channels];
      sum += v;
      sq += v * v;
    }
    const variance = sq / n - (sum / n) ** 2;
    // A blank (single-colour) canvas has variance 0; drawn digits on black with gray padding give thousands.
    expect(variance).toBeGreaterThan(500);
  }, 240_000);

  it('renders on WASM and matches onnxruntime-node; rejects a wrong latent size', async () => {
    const ctx = await launch(false);
    const { page, demo } = await open(ctx, 'provider=wasm');
    expect(demo.error).toBeUndefined();
    expect(demo.provider).toBe('wasm');
    // Same float32 math on the CPU, different kernels: rounding only.
    const wasmDiff = maxAbsDiff(demo.samplePixels as number[], await nodeDecode(demo.sampleZ as number[], 16));
    console.info(`WASM vs onnxruntime-node CPU: max |Δpixel| ${wasmDiff.toExponential(2)}`);
    expect(wasmDiff).toBeLessThan(1e-5);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await fastSliders(page, 1e-5);
    const err = await page.evaluate(() =>
      (window.__demo.decode as Demo['decode'])?.(new Array(5).fill(0), 1).then(
        () => 'no error',
        (e: Error) => e.message,
      ),
    );
    expect(err).toMatch(/expected 1 × 20 \(the model's latent size is 20\)/);
    await page.click('#finetune');
    await page.waitForFunction(() => window.__demo.finetuneDone || window.__demo.error, null, { timeout: 120_000 });
    const { losses, where, tuned, msPerStep } = await page.evaluate(() => ({
      losses: window.__demo.losses,
      where: window.__demo.paramLocation,
      tuned: window.__demo.tuned,
      msPerStep: window.__demo.msPerStep,
    }));
    console.info(`WASM fine-tuning: ${msPerStep?.toFixed(0)} ms/step (batch 50)`);
    expect(losses[16]).toBeLessThan(losses[0]);
    expect(where).toBe('cpu');
    // Parameters kept on the GPU as gpu-buffer tensors and fed back as inputs give the same training run as WASM:
    // float32 in both, so only summation order differs (~1e-6 relative per step); 20 Adam steps stay below 1e-4.
    if (webgpuLosses) {
      const rel = Math.max(...losses.map((l, i) => Math.abs(l - (webgpuLosses as number[])[i]) / Math.abs(l)));
      console.info(`fine-tuning losses, WebGPU vs WASM: max relative difference ${rel.toExponential(2)}`);
      expect(rel).toBeLessThan(1e-4);
    }
    // The page now decodes with the fine-tuned weights (decoder.onnx rebuilt in the page from a snapshot): the same z
    // gives other pixels. 20 Adam steps at lr 1e-3 move the weights by up to ~2e-2, far above float32 rounding (1e-7).
    expect(tuned).toBe(true);
    const z0 = demo.sampleZ as number[];
    const retuned = await page.evaluate((z) => (window.__demo.decode as NonNullable<Demo['decode']>)(z, 16), z0);
    expect(retuned.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(maxAbsDiff(retuned, demo.samplePixels as number[])).toBeGreaterThan(1e-3);
  }, 180_000);

  it('loads a conditional bundle in WebModel on WASM, draws labelled samples and fine-tunes with labels', async () => {
    const ctx = await launch(false);
    const { page, demo } = await open(ctx, 'provider=wasm&model=/test-models/cvae');
    expect(demo.error).toBeUndefined();
    expect(demo.classes).toBe(10);
    const labels = demo.sampleLabels as number[];
    expect(labels).toEqual(Array.from({ length: 16 }, (_, i) => i % 10));
    // The page's pixels are the decoder's for its z and those labels, as onnxruntime-node decodes them through the
    // same seam (openSampler); float32 on the CPU in both, so rounding only.
    const ref = await openSampler(await createNodeRuntime({ provider: 'cpu' }), await readBundleDir(cvaeDir));
    const z = Float32Array.from(demo.sampleZ as number[]);
    const want = await ref.decode(z, 16, labels);
    expect(maxAbsDiff(demo.samplePixels as number[], want)).toBeLessThan(1e-5);
    // Not vacuous: with other labels the same z decode to other pixels (~0.09 apart with these weights).
    const other = await ref.decode(
      z,
      16,
      labels.map((l) => (l + 1) % 10),
    );
    expect(maxAbsDiff(other, want)).toBeGreaterThan(1e-2);
    await page.click('#finetune');
    await page.waitForFunction(() => window.__demo.finetuneDone || window.__demo.error, null, { timeout: 120_000 });
    const after = await page.evaluate(() => ({ losses: window.__demo.losses, error: window.__demo.error }));
    expect(after.error).toBeUndefined();
    expect(after.losses.length).toBe(20);
    // Batches cycle every 4 steps: the same batch (with its labels) after 16 Adam steps has a lower loss.
    expect(after.losses[16]).toBeLessThan(after.losses[0]);
  }, 120_000);

  it('says so when WebGPU is missing, and falls back to WASM', async () => {
    const ctx = await launch(false);
    const auto = await open(ctx, 'provider=auto');
    expect(auto.demo.provider).toBe('wasm');
    expect(auto.demo.notes?.join(' ')).toMatch(/webgpu: skipped/);
    const forced = await open(ctx, 'provider=webgpu');
    expect(forced.demo.provider).toBe('wasm');
    expect(forced.demo.error).toMatch(/WebGPU is not available/);
    expect(await forced.page.textContent('#error')).toMatch(/WebGPU is not available/);
    expect(await forced.page.textContent('#status')).toMatch(/Running on wasm/);
  }, 120_000);

  it('reports a missing model URL and a hash mismatch instead of drawing nothing', async () => {
    const ctx = contexts[contexts.length - 1] ?? (await launch(false));
    const missing = await open(ctx, 'provider=wasm&model=/models/nope');
    expect(missing.demo.error).toMatch(/cannot fetch .*\/models\/nope\/manifest\.json: HTTP 404/);
    expect(await missing.page.textContent('#error')).toMatch(/HTTP 404/);
    const tampered = await open(ctx, 'provider=wasm&model=/test-models/bad-model');
    expect(tampered.demo.error).toMatch(/decoder\.onnx: sha256 [0-9a-f]{64} does not match/);
  }, 120_000);

  it('runs a bundle exported with float16 weights on WebGPU and on WASM, within float16 rounding of float32', async () => {
    // The same z through the float16 decoder in the page and the float32 decoder on onnxruntime-node. float16 keeps
    // 11 significant bits: `export --fp16` measures 5.9e-4 max on 1,000 samples; 3e-3 bounds it with the provider's
    // own rounding (1e-5 WASM, 1e-3 WebGPU) on top. It must differ at all: else the page loaded float32 weights.
    const z = Array.from({ length: 8 * 20 }, (_, i) => Math.sin(1.7 * i + 0.3) * 1.5);
    const want = await nodeDecode(z, 8);
    for (const webgpu of [true, false]) {
      const ctx = await launch(webgpu);
      const { page, demo } = await open(ctx, `provider=${webgpu ? 'webgpu' : 'wasm'}&model=/test-models/fp16`);
      expect(demo.error).toBeUndefined();
      expect(demo.provider).toBe(webgpu ? 'webgpu' : 'wasm');
      const got = await page.evaluate((zz) => (window.__demo.decode as NonNullable<Demo['decode']>)(zz, 8), z);
      const d = maxAbsDiff(got, want);
      console.info(`float16 weights on ${demo.provider} vs float32 on onnxruntime-node: max |Δpixel| ${d.toExponential(2)}`);
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThan(3e-3);
      expect(await page.textContent('#status')).toMatch(/float16 weights/);
    }
  }, 180_000);
});

/**
 * Builds the Vite example (examples/vite, or a copy of it installed elsewhere), checks its output, serves it with
 * `vite preview` and opens it in headless Chromium, which decodes a bundle. Used by test/pack/vite-example.test.ts
 * (against the workspace packages) and by test/pack/pack-test.mjs (against the packed tarballs, outside the repo).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const ORT_FILES = ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

const requireFrom = (appDir) => createRequire(join(resolve(appDir), 'package.json'));

/** `vite build` in appDir (its own vite.config.ts, the vite that appDir resolves) into outDir. */
export function buildExample(appDir, outDir) {
  const vite = join(requireFrom(appDir).resolve('vite/package.json'), '../bin/vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: appDir,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`vite build in ${appDir} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

function walk(dir, out = []) {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/**
 * What is wrong with a build of the example, as sentences (empty: nothing): the page and the scripts it references,
 * onnxruntime-web's two runtime files under ort/ byte for byte as installed, and no second copy of the .wasm.
 */
export function checkDist(appDir, outDir) {
  const problems = [];
  const files = walk(outDir).map((p) => relative(outDir, p));
  if (!files.includes('index.html')) return [`${outDir} has no index.html`];
  const html = readFileSync(join(outDir, 'index.html'), 'utf8');
  const scripts = [...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1]);
  if (!scripts.some((s) => /^\/assets\/index-[\w-]+\.js$/.test(s))) problems.push(`index.html loads no /assets/index-*.js: ${scripts}`);
  for (const s of scripts) if (!files.includes(s.replace(/^\//, ''))) problems.push(`index.html loads ${s}, which the build lacks`);
  const ortDist = join(requireFrom(appDir).resolve('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm'), '..');
  for (const f of ORT_FILES) {
    const built = join(outDir, 'ort', f);
    if (!existsSync(built)) problems.push(`ort/${f} is missing`);
    else if (!readFileSync(built).equals(readFileSync(join(ortDist, f)))) problems.push(`ort/${f} differs from onnxruntime-web's`);
  }
  const wasm = files.filter((f) => f.endsWith('.wasm') && !f.startsWith('ort/'));
  if (wasm.length) problems.push(`a second copy of the WASM runtime: ${wasm}`);
  return problems;
}

const BASE_FLAGS = [
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Opens url in headless Chromium and returns what the page reports (window.onnxvaeExample) and its console. */
async function inChromium(url, timeoutMs) {
  const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'onnxvae-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: BASE_FLAGS,
  });
  try {
    const page = await ctx.newPage();
    const logs = [];
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    await page.goto(url);
    await page
      .waitForFunction(() => window.onnxvaeExample, null, { timeout: timeoutMs })
      .catch((e) => {
        throw new Error(`${e.message}\npage console:\n${logs.join('\n')}`);
      });
    const result = await page.evaluate(() => ({ ...window.onnxvaeExample, status: document.getElementById('status')?.textContent }));
    return { result, logs };
  } finally {
    await ctx.close();
  }
}

/** The COOP/COEP headers a GET of url answers with. */
async function isolationHeaders(url) {
  const res = await fetch(url);
  await res.arrayBuffer();
  return { coop: res.headers.get('cross-origin-opener-policy'), coep: res.headers.get('cross-origin-embedder-policy') };
}

const importVite = async (appDir) => import(pathToFileURL(requireFrom(appDir).resolve('vite')).href);

/**
 * Serves outDir with `vite preview` (appDir's config: its COOP/COEP headers) with the bundle folder modelDir copied to
 * outDir/model/, opens the page in headless Chromium with `query` (e.g. 'provider=wasm&threads=2') and returns what
 * the page reports (window.onnxvaeExample) and the headers the page came with.
 */
export async function openBuilt(appDir, outDir, modelDir, query = 'provider=wasm', timeoutMs = 60_000) {
  cpSync(modelDir, join(outDir, 'model'), { recursive: true, filter: (p) => !p.includes('checkpoints') });
  const { preview } = await importVite(appDir);
  const server = await preview({
    root: appDir,
    configFile: join(appDir, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, open: false },
  });
  try {
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error('vite preview reports no URL');
    return { url, headers: await isolationHeaders(url), ...(await inChromium(`${url}?${query}`, timeoutMs)) };
  } finally {
    await server.close();
  }
}

/**
 * The same under `vite dev` (appDir's config: its /ort/ middleware and headers), with modelDir served at /model/ by
 * a plugin added for the test (an app would put its bundle in public/model/).
 */
export async function openDev(appDir, modelDir, query = 'provider=wasm', timeoutMs = 60_000) {
  const { createServer } = await importVite(appDir);
  const serveModel = {
    name: 'test-model',
    configureServer(server) {
      server.middlewares.use('/model/', (req, res, next) => {
        const name = (req.url ?? '').split('?')[0].slice(1);
        if (!/^[\w.-]+$/.test(name) || !existsSync(join(modelDir, name))) return next();
        res.end(readFileSync(join(modelDir, name)));
      });
    },
  };
  const server = await createServer({
    root: appDir,
    configFile: join(appDir, 'vite.config.ts'),
    logLevel: 'warn',
    plugins: [serveModel],
    server: { host: '127.0.0.1', port: 0, strictPort: false, open: false, hmr: false },
  });
  await server.listen();
  try {
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error('vite dev reports no URL');
    return { url, headers: await isolationHeaders(url), ...(await inChromium(`${url}?${query}`, timeoutMs)) };
  } finally {
    await server.close();
  }
}

/** Decodes n latent vectors with decoder.onnx on onnxruntime-node (the reference the page's pixels must match). */
export async function nodeDecode(decoderPath, z, n) {
  const ort = await import('onnxruntime-node');
  const s = await ort.InferenceSession.create(readFileSync(decoderPath));
  const out = await s.run({ z: new ort.Tensor('float32', Float32Array.from(z), [n, z.length / n]) });
  const x = Array.from(out.x_mean.data);
  await s.release();
  return x;
}

/** The largest |a_i − b_i| (Infinity when the lengths differ). */
export function maxAbsDiff(a, b) {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

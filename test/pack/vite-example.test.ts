/**
 * examples/vite, the recipe for @onnxvae/web in a Vite app, against the workspace packages: `vite build` emits the
 * page, its script and onnxruntime-web's two runtime files under ort/ (once); `vite preview` and `vite dev` send
 * COOP/COEP, and the page, in headless Chromium on WASM with two threads, decodes samples of models/mnist that match
 * onnxruntime-node. The same example against the packed tarballs, outside the repo: test/pack/pack-test.mjs (CI).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain .mjs helpers without type declarations
import { buildExample, CHROMIUM, checkDist, maxAbsDiff, nodeDecode, openBuilt, openDev } from './vite-example.mjs';

const root = resolve(__dirname, '../..');
const app = join(root, 'examples/vite');
const model = join(root, 'models/mnist');
const out = mkdtempSync(join(tmpdir(), 'onnxvae-vite-dist-'));
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`vite example: browser checks skipped, ${CHROMIUM} is missing (.ci/run installs it)`);

interface Opened {
  headers: { coop: string | null; coep: string | null };
  result: {
    provider?: string;
    crossOriginIsolated?: boolean;
    numThreads?: number;
    latent?: number;
    z?: number[];
    x?: number[];
    error?: string;
  };
  logs: string[];
}

/** The page decoded on two WASM threads in an isolated page, and its pixels are onnxruntime-node's for its z. */
async function expectDecoded(opened: Opened): Promise<void> {
  const { headers, result, logs } = opened;
  expect(headers).toEqual({ coop: 'same-origin', coep: 'require-corp' });
  expect(result.error, logs.join('\n')).toBeUndefined();
  expect(result).toMatchObject({ provider: 'wasm', crossOriginIsolated: true, numThreads: 2, latent: 20 });
  expect(result.x).toHaveLength(16 * 784);
  const ref = await nodeDecode(join(model, 'decoder.onnx'), result.z, 16);
  expect(maxAbsDiff(ref, result.x)).toBeLessThan(1e-4);
}

describe('examples/vite', () => {
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('vite build emits the page, its script and onnxruntime-web’s runtime under ort/, once', () => {
    buildExample(app, out);
    expect(checkDist(app, out)).toEqual([]);
  });

  it.skipIf(!haveChromium)('the built page, under vite preview, decodes samples in Chromium (WASM, 2 threads)', async () => {
    await expectDecoded(await openBuilt(app, out, model, 'provider=wasm&threads=2'));
  });

  it.skipIf(!haveChromium)('and so does vite dev (ort/ served by the config’s plugin)', async () => {
    await expectDecoded(await openDev(app, model, 'provider=wasm&threads=2'));
  });
});

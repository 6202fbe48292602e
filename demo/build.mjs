#!/usr/bin/env node
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
/**
 * Bundles the demo (with @onnxvae/core and @onnxvae/web sources): demo/main.ts, the page's script (the DOM only), to
 * demo/dist/main.js, and demo/worker.ts, the module worker that runs onnxruntime-web, to demo/dist/worker.js.
 * onnxruntime-web stays external: a module worker has no import map, so its bare import is rewritten to the URL the
 * demo server serves it at, where it also finds its .wasm and pthread .mjs files.
 */
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
export const ORT_URL = '/node_modules/onnxruntime-web/dist/ort.all.min.mjs';

/** `import 'onnxruntime-web'` → `import '/node_modules/onnxruntime-web/dist/ort.all.min.mjs'`, left external. */
const ortByUrl = {
  name: 'onnxruntime-web-by-url',
  setup(b) {
    b.onResolve({ filter: /^onnxruntime-web$/ }, () => ({ path: ORT_URL, external: true }));
  },
};

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  plugins: [ortByUrl],
  sourcemap: true,
  logLevel: 'warning',
};

export async function buildDemo() {
  await Promise.all([
    // The worker: the model code, core and onnxruntime-web (by URL).
    build({
      ...common,
      entryPoints: [join(here, 'worker.ts')],
      outfile: join(here, 'dist/worker.js'),
      alias: {
        '@onnxvae/core/internal': join(here, '../packages/core/src/internal.ts'),
        '@onnxvae/core': join(here, '../packages/core/src/index.ts'),
      },
    }),
    // The page: drawing and scheduling only. What it takes from core (tileImages, unitToByte, via the web package's
    // draw.ts) lives in core's image/tile.ts, which imports nothing: that alone keeps the graph builder and protobuf
    // (~400 KB) out of the page (an import of anything else from core fails this build loudly).
    build({
      ...common,
      entryPoints: [join(here, 'main.ts')],
      outfile: join(here, 'dist/main.js'),
      alias: { '@onnxvae/core': join(here, '../packages/core/src/image/tile.ts') },
    }),
  ]);
}
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildDemo();

#!/usr/bin/env node
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
/** Bundles demo/main.ts (with @onnxvae/core and @onnxvae/web sources) to demo/dist/main.js; onnxruntime-web stays
 *  external and is loaded from node_modules through the page's import map. */
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
export async function buildDemo() {
  await build({
    entryPoints: [join(here, 'main.ts')],
    outfile: join(here, 'dist/main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: ['onnxruntime-web'],
    sourcemap: true,
    logLevel: 'warning',
    alias: {
      '@onnxvae/core/internal': join(here, '../packages/core/src/internal.ts'),
      '@onnxvae/core': join(here, '../packages/core/src/index.ts'),
    },
  });
}
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildDemo();

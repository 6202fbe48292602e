/**
 * Vite config for an app that uses @onnxvae/web (onnxruntime-web underneath). Three things matter:
 *
 * 1. onnxruntime-web's WASM runtime. It loads ort-wasm-simd-threaded.jsep.mjs and .wasm at run time from
 *    `ort.env.wasm.wasmPaths` (main.ts sets it to `<base>ort/`). The plugin below copies the two files from
 *    node_modules/onnxruntime-web/dist into the build's ort/ folder and serves them at /ort/ in `vite dev`, so they
 *    always match the installed onnxruntime-web.
 * 2. COOP/COEP headers on the dev and preview servers: the page is then cross-origin isolated, SharedArrayBuffer
 *    exists and WASM runs multi-threaded. Your production server must send the same two headers (else one thread).
 * 3. The `onnxruntime-web-use-extern-wasm` export condition: `import 'onnxruntime-web'` then gives the build that
 *    loads those files from wasmPaths, not the one with the .mjs inlined (which would make Vite emit the 28 MB .wasm a
 *    second time under assets/, and start its WASM threads from your app's own chunk). And onnxruntime-web is left
 *    out of dependency pre-bundling (`vite dev` would otherwise rewrite it into .vite/deps).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';

/** The runtime files of onnxruntime-web's default build (WebGPU + WASM, what `import 'onnxruntime-web'` gives). */
const ORT_FILES = ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];
const ortDist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm'));

const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

function onnxruntimeWasm(): Plugin {
  return {
    name: 'onnxruntime-wasm',
    configureServer(server) {
      server.middlewares.use('/ort/', (req, res, next) => {
        const name = (req.url ?? '').split('?')[0].slice(1);
        if (!ORT_FILES.includes(name)) return next();
        res.setHeader('Content-Type', name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
        res.end(readFileSync(join(ortDist, name)));
      });
    },
    generateBundle() {
      for (const f of ORT_FILES) this.emitFile({ type: 'asset', fileName: `ort/${f}`, source: readFileSync(join(ortDist, f)) });
    },
  };
}

export default defineConfig({
  plugins: [onnxruntimeWasm()],
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  // The app chunk holds onnxruntime-web's JS (~370 kB) and @onnxvae/core's graph builder: ~640 kB minified.
  build: { target: 'es2022', chunkSizeWarningLimit: 1024 },
});

#!/usr/bin/env node
/**
 * `npm run demo`: builds the demo and serves the repository root on http://localhost:8080/demo/ (PORT to change).
 * Static files only: the page, the models in models/, and onnxruntime-web from node_modules.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDemo } from './build.mjs';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
};

/** Starts the static server; resolves with it once listening. `port` 0 picks a free one. */
export function startServer(port = 8080, dir = root) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let path = normalize(join(dir, decodeURIComponent(url.pathname)));
    if (!path.startsWith(dir)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    try {
      if (statSync(path).isDirectory()) path = join(path, 'index.html');
      const st = statSync(path);
      res.writeHead(200, {
        'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
        'content-length': st.size,
        'cache-control': 'no-store',
      });
      createReadStream(path).pipe(res);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${url.pathname}`);
    }
  });
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok(server)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildDemo();
  const server = await startServer(Number(process.env.PORT ?? 8080));
  console.log(`onnxvae demo: http://localhost:${server.address().port}/demo/  (Ctrl-C to stop)`);
}

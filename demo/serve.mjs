#!/usr/bin/env node
/**
 * `npm run demo`: builds the demo and serves it on http://localhost:8080/demo/ (PORT to change), on 127.0.0.1 only.
 *
 * Serves what the page needs and nothing else: the page (/demo/, /demo/dist/…: its script and its worker), the
 * bundles in models/ (their data files only), and onnxruntime-web's dist/ from node_modules. Files are served by serve-static (the `send` module
 * decodes the path, answers 400 to a malformed escape and 403 to `..`, and hides dotfiles); this file only picks
 * the folder by URL prefix. Every response carries COOP/COEP (so the page is cross-origin isolated and WASM can use
 * threads), a Content-Security-Policy and `nosniff`; a Host header other than localhost/127.0.0.1 with our port is
 * refused, so a DNS-rebinding page cannot read the files through another name.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import finalhandler from 'finalhandler';
import serveStatic from 'serve-static';
import { buildDemo } from './build.mjs';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../..');

/** What a bundle folder may hold: manifest/metadata, graphs, checkpoints, the digits file, images. */
const MODEL_FILES = new Set(['.json', '.onnx', '.safetensors', '.bin', '.png']);

const sha256 = (s) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

/**
 * The page's CSP. Its inline blocks (the style; an inline script, should the page ever have one) are allowed by hash
 * and nothing else inline is; 'wasm-unsafe-eval' lets onnxruntime-web compile its WASM. Workers: the demo's module
 * worker (/demo/dist/worker.js, which imports onnxruntime-web by URL: a worker has no import map) and onnxruntime-web's
 * pthread workers (its own .mjs) are all 'self'; every response carries this header, the workers' scripts included.
 */
function contentSecurityPolicy(html) {
  const inline = (tag) => [...html.matchAll(new RegExp(`<${tag}[^>]*>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]);
  const scripts = inline('script')
    .filter((s) => s.trim())
    .map(sha256);
  const styles = inline('style').map(sha256);
  return [
    "default-src 'none'",
    ['script-src', "'self'", "'wasm-unsafe-eval'", ...scripts].join(' '),
    ['style-src', "'self'", ...styles].join(' '),
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Starts the static server; resolves with it once listening on 127.0.0.1. `port` 0 picks a free one.
 * `opts.root`: the repository (models/, node_modules/, demo/ under it); `opts.mounts`: extra bundle folders for
 * tests, `{ '/test-models/bad/': '/abs/dir' }`, served like models/.
 */
export function startServer(port = 8080, opts = {}) {
  const root = resolve(typeof opts === 'string' ? opts : (opts.root ?? repoRoot));
  const extra = typeof opts === 'string' ? {} : (opts.mounts ?? {});
  const demo = join(root, 'demo');
  const csp = contentSecurityPolicy(readFileSync(join(demo, 'index.html'), 'utf8'));
  const files = (dir) => serveStatic(dir, { fallthrough: false, index: false, dotfiles: 'deny', redirect: false });
  /** URL prefix → [handler, which decoded paths under it may be served]. Longest prefix first. */
  const mounts = [
    ['/node_modules/onnxruntime-web/dist/', files(join(root, 'node_modules/onnxruntime-web/dist')), () => true],
    ['/demo/dist/', files(join(demo, 'dist')), (p) => p.endsWith('.js') || p.endsWith('.js.map')],
    ['/demo/', files(demo), (p) => p === '/index.html'],
    ['/models/', files(join(root, 'models')), (p) => MODEL_FILES.has(extname(p))],
    ...Object.entries(extra).map(([prefix, dir]) => [prefix, files(resolve(dir)), (p) => MODEL_FILES.has(extname(p))]),
  ].sort((a, b) => b[0].length - a[0].length);

  const server = createServer((req, res) => {
    const done = finalhandler(req, res);
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    const { port: ours } = server.address();
    if (req.headers.host !== `localhost:${ours}` && req.headers.host !== `127.0.0.1:${ours}`) {
      done(Object.assign(new Error('misdirected request: this server answers to localhost and 127.0.0.1 only'), { status: 421 }));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      done(Object.assign(new Error('method not allowed'), { status: 405 }));
      return;
    }
    const raw = (req.url ?? '/').split('?')[0];
    try {
      decodeURIComponent(raw);
    } catch {
      done(Object.assign(new Error('malformed URL escape'), { status: 400 }));
      return;
    }
    if (raw === '/' || raw === '/demo') {
      res.writeHead(302, { Location: '/demo/' }).end();
      return;
    }
    const mount = mounts.find(([prefix]) => raw.startsWith(prefix));
    if (!mount) {
      done();
      return;
    }
    const [prefix, handler, allowed] = mount;
    let rest = `/${raw.slice(prefix.length)}`;
    if (rest === '/' && prefix === '/demo/') rest = '/index.html';
    const decoded = decodeURIComponent(rest);
    // send answers 403 to `..` itself; this keeps the file filter from being asked about such a path at all.
    if (decoded.split(/[\\/]/).includes('..')) {
      done(Object.assign(new Error('forbidden'), { status: 403 }));
      return;
    }
    if (!allowed(decoded)) {
      done();
      return;
    }
    req.url = rest;
    handler(req, res, done);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok(server));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildDemo();
  const server = await startServer(Number(process.env.PORT ?? 8080));
  console.log(`onnxvae demo: http://localhost:${server.address().port}/demo/  (Ctrl-C to stop)`);
}

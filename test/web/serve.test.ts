/**
 * The demo server (demo/serve.mjs) under hostile requests, over real HTTP: malformed escapes, traversal into sibling
 * folders, files the demo does not need, foreign Host headers (DNS rebinding), and the headers every response needs.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain .mjs helper without type declarations
import { startServer } from '../../demo/serve.mjs';

const repo = resolve(__dirname, '../..');
const SECRET = 'top-secret-sibling-file';

/** One GET with the path sent exactly as written (no URL normalization) and an optional Host header. */
function get(port: number, path: string, host?: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((ok, fail) => {
    // host '' sends no Host header at all.
    const headers = host === '' ? {} : { host: host ?? `127.0.0.1:${port}` };
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers, setHost: host !== '' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

describe('demo server', () => {
  let tmp: string;
  let root: string;
  let server: Server;
  let port: number;
  let repoServer: Server;
  let repoPort: number;

  beforeAll(async () => {
    // A fake repository whose path has a sibling that starts with the same characters: root + 'sibling'.
    tmp = mkdtempSync(join(tmpdir(), 'onnxvae-serve-'));
    root = join(tmp, 'repo');
    const files: Record<string, string> = {
      'demo/index.html': readFileSync(join(repo, 'demo/index.html'), 'utf8'),
      'demo/dist/main.js': 'export {};',
      'demo/dist/worker.js': 'export {};',
      'demo/main.ts': 'source',
      'models/m/manifest.json': '{}',
      'models/build.mjs': 'script',
      'node_modules/onnxruntime-web/dist/ort.all.min.mjs': 'export {};',
      'node_modules/onnxruntime-web/package.json': '{}',
      'package.json': '{}',
      '.git/config': '[core]',
    };
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, f)), { recursive: true });
      writeFileSync(join(root, f), text);
    }
    for (const sib of [`${root}sibling`, join(root, 'modelssibling'), join(root, 'models/msibling')]) {
      mkdirSync(sib, { recursive: true });
      writeFileSync(join(sib, 'secret'), SECRET);
    }
    server = await startServer(0, { root });
    port = (server.address() as AddressInfo).port;
    repoServer = await startServer(0, repo);
    repoPort = (repoServer.address() as AddressInfo).port;
  });
  afterAll(() => {
    server?.close();
    repoServer?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('answers a malformed % escape with 400 and keeps serving', async () => {
    for (const p of ['/%E0%A4%A', '/models/%E0%A4%A', '/demo/%', '/node_modules/onnxruntime-web/dist/%zz']) {
      expect((await get(port, p)).status, p).toBe(400);
    }
    expect((await get(port, '/demo/')).status).toBe(200);
  });

  it('never serves a sibling folder or anything outside the mounted folders', async () => {
    const attacks = [
      '/%2e%2e%2fsibling/secret',
      '/..%2fsibling/secret',
      '/models/..%2f..%2frepo' + 'sibling/secret',
      '/models/%2e%2e%2f%2e%2e%2frepo' + 'sibling/secret',
      '/models/..%2fmodelssibling/secret',
      '/models/m%2f..%2f..%2fmodelssibling%2fsecret',
      '/models/..%5c..%5crepo' + 'sibling%5csecret',
      '/demo/dist/..%2f..%2f..%2frepo' + 'sibling/secret',
      '/node_modules/onnxruntime-web/dist/..%2f..%2f..%2f..%2frepo' + 'sibling/secret',
    ];
    for (const p of attacks) {
      const r = await get(port, p);
      expect([403, 404], p).toContain(r.status);
      expect(r.body).not.toContain(SECRET);
    }
  });

  it('serves only the page, its build, the bundles and onnxruntime-web', async () => {
    for (const p of [
      '/demo/',
      '/demo/index.html',
      '/demo/dist/main.js',
      '/demo/dist/worker.js',
      '/models/m/manifest.json',
      '/node_modules/onnxruntime-web/dist/ort.all.min.mjs',
    ])
      expect((await get(port, p)).status, p).toBe(200);
    for (const p of [
      '/.git/config',
      '/package.json',
      '/demo/main.ts',
      '/models/build.mjs',
      '/node_modules/onnxruntime-web/package.json',
      '/models/msibling/secret',
    ])
      expect((await get(port, p)).status, p).toBe(404);
    // And on the real repository, as `npm run demo` serves it.
    for (const p of ['/.git/config', '/package.json', '/demo/serve.mjs', '/.%67it/config'])
      expect((await get(repoPort, p)).status, p).toBe(404);
    expect((await get(repoPort, '/models/mnist/manifest.json')).status).toBe(200);
  });

  it('refuses a Host other than localhost or 127.0.0.1 with its port (DNS rebinding)', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, `localhost:${port + 1}`, `127.0.0.1.evil.example:${port}`, '']) {
      const r = await get(port, '/demo/', host);
      // 421 Misdirected Request from the server; Node itself answers 400 to a request without Host.
      expect([400, 421], host).toContain(r.status);
      expect(r.body).not.toContain('onnxvae demo');
    }
    expect((await get(port, '/demo/', `localhost:${port}`)).status).toBe(200);
  });

  it('sends COOP/COEP, a CSP and nosniff', async () => {
    for (const p of ['/demo/', '/models/m/manifest.json', '/nope']) {
      const { headers } = await get(port, p);
      expect(headers['cross-origin-opener-policy'], p).toBe('same-origin');
      expect(headers['cross-origin-embedder-policy'], p).toBe('require-corp');
      expect(headers['x-content-type-options'], p).toBe('nosniff');
      expect(headers['content-security-policy'], p).toMatch(/default-src 'none'/);
    }
    const page = (await get(port, '/demo/')).headers['content-security-policy'] as string;
    // The page has no inline script (onnxruntime-web is imported by URL in the worker, no import map): no hash, no
    // 'unsafe-inline'; its one inline style block is allowed by hash.
    expect(page).toMatch(/script-src 'self' 'wasm-unsafe-eval';/);
    expect(page).toMatch(/style-src 'self' 'sha256-[A-Za-z0-9+/=]{44}';/);
    expect(page).not.toMatch(/unsafe-inline/);
    expect(page).toMatch(/worker-src 'self' blob:/);
    expect(page).toMatch(/frame-ancestors 'none'/);
  });
});

/** @onnxvae/web's loaders in Node (global fetch against the demo's static server): progress, verification, errors. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain .mjs helper without type declarations
import { startServer } from '../../demo/serve.mjs';
import { withFloat16Weights } from '../../packages/core/src/index.js';
import { readBundleDir, writeBundle } from '../../packages/node/src/bundle-io.js';
import {
  type FetchProgress,
  fetchBundle,
  fetchDecoder,
  fetchManifest,
  fetchVerified,
  MAX_MANIFEST_BYTES,
  ModelLoadError,
} from '../../packages/web/src/load.js';
import { WebModel } from '../../packages/web/src/model.js';
import type { WebRuntime } from '../../packages/web/src/session.js';

let server: Server;
let base = '';
ortWeb.env.wasm.numThreads = 1;

describe('web loaders', () => {
  beforeAll(async () => {
    server = await startServer(0, resolve(__dirname, '../..'));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server?.close());

  it('fetches a whole bundle with progress and verifies every file', async () => {
    const seen: FetchProgress[] = [];
    const b = await fetchBundle(`${base}/models/mnist`, (p) => seen.push(p));
    expect(b.manifest.config.latent).toBe(20);
    expect(Object.keys(b.state.params)).toContain('decoder.mlp.fc1.weight');
    const files = new Set(seen.map((p) => p.file));
    for (const f of ['train_step.onnx', 'eval.onnx', 'encoder.onnx', 'decoder.onnx', 'checkpoint.safetensors'])
      expect(files.has(f)).toBe(true);
    const last = seen.filter((p) => p.file === 'checkpoint.safetensors').pop();
    expect(last?.loaded).toBe(last?.total);
  });

  it('reports 404s by URL and status, and a decoder whose sha256 differs', async () => {
    await expect(fetchManifest(`${base}/models/missing`)).rejects.toThrow(/cannot fetch .*\/models\/missing\/manifest\.json: HTTP 404/);
    const m = await fetchManifest(`${base}/models/mnist`);
    const ok = await fetchDecoder(`${base}/models/mnist/decoder.onnx`, { sha256: m.files['decoder.onnx'].sha256 });
    expect(ok.length).toBe(m.files['decoder.onnx'].bytes);
    await expect(fetchDecoder(`${base}/models/mnist/encoder.onnx`, { sha256: m.files['decoder.onnx'].sha256 })).rejects.toThrow(
      /sha256 .* does not match/,
    );
  });

  it('a WebModel on onnxruntime-web wasm samples and reconstructs', async () => {
    const rt: WebRuntime = {
      provider: 'wasm',
      notes: [],
      ort: ortWeb,
      createSession: (bytes) => ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] }),
    };
    const model = await WebModel.load(rt, `${base}/models/mnist`);
    expect(model.imageSize).toEqual([28, 28]);
    const s = await model.sampler.sample(4, { seed: 1 });
    expect(s.x.length).toBe(4 * 784);
    const r = await model.sampler.reconstruct(s.x, 4);
    expect(r.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(model.weights).toBe('float32');
  });

  it('a WebModel loads a bundle exported with --fp16 on wasm and decodes within the measured error of float32', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnxvae-web-fp16-'));
    const s2 = await startServer(0, { root: resolve(__dirname, '../..'), mounts: { '/test-models/fp16/': dir } });
    try {
      const full = await readBundleDir(resolve(__dirname, '../../models/mnist'));
      const half = await withFloat16Weights(full);
      writeBundle(dir, half);
      const url = `http://127.0.0.1:${(s2.address() as AddressInfo).port}`;
      const rt: WebRuntime = {
        provider: 'wasm',
        notes: [],
        ort: ortWeb,
        createSession: (bytes) => ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] }),
      };
      const a = await WebModel.load(rt, `${base}/models/mnist`);
      const b = await WebModel.load(rt, `${url}/test-models/fp16`);
      expect(b.weights).toBe('float16');
      const s = await a.sampler.sample(100, { seed: 4 });
      const x = await b.sampler.decode(s.z, 100);
      let max = 0;
      for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - s.x[i]));
      // As `onnxvae export --fp16` measures on onnxruntime-node (5.9e-4 max on 1,000 samples): float16 rounding, not 0.
      expect(max).toBeGreaterThan(0);
      expect(max).toBeLessThan(3e-3);
    } finally {
      s2.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A server that misbehaves on purpose, on 127.0.0.1 (and a second one on another port, i.e. another origin). */
async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('web loader against a hostile server', () => {
  const mnist = resolve(__dirname, '../../models/mnist');
  const manifestText = readFileSync(resolve(mnist, 'manifest.json'));
  const decoder = readFileSync(resolve(mnist, 'decoder.onnx'));
  const declared = JSON.parse(manifestText.toString()).files['decoder.onnx'].bytes as number;
  /** Bytes written by the endless responses, and whether the client hung up on them. */
  const endless = { sent: 0, closed: false };
  let hostile: { server: Server; url: string };
  let other: { server: Server; url: string };

  /** Writes 64 KiB chunks until the client goes away (or 512 MiB, so a loader without a cap fails, not hangs). */
  function stream(res: ServerResponse, chunk: Uint8Array): void {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.on('close', () => {
      endless.closed = true;
    });
    const pump = () => {
      while (endless.sent < 512 * 2 ** 20 && !res.destroyed) {
        endless.sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  }

  beforeAll(async () => {
    other = await listen((req, res) => {
      if (req.url?.endsWith('/decoder.onnx')) res.writeHead(200).end(decoder);
      else if (req.url?.endsWith('/manifest.json')) res.writeHead(200).end(manifestText);
      else res.writeHead(404).end();
    });
    hostile = await listen((req, res) => {
      const [, dir, file] = (req.url ?? '').split('/');
      if (file === 'manifest.json' && dir === 'endless-manifest') return stream(res, new TextEncoder().encode(' '.repeat(65536)));
      if (file === 'manifest.json' && dir === 'cross-manifest')
        return void res.writeHead(302, { location: `${other.url}/x/manifest.json` }).end();
      if (file === 'manifest.json') return void res.writeHead(200).end(manifestText);
      if (dir === 'ok' && file === 'decoder.onnx') return void res.writeHead(200).end(decoder);
      if (dir === 'endless') return stream(res, new Uint8Array(65536));
      // One byte more than the manifest declares: with Content-Length, and chunked (no Content-Length).
      if (dir === 'oversized')
        return void res.writeHead(200, { 'content-length': declared + 1 }).end(Buffer.concat([decoder, Buffer.from([0])]));
      if (dir === 'oversized-chunked') {
        res.writeHead(200);
        res.write(decoder);
        return void res.end(Buffer.from([0]));
      }
      if (dir === 'cross') return void res.writeHead(302, { location: `${other.url}/x/${file}` }).end();
      if (dir === 'same') return void res.writeHead(302, { location: `/ok/${file}` }).end();
      res.writeHead(404).end();
    });
  });
  afterAll(() => {
    hostile?.server.closeAllConnections();
    hostile?.server.close();
    other?.server.close();
  });

  it('stops reading an endless body at the size the manifest declares', async () => {
    const m = await fetchManifest(`${hostile.url}/endless`);
    const t0 = Date.now();
    const err = await fetchVerified(`${hostile.url}/endless`, m, 'decoder.onnx').catch((e: Error) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as Error).message).toMatch(
      new RegExp(`/endless/decoder\\.onnx: the manifest declares ${declared} bytes, but the server sent at least \\d+ bytes`),
    );
    // The client hung up: the server saw the connection close, long before its 512 MiB safety stop.
    for (let i = 0; i < 100 && !endless.closed; i++) await new Promise((ok) => setTimeout(ok, 20));
    expect(endless.closed).toBe(true);
    // What was sent is the declared size plus what the socket buffers held (a few MiB at most), not hundreds of MiB.
    expect(endless.sent).toBeLessThan(declared + 64 * 2 ** 20);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('refuses a body one byte longer than declared, with or without Content-Length', async () => {
    const m = await fetchManifest(`${hostile.url}/ok`);
    await expect(fetchVerified(`${hostile.url}/oversized`, m, 'decoder.onnx')).rejects.toThrow(
      new RegExp(`oversized/decoder\\.onnx: the manifest declares ${declared} bytes, but the server sent Content-Length ${declared + 1}`),
    );
    await expect(fetchVerified(`${hostile.url}/oversized-chunked`, m, 'decoder.onnx')).rejects.toThrow(
      new RegExp(
        `oversized-chunked/decoder\\.onnx: the manifest declares ${declared} bytes, but the server sent at least ${declared + 1} bytes`,
      ),
    );
    expect((await fetchVerified(`${hostile.url}/ok`, m, 'decoder.onnx')).length).toBe(declared);
  });

  it('caps manifest.json itself', async () => {
    endless.closed = false;
    await expect(fetchManifest(`${hostile.url}/endless-manifest`)).rejects.toThrow(
      new RegExp(
        `endless-manifest/manifest\\.json: manifest\\.json is capped at ${MAX_MANIFEST_BYTES} bytes, but the server sent at least`,
      ),
    );
  });

  it('refuses a redirect to another origin, follows one within the origin', async () => {
    const m = await fetchManifest(`${hostile.url}/ok`);
    await expect(fetchVerified(`${hostile.url}/cross`, m, 'decoder.onnx')).rejects.toThrow(
      new RegExp(
        `cannot fetch ${hostile.url}/cross/decoder\\.onnx: the server redirected to ${other.url}/x/decoder\\.onnx, another origin`,
      ),
    );
    await expect(fetchManifest(`${hostile.url}/cross-manifest`)).rejects.toThrow(/redirected to .*\/x\/manifest\.json, another origin/);
    await expect(fetchDecoder(`${hostile.url}/cross/decoder.onnx`)).rejects.toThrow(/another origin/);
    const same = await fetchVerified(`${hostile.url}/same`, m, 'decoder.onnx');
    expect(same.length).toBe(declared);
  });
});

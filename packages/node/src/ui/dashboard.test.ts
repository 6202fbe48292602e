/**
 * The live dashboard (train --ui, onnxvae ui DIR): its server serves only known paths, on 127.0.0.1, to its own
 * Host; in headless Chromium its curve grows while a short training runs, a finished run's page shows its whole
 * history and pictures, and hostile text from a run folder stays text. Also the per-epoch pictures and a resumed
 * run's history (steps.jsonl, metrics.jsonl).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.js';
import { encodePng } from '../report/png-codec.js';
import { emptyView, readRunView } from '../report/run-view.js';
import { cli } from '../testing/cli-run.js';
import { decodePng } from '../testing/png-decode.js';
import { train } from '../train.js';
import { startDashboard } from './server.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`dashboard browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

const HOSTILE = '<img src=x onerror="window.__pwned=1">';
let root = '';
let browser: Browser | undefined;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'onnxvae-ui-'));
  if (haveChromium) browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--no-first-run'] });
});
afterAll(async () => {
  await browser?.close();
  rmSync(root, { recursive: true, force: true });
});

/** GET (or another method) with the path sent as it is (no URL normalization) and an optional Host. */
function raw(
  port: number,
  path: string,
  opts: { host?: string; method?: string } = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host: opts.host ?? `127.0.0.1:${port}` } },
      (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A run folder made by hand: hostile strings in run.json, a torn line, a link posing as a picture. */
function handMadeRun(): string {
  const dir = join(root, 'hand');
  mkdirSync(join(dir, 'samples'), { recursive: true });
  mkdirSync(join(dir, 'reconstructions'), { recursive: true });
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify({
      title: HOSTILE,
      status: 'done',
      provider: HOSTILE,
      lr: 0.001,
      batch: 'x',
      command: `onnxvae train ${HOSTILE}`,
      config: { hidden: [HOSTILE] },
    }),
  );
  writeFileSync(
    join(dir, 'metrics.jsonl'),
    `${JSON.stringify({ epoch: 1, train_elbo: -150, test_elbo: -140 })}\n{"epoch": 2, "train_elbo": "<b>"}\n{torn\n${JSON.stringify({ epoch: 2, train_elbo: -120, test_elbo: -118 })}\n`,
  );
  writeFileSync(
    join(dir, 'steps.jsonl'),
    [1, 2, 3, 4].map((s) => JSON.stringify({ step: s, epoch: s > 2 ? 2 : 1, loss: 200 - s, elbo: s - 200 })).join('\n'),
  );
  const png = encodePng(2, 2, 1, new Uint8Array([0, 255, 255, 0]));
  for (const k of ['samples', 'reconstructions']) writeFileSync(join(dir, k, 'epoch-001.png'), png);
  writeFileSync(join(root, 'secret.png'), 'secret');
  symlinkSync(join(root, 'secret.png'), join(dir, 'samples', 'epoch-002.png'));
  writeFileSync(join(dir, 'samples', 'notes.png'), png);
  return dir;
}

describe('the dashboard server', () => {
  it('listens on 127.0.0.1 only and serves the page, its assets, the run and its pictures', async () => {
    const dir = handMadeRun();
    const d = await startDashboard({ dir, port: 0 });
    try {
      expect(d.url).toBe(`http://127.0.0.1:${d.port}/`);
      const page = await raw(d.port, '/');
      expect(page.status).toBe(200);
      expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
      expect(page.body).not.toMatch(/<script>/); // no inline script: the CSP forbids them
      for (const a of ['uPlot.iife.min.js', 'uPlot.min.css', 'run-page.js', 'run-page.css'])
        expect((await raw(d.port, `/assets/${a}`)).status, a).toBe(200);
      const run = JSON.parse((await raw(d.port, '/api/run')).body);
      expect(run.title).toBe(HOSTILE); // data, not markup: the page writes it as text
      expect(run.info.batch).toBeUndefined(); // not a number: dropped
      expect(run.epochs.map((m: { epoch: number }) => m.epoch)).toEqual([1, 2]); // bad and torn lines skipped
      expect(run.steps.step).toEqual([1, 2, 3, 4]);
      expect(run.pictures.samples).toEqual([1, 2]); // listed by name; the link is refused when read
      expect((await raw(d.port, '/samples/epoch-001.png')).status).toBe(200);
    } finally {
      await d.close();
    }
  });

  it('serves no other path: traversal, links, other methods and other Hosts are refused', async () => {
    const dir = join(root, 'hand');
    const d = await startDashboard({ dir, port: 0 });
    try {
      for (const p of [
        '/run.json',
        '/metrics.jsonl',
        '/samples/../run.json',
        '/samples/..%2frun.json',
        '/%2e%2e/secret.png',
        '/../secret.png',
        '/samples/epoch-002.png', // a symbolic link out of the folder
        '/samples/notes.png',
        '/samples/epoch-1.png',
        '/assets/../package.json',
        '/assets/uPlot.cjs.js',
        '/assets/',
        '//etc/passwd',
      ]) {
        const r = await raw(d.port, p);
        expect(r.status, p).toBe(404);
        expect(r.body, p).not.toContain('secret');
      }
      expect((await raw(d.port, '/', { method: 'POST' })).status).toBe(405);
      expect((await raw(d.port, '/api/run', { host: 'attacker.example' })).status).toBe(403); // DNS rebinding
      expect((await raw(d.port, '/api/run', { host: `localhost:${d.port}` })).status).toBe(200);
    } finally {
      await d.close();
    }
  });

  it('a page that connects mid-run gets each step once: in its first view or in a later steps event', async () => {
    const d = await startDashboard({ dir: root, port: 0, fresh: true, pollMs: 400 });
    try {
      d.events.start(emptyView('t'));
      const p = { status: 'training' as const };
      for (let s = 1; s <= 5; s++) d.events.step({ step: s, epoch: 1, loss: 1, elbo: -1 }, p); // not yet sent
      let text = '';
      const req = request({ host: '127.0.0.1', port: d.port, path: '/events', headers: { host: `127.0.0.1:${d.port}` } }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (c) => {
          text += c;
        });
      });
      req.end();
      await new Promise((r) => setTimeout(r, 300));
      for (let s = 6; s <= 7; s++) d.events.step({ step: s, epoch: 1, loss: 1, elbo: -1 }, p);
      await new Promise((r) => setTimeout(r, 400));
      req.destroy();
      const events = [...text.matchAll(/event: (\w+)\ndata: (.*)\n\n/g)].map((m) => [m[1], JSON.parse(m[2])] as const);
      const got = events.flatMap(([e, v]) => (e === 'view' ? v.steps.step : e === 'steps' ? v.step : []));
      expect(got).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(events.some(([e]) => e === 'progress')).toBe(true);
    } finally {
      await d.close();
    }
  });

  it('says so when the port is taken', async () => {
    const d = await startDashboard({ dir: root, port: 0 });
    try {
      await expect(startDashboard({ dir: root, port: d.port })).rejects.toThrow(new RegExp(`port ${d.port} on 127.0.0.1 is in use`));
    } finally {
      await d.close();
    }
  });
});

describe.skipIf(!haveChromium)('the dashboard in headless Chromium', () => {
  it('shows a curve that grows while a short training runs, then its pictures and ETA', async () => {
    const out = join(root, 'live');
    const d = await startDashboard({ dir: out, port: 0, fresh: true });
    const page = await (browser as Browser).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(d.url);
      await page.waitForFunction(() => (window as unknown as { __onnxvaeRun: { connected: boolean } }).__onnxvaeRun?.connected);
      // Training starts once the page listens: every update it draws from here on is live.
      const seen: string[] = [];
      const r = await train({
        data: 'mnist',
        limit: 256,
        epochs: 3,
        batch: 32,
        provider: 'cpu',
        out,
        log: () => {},
        progressStream: { write: () => {}, isTTY: false },
        events: {
          ...d.events,
          epoch: (m, pictures, p) => {
            seen.push(`${m.epoch}:${pictures}:${p.etaS !== undefined}`);
            d.events.epoch(m, pictures, p);
          },
        },
      });
      expect(r.steps).toBe(24);
      expect(seen).toEqual(['1:true:true', '2:true:true', '3:true:true']);
      await page.waitForFunction(
        () => (window as unknown as { __onnxvaeRun: { view?: { status: string } } }).__onnxvaeRun.view?.status === 'done',
      );
      const st = await page.evaluate(() => {
        const s = (
          window as unknown as {
            __onnxvaeRun: { updates: { steps: number; epochs: number }[]; charts: Record<string, { data: number[][] }> };
          }
        ).__onnxvaeRun;
        return {
          updates: s.updates,
          stepPoints: s.charts.steps.data[0].length,
          epochPoints: s.charts.epochs.data[0].length,
          strip: document.querySelectorAll('#strip-samples figure').length,
          recon: document.querySelectorAll('#strip-reconstructions img').length,
          canvases: document.querySelectorAll('.uplot canvas').length,
        };
      });
      expect(st.stepPoints).toBe(24);
      expect(st.epochPoints).toBe(3);
      // The curve grew on the page: it was drawn with fewer points before it was drawn with all of them.
      const counts = st.updates.map((u) => u.steps);
      expect(counts[0]).toBe(0);
      expect(counts.some((c) => c > 0 && c < 24)).toBe(true);
      expect(counts).toEqual([...counts].sort((a, b) => a - b));
      expect(new Set(st.updates.map((u) => u.epochs))).toEqual(new Set([0, 1, 2, 3]));
      expect(st.strip).toBe(3);
      expect(st.recon).toBe(3);
      expect(st.canvases).toBeGreaterThanOrEqual(2);
      expect(errors).toEqual([]);
      // The pictures the strip shows are in the run folder: one per epoch, the same z every epoch.
      expect(readdirSync(join(out, 'samples')).sort()).toEqual(['epoch-001.png', 'epoch-002.png', 'epoch-003.png']);
      const last = decodePng(readFileSync(join(out, 'samples', 'epoch-003.png')));
      expect(Array.from(decodePng(readFileSync(join(out, 'samples.png'))).pixels)).toEqual(Array.from(last.pixels)); // final = last epoch
      const img = await page.evaluate(() => (document.querySelector('#strip-samples img') as HTMLImageElement).naturalWidth);
      expect(img).toBe(last.width);
    } finally {
      await page.close();
      await d.close();
    }
  });

  it('onnxvae ui DIR: a finished run with its whole history; text from the folder stays text', async () => {
    const d = await startDashboard({ dir: join(root, 'hand'), port: 0, follow: true });
    const page = await (browser as Browser).newPage();
    try {
      await page.goto(d.url);
      await page.waitForFunction(() => (window as unknown as { __onnxvaeRun: { updates: unknown[] } }).__onnxvaeRun?.updates.length > 0);
      const got = await page.evaluate(() => ({
        title: document.getElementById('title')?.textContent,
        facts: document.getElementById('facts')?.textContent,
        pwned: (window as unknown as { __pwned?: number }).__pwned,
        injected: document.querySelectorAll('img[src="x"]').length,
        steps: (window as unknown as { __onnxvaeRun: { charts: Record<string, { data: number[][] }> } }).__onnxvaeRun.charts.steps.data[0]
          .length,
      }));
      expect(got.title).toBe(HOSTILE);
      expect(got.facts).toContain(`onnxvae train ${HOSTILE}`);
      expect(got.pwned).toBeUndefined();
      expect(got.injected).toBe(0);
      expect(got.steps).toBe(4);
      // Following the folder: a new epoch appears on the page without a reload.
      writeFileSync(
        join(root, 'hand', 'metrics.jsonl'),
        `${readFileSync(join(root, 'hand', 'metrics.jsonl'), 'utf8')}${JSON.stringify({ epoch: 3, train_elbo: -110, test_elbo: -112 })}\n`,
      );
      await page.waitForFunction(
        () =>
          (window as unknown as { __onnxvaeRun: { charts: Record<string, { data: number[][] }> } }).__onnxvaeRun.charts.epochs.data[0]
            .length === 3,
        null,
        { timeout: 10_000 },
      );
    } finally {
      await page.close();
      await d.close();
    }
  });

  it('report.html works from file:// with the charts inline, and a resumed run keeps its whole history', async () => {
    const out = join(root, 'live'); // trained for 3 epochs above
    const r = await cli('train', '--resume', '--epochs', '4', '--limit', '256', '--provider', 'cpu', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const v = readRunView(out);
    expect(v.epochs.map((m) => m.epoch)).toEqual([1, 2, 3, 4]);
    expect(v.steps.step).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    expect(v.pictures.samples).toEqual([1, 2, 3, 4]);
    expect(v.info.command).toBe(`onnxvae train --resume --epochs 4 --limit 256 --provider cpu --out ${out}`);
    const page = await (browser as Browser).newPage();
    try {
      await page.goto(`file://${join(out, 'report.html')}`);
      await page.waitForFunction(() => (window as unknown as { __onnxvaeRun: { updates: unknown[] } }).__onnxvaeRun?.updates.length > 0);
      const got = await page.evaluate(() => ({
        steps: (window as unknown as { __onnxvaeRun: { charts: Record<string, { data: number[][] }> } }).__onnxvaeRun.charts.steps.data[0]
          .length,
        facts: document.getElementById('facts')?.textContent ?? '',
        strip: document.querySelectorAll('#strip-samples figure').length,
        loaded: Array.from(document.querySelectorAll('#strip-samples img')).every((i) => (i as HTMLImageElement).complete),
      }));
      expect(got.steps).toBe(32);
      expect(got.strip).toBe(4);
      for (const k of ['learning rate0.001', 'batch32', 'seed0', 'binarizationthreshold', 'providercpu', 'run time', 'command line'])
        expect(got.facts).toContain(k);
    } finally {
      await page.close();
    }
  });
});

describe('train --ui and onnxvae ui on the command line', () => {
  it('train --ui 0 prints the dashboard URL and trains as without it', async () => {
    const out = join(root, 'cli-ui');
    const r = await cli(
      'train',
      '--data',
      'mnist',
      '--limit',
      '64',
      '--batch',
      '32',
      '--epochs',
      '1',
      '--provider',
      'cpu',
      '--out',
      out,
      '--ui',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\/ /);
    expect((await cli('train', '--ui', '70000', '--out', out)).stderr).toMatch(/--ui must be at most 65535, got '70000'/);
  });

  it('onnxvae ui DIR serves until SIGINT; a folder without a run is an error', async () => {
    let url = '';
    let gotUrl: () => void = () => {};
    const ready = new Promise<void>((res) => {
      gotUrl = res;
    });
    const before = process.listeners('SIGINT');
    const done = main(
      ['ui', join(root, 'hand'), '--port', '0'],
      (s) => {
        url += s;
        gotUrl();
      },
      () => {},
    );
    await ready;
    const port = Number(new URL(url.trim()).port);
    expect(JSON.parse((await raw(port, '/api/run')).body).epochs.length).toBeGreaterThan(0);
    // Ctrl-C, to the ui command's own listener only (playwright's would end the test process).
    for (const l of process.listeners('SIGINT')) if (!before.includes(l)) l('SIGINT');
    expect(await done).toBe(0);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    const e = await cli('ui', empty);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/holds no training run/);
    expect((await cli('ui', empty, '--port', '-1')).code).toBe(2);
  });
});

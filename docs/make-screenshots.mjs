#!/usr/bin/env node
/**
 * docs/img/dashboard.png, the README's picture of the live dashboard: a finished 6-epoch run on the small MNIST set,
 * served by `onnxvae ui`, photographed by headless Chromium (playwright-core, Debian's /usr/bin/chromium).
 *
 *   npm run build && node docs/make-screenshots.mjs
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'packages/node/dist/cli.js');
const dir = join(mkdtempSync(join(tmpdir(), 'onnxvae-shot-')), 'run');
const train = spawnSync(process.execPath, [CLI, 'train', '--data', 'mnist', '--epochs', '6', '--provider', 'cpu', '--out', dir], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
if (train.status !== 0) process.exit(1);
const ui = spawn(process.execPath, [CLI, 'ui', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((res, rej) => {
  let out = '';
  ui.stdout.on('data', (d) => {
    out += d;
    const m = /http:\/\/127\.0\.0\.1:\d+\/\S*/.exec(out);
    if (m) res(m[0]);
  });
  ui.on('exit', (c) => rej(new Error(`onnxvae ui exited with ${c}`)));
});
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(url);
  await page.waitForTimeout(2500); // charts drawn, pictures loaded
  const out = join(ROOT, 'docs/img/dashboard.png');
  await page.screenshot({ path: out, fullPage: false });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  ui.kill('SIGINT');
  rmSync(dirname(dir), { recursive: true, force: true });
}

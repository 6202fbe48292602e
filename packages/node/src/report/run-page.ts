/**
 * The run page's HTML, for report.html (self-contained: uPlot, the page script, its style and the run's data
 * inline, so it works offline and from file://) and for the live dashboard (the same page, its scripts served by
 * the dashboard server, its data from /api/run and /events). The page script, assets/run-page.js, draws both.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { xmlText as esc } from './line-chart-svg.js';
import type { RunView } from './run-view.js';

const require = createRequire(import.meta.url);

/** The files the page loads: uPlot from node_modules, the page's own script and style from packages/node/assets. */
export const PAGE_ASSETS = {
  'uPlot.iife.min.js': { path: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { path: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
  // src/report/ and dist/report/ are both two folders below the package root.
  'run-page.js': {
    path: () => fileURLToPath(new URL('../../assets/run-page.js', import.meta.url)),
    type: 'text/javascript; charset=utf-8',
  },
  'run-page.css': { path: () => fileURLToPath(new URL('../../assets/run-page.css', import.meta.url)), type: 'text/css; charset=utf-8' },
} as const;
export type PageAsset = keyof typeof PAGE_ASSETS;

const cache = new Map<PageAsset, string>();
/** An asset's text (read once). */
export function pageAsset(name: PageAsset): string {
  let s = cache.get(name);
  if (s === undefined) {
    s = readFileSync(PAGE_ASSETS[name].path(), 'utf8');
    cache.set(name, s);
  }
  return s;
}

/** Text that may stand inside a <script> or <style> element: no '</' that could close it. */
const inert = (s: string): string => s.replace(/<\/(script|style)/gi, '<\\/$1');

/** JSON for a <script type="application/json"> element: '<' escaped, so no string in the data can end the element. */
const scriptJson = (v: unknown): string =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

function body(extra: { headline?: string; finals?: string; noscript?: string }): string {
  return `<h1 id="title">onnxvae run</h1>
<p id="status"></p>
${extra.headline ?? ''}
<table id="facts"></table>
<h2>Curves</h2>
<p class="hint">Drag to zoom (x, or a box), double-click to zoom out; click a legend entry to hide its curve.</p>
<div class="charts"><div id="chart-steps"></div><div id="chart-epochs"></div></div>
${extra.noscript ?? ''}
<section hidden><h2>Samples after each epoch</h2><p class="hint">The same z for every epoch (drawn from the seed).</p><div class="strip" id="strip-samples"></div></section>
<section hidden><h2>Reconstructions after each epoch</h2><p class="hint">The same test digits every epoch: top rows the digits, bottom rows their reconstructions.</p><div class="strip" id="strip-reconstructions"></div></section>
${extra.finals ?? ''}
<h2>Epochs</h2>
<table id="epochs"></table>
<h2>Model</h2>
<pre id="config"></pre>`;
}

/** report.html: the run page with everything inline, and its headline and final pictures in plain HTML. */
export function reportHtml(view: RunView): string {
  const last = view.epochs[view.epochs.length - 1];
  const headline =
    last === undefined
      ? ''
      : `<p>Test ELBO after epoch ${last.epoch}: <b>${last.test_elbo.toFixed(2)} nats</b>` +
        (last.test_iwae === undefined ? '' : `; test log p(x) ≈ <b>${last.test_iwae.toFixed(2)} nats</b> (IWAE, K = ${last.iwae_k})`) +
        '</p>';
  const finals = `<h2>Samples from the prior (final model)</h2><img class="final" src="samples.png" alt="samples">
<h2>Reconstructions (final model)</h2><p class="hint">Top rows: test images; bottom rows: their reconstructions.</p><img class="final" src="reconstructions.png" alt="reconstructions">`;
  const noscript = `<noscript><img src="loss-curve.png" alt="ELBO per epoch"> <img src="loss-curve-steps.png" alt="loss per step"></noscript>
<details><summary>The curves as pictures (loss-curve.png, loss-curve-steps.png)</summary><img src="loss-curve.png" alt="ELBO per epoch"> <img src="loss-curve-steps.png" alt="loss per step"></details>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(view.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${inert(pageAsset('uPlot.min.css'))}</style>
<style>${inert(pageAsset('run-page.css'))}</style></head>
<body>
${body({ headline, finals, noscript })}
<script type="application/json" id="run-data">${scriptJson(view)}</script>
<script>${inert(pageAsset('uPlot.iife.min.js'))}</script>
<script>${inert(pageAsset('run-page.js'))}</script>
</body></html>
`;
}

/** The live dashboard's page: the same layout, its scripts and styles from the server (no inline script: CSP). */
export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>onnxvae run</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="assets/uPlot.min.css">
<link rel="stylesheet" href="assets/run-page.css"></head>
<body>
${body({ finals: '' })}
<script src="assets/uPlot.iife.min.js"></script>
<script src="assets/run-page.js"></script>
</body></html>
`;
}

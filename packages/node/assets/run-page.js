/*
 * The run page of onnxvae, in the browser: report.html (the data inline, in <script id="run-data">) and the live
 * dashboard of `onnxvae train --ui` / `onnxvae ui DIR` (the data from /api/run, then server-sent events from
 * /events). Draws the curves with uPlot (loaded before this file), the picture strips, the epoch table, the run's
 * facts and its config. Everything from the run folder is data: it is written with textContent and numbers, never
 * as HTML.
 */
(() => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const num = (v, d = 2) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '');
  const pad3 = (n) => String(n).padStart(3, '0');
  const duration = (s) => {
    if (!(s >= 0) || !Number.isFinite(s)) return '';
    s = Math.round(s);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, '0');
    return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
  };

  /** What the page shows; `window.__onnxvaeRun` lets tests (and curious users) look at it. */
  const state = { view: undefined, charts: {}, updates: [], connected: false };
  window.__onnxvaeRun = state;

  function chart(key, target, title, series, axes) {
    const box = $(target);
    if (!box || typeof uPlot === 'undefined') return undefined;
    if (state.charts[key]) return state.charts[key];
    const width = Math.max(320, box.clientWidth || 640);
    const u = new uPlot(
      {
        title,
        width,
        height: 300,
        scales: { x: { time: false } },
        cursor: { drag: { x: true, y: true, uni: 30 } },
        series: [{ label: axes[0] }, ...series],
        axes: [
          // Steps and epochs are whole numbers: ticks at 1, 2, 5 × 10^k only.
          { label: axes[0], incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6] },
          { label: axes[1], scale: series[0].scale ?? 'y' },
          ...(axes[2] ? [{ label: axes[2], side: 1, scale: 'loss', grid: { show: false } }] : []),
        ],
      },
      [[]],
      box,
    );
    state.charts[key] = u;
    return u;
  }

  function drawCharts(v) {
    const st = v.steps ?? { step: [], loss: [], elbo: [] };
    const steps = chart(
      'steps',
      'chart-steps',
      'per step (training batches)',
      [
        { label: 'train ELBO', stroke: '#1f77b4', width: 1.5, scale: 'y', points: { show: false } },
        { label: 'loss', stroke: '#2ca02c', width: 1, scale: 'loss', points: { show: false } },
      ],
      ['step', 'ELBO (nats)', 'loss (nats)'],
    );
    steps?.setData([st.step, st.elbo, st.loss]);
    const ep = v.epochs ?? [];
    const epochs = chart(
      'epochs',
      'chart-epochs',
      'per epoch',
      [
        { label: 'train ELBO', stroke: '#1f77b4', width: 2 },
        { label: 'test ELBO', stroke: '#d62728', width: 2 },
        { label: 'test log p(x) (IWAE)', stroke: '#9467bd', width: 0, points: { show: true, size: 8, fill: '#9467bd' } },
      ],
      ['epoch', 'nats'],
    );
    epochs?.setData([
      ep.map((m) => m.epoch),
      ep.map((m) => m.train_elbo ?? null),
      ep.map((m) => m.test_elbo ?? null),
      ep.map((m) => m.test_iwae ?? null),
    ]);
    state.updates.push({ steps: st.step.length, epochs: ep.length, at: Date.now() });
  }

  function drawStatus(v) {
    const s = $('status');
    if (!s) return;
    const p = v.progress;
    const parts = [v.status ?? ''];
    if (p) {
      if (p.epoch !== undefined) parts.push(`epoch ${p.epoch}/${p.epochs ?? '?'}`);
      if (p.step !== undefined) parts.push(`step ${p.step}${p.totalSteps ? `/${p.totalSteps}` : ''}`);
      if (p.samplesPerS) parts.push(`${Math.round(p.samplesPerS).toLocaleString('en')} samples/s`);
      if (p.etaS !== undefined && v.status === 'training') parts.push(`ETA ${duration(p.etaS)}`);
      if (p.elapsedS !== undefined) parts.push(`elapsed ${duration(p.elapsedS)}`);
    }
    if (v.info?.provider) parts.push(`provider ${v.info.provider}`);
    if (state.live) parts.push(state.connected ? 'live' : 'disconnected');
    s.textContent = parts.filter(Boolean).join(' · ');
  }

  function drawFacts(v) {
    const t = $('facts');
    if (!t) return;
    const i = v.info ?? {};
    const rows = [
      ['provider', [i.provider, i.notes?.length ? `(${i.notes.join('; ')})` : ''].filter(Boolean).join(' ')],
      ['data', i.data],
      ['binarization', i.binarize],
      ['learning rate', i.lr],
      ['batch', i.batch],
      ['seed', i.seed],
      ['epochs', i.epochs],
      ['run time', i.runSeconds === undefined ? '' : duration(i.runSeconds)],
      ['started', i.started],
      ['command line', i.command],
    ];
    t.replaceChildren(
      ...rows
        .filter(([, val]) => val !== undefined && val !== '')
        .map(([k, val]) => {
          const tr = el('tr');
          tr.append(el('th', k), el('td', val, k === 'command line' ? 'cmd' : undefined));
          return tr;
        }),
    );
  }

  function drawStrip(id, kind, epochs) {
    const box = $(id);
    if (!box) return;
    const have = new Set(Array.from(box.children, (c) => c.dataset.epoch));
    for (const e of epochs) {
      if (have.has(String(e))) continue;
      const fig = el('figure');
      fig.dataset.epoch = String(e);
      const a = el('a');
      a.href = `${kind}/epoch-${pad3(e)}.png`;
      a.target = '_blank';
      a.rel = 'noopener';
      const img = el('img');
      img.src = a.href;
      img.alt = `${kind} after epoch ${e}`;
      img.loading = 'lazy';
      a.append(img);
      fig.append(a, el('figcaption', `epoch ${e}`));
      box.append(fig);
    }
    box.parentElement.hidden = epochs.length === 0;
  }

  function drawTable(v) {
    const t = $('epochs');
    if (!t) return;
    const head = el('tr');
    for (const h of ['epoch', 'train ELBO', 'test ELBO', 'test log p(x)', 'rec', 'KL', 'seconds', 'samples/s']) head.append(el('th', h));
    const rows = (v.epochs ?? []).map((m) => {
      const tr = el('tr');
      const iwae = m.test_iwae === undefined ? '' : `${num(m.test_iwae)} (K=${m.iwae_k})`;
      for (const c of [
        m.epoch,
        num(m.train_elbo),
        num(m.test_elbo),
        iwae,
        num(m.train_rec),
        num(m.train_kl),
        num(m.seconds, 1),
        num(m.samples_per_s, 0),
      ])
        tr.append(el('td', c));
      return tr;
    });
    t.replaceChildren(head, ...rows);
  }

  function render(v) {
    state.view = v;
    if (v.title) {
      document.title = v.title;
      const h = $('title');
      if (h) h.textContent = v.title;
    }
    drawStatus(v);
    drawFacts(v);
    drawCharts(v);
    drawStrip('strip-samples', 'samples', v.pictures?.samples ?? []);
    drawStrip('strip-reconstructions', 'reconstructions', v.pictures?.reconstructions ?? []);
    drawTable(v);
    const c = $('config');
    if (c && v.info?.config !== undefined) c.textContent = JSON.stringify(v.info.config, null, 2);
  }

  function appendSteps(d) {
    const v = state.view;
    if (!v) return;
    v.steps ??= { step: [], loss: [], elbo: [] };
    for (const k of ['step', 'loss', 'elbo']) v.steps[k].push(...(d[k] ?? []));
    drawCharts(v);
  }

  function live() {
    state.live = true;
    const es = new EventSource('events');
    const on = (name, f) =>
      es.addEventListener(name, (e) => {
        try {
          f(JSON.parse(e.data));
        } catch (err) {
          console.error(`onnxvae: bad '${name}' event`, err);
        }
      });
    es.onopen = () => {
      state.connected = true;
      if (state.view) drawStatus(state.view);
    };
    es.onerror = () => {
      state.connected = false;
      if (state.view) drawStatus(state.view);
    };
    on('view', render);
    on('steps', appendSteps);
    on('progress', (p) => {
      if (!state.view) return;
      state.view.progress = p;
      state.view.status = p.status ?? state.view.status;
      drawStatus(state.view);
    });
    on('end', (v) => {
      render(v);
      es.close();
      state.connected = false;
      drawStatus(v);
    });
  }

  window.addEventListener('resize', () => {
    for (const [key, u] of Object.entries(state.charts)) {
      const box = $(`chart-${key}`);
      if (box) u.setSize({ width: Math.max(320, box.clientWidth), height: 300 });
    }
  });

  const inline = $('run-data');
  if (inline) render(JSON.parse(inline.textContent));
  else live();
})();

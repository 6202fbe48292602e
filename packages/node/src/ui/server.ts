/**
 * The live training dashboard: a small HTTP server on 127.0.0.1 that serves the run page (report/run-page.ts), its
 * scripts (uPlot from node_modules), the run's data as JSON (/api/run), its changes as server-sent events (/events)
 * and the run's pictures. `train --ui` feeds it the run's events as they happen (`dashboard.events`); `onnxvae ui
 * DIR` reads the folder and, with `follow`, reads it again when its files change (a run trained by another process).
 *
 * Only known paths are served: a fixed table of pages and assets, and pictures whose names match epoch-NNN.png
 * under samples/ and reconstructions/, read only when they are plain files (no links). Requests whose Host is not
 * this server's loopback address are refused (DNS rebinding), and every response carries a strict CSP.
 *
 * @example
 * const d = await startDashboard({ dir: 'runs/mnist', port: 0, follow: true });
 * console.log(d.url); // http://127.0.0.1:43125/
 */
import { lstatSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { dashboardHtml, PAGE_ASSETS, type PageAsset, pageAsset } from '../report/run-page.js';
import { EPOCH_PICTURE, emptyView, type RunProgress, type RunView, readRunView } from '../report/run-view.js';
import type { TrainEvents } from '../train.js';

/** The only address the dashboard binds: this machine's loopback interface. */
export const DASHBOARD_HOST = '127.0.0.1';

export interface DashboardOptions {
  /** The run folder: pictures are read from it, and (without `events` feeding it) the run's data too. */
  dir: string;
  /** TCP port; 0 (the default) takes a free one. */
  port?: number;
  /** Read the folder again when its files change (onnxvae ui DIR on a run that is still training). */
  follow?: boolean;
  /** Start empty (status 'starting') instead of with the folder's run: `train --ui`, whose run replaces it. */
  fresh?: boolean;
  /** How often the folder is looked at with `follow` (ms, default 1000); steps are sent at most this often / 4. */
  pollMs?: number;
}

export interface Dashboard {
  /** http://127.0.0.1:PORT/ */
  url: string;
  port: number;
  /** What a training run tells the page: pass as train's `events`. */
  events: Required<TrainEvents>;
  /** What the page shows now. */
  view(): RunView;
  /** Ends the open event streams and stops the server. */
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/** The pictures of a finished run, by URL path. */
const FIXED_PICTURES = new Set(['/samples.png', '/reconstructions.png', '/loss-curve.png', '/loss-curve-steps.png']);
const EPOCH_PICTURE_PATH = new RegExp(`^/(samples|reconstructions)/(${EPOCH_PICTURE.source.slice(1, -1)})$`);
/** A picture larger than this is not one of ours. */
const MAX_PICTURE_BYTES = 64 << 20;
const MAX_STREAMS = 64;

/** The picture file a URL path names, or undefined: only FIXED_PICTURES and KIND/epoch-NNN.png. */
export function picturePath(dir: string, urlPath: string): string | undefined {
  if (FIXED_PICTURES.has(urlPath)) return join(dir, urlPath.slice(1));
  const m = EPOCH_PICTURE_PATH.exec(urlPath);
  return m ? join(dir, m[1], m[2]) : undefined;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Starts the dashboard of the run in `opts.dir` on 127.0.0.1 (a free port unless `opts.port` is given). */
export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const dir = opts.dir;
  let view: RunView = opts.fresh ? { ...emptyView(), status: 'starting' } : readRunView(dir);
  const streams = new Set<ServerResponse>();
  let port = opts.port ?? 0;
  const pollMs = opts.pollMs ?? 1000;

  const send = (res: ServerResponse, event: string, data: unknown): void => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const broadcast = (event: string, data: unknown): void => {
    for (const s of streams) send(s, event, data);
  };

  // Steps arrive hundreds a second: they go out in batches, with the latest progress.
  let pending: RunView['steps'] = { step: [], loss: [], elbo: [] };
  let progress: RunProgress | undefined;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    timer = undefined;
    if (pending.step.length) broadcast('steps', pending);
    pending = { step: [], loss: [], elbo: [] };
    if (progress) broadcast('progress', progress);
  };
  const events: Required<TrainEvents> = {
    start(v) {
      view = clone(v);
      broadcast('view', view);
    },
    step(s, p) {
      for (const k of ['step', 'loss', 'elbo'] as const) {
        view.steps[k].push(s[k]);
        pending[k].push(s[k]);
      }
      view.progress = progress = p;
      view.status = 'training';
      timer ??= setTimeout(flush, Math.max(50, pollMs / 4));
    },
    epoch(m, pictures, p) {
      if (timer) clearTimeout(timer);
      flush();
      view.epochs.push(clone(m));
      if (pictures) for (const k of ['samples', 'reconstructions'] as const) view.pictures[k].push(m.epoch);
      view.progress = progress = p;
      broadcast('view', view);
    },
    end(status, v) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      pending = { step: [], loss: [], elbo: [] };
      view = { ...clone(v), status };
      broadcast('end', view);
    },
  };

  // With `follow`: the folder's files, looked at every pollMs; a change reloads the view.
  let poll: NodeJS.Timeout | undefined;
  if (opts.follow) {
    const signature = (): string =>
      ['run.json', 'metrics.jsonl', 'steps.jsonl', 'manifest.json', 'samples', 'reconstructions']
        .map((f) => {
          try {
            const st = statSync(join(dir, f));
            return `${st.size}:${st.mtimeMs}`;
          } catch {
            return '-';
          }
        })
        .join('|');
    let last = signature();
    poll = setInterval(() => {
      const now = signature();
      if (now === last) return;
      last = now;
      view = readRunView(dir);
      broadcast('view', view);
    }, pollMs);
    poll.unref();
  }

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const reply = (status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void => {
      res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)), ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const plain = (status: number, msg: string, extra?: Record<string, string>) =>
      reply(status, 'text/plain; charset=utf-8', `${msg}\n`, extra);
    // DNS rebinding: a page of another site that resolves its name to 127.0.0.1 still sends its own Host.
    const host = req.headers.host;
    if (host !== `${DASHBOARD_HOST}:${port}` && host !== `localhost:${port}`) return plain(403, 'forbidden: unknown Host');
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(405, 'method not allowed', { Allow: 'GET, HEAD' });
    const url = req.url ?? '';
    if (!url.startsWith('/')) return plain(400, 'bad request');
    const path = url.split('?')[0];
    if (path === '/' || path === '/index.html') return reply(200, 'text/html; charset=utf-8', dashboardHtml());
    if (path === '/favicon.ico') return reply(204, 'image/x-icon', '');
    if (path === '/api/run') return reply(200, 'application/json; charset=utf-8', JSON.stringify(view));
    if (path === '/events') {
      if (streams.size >= MAX_STREAMS) return plain(503, 'too many open dashboards');
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
      if (req.method === 'HEAD') return void res.end();
      res.write('retry: 2000\n\n');
      // Steps not yet sent go to the other pages first: the view this page gets already has them.
      if (timer) {
        clearTimeout(timer);
        flush();
      }
      send(res, 'view', view);
      streams.add(res);
      const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      beat.unref();
      req.on('close', () => {
        clearInterval(beat);
        streams.delete(res);
      });
      return;
    }
    if (path.startsWith('/assets/')) {
      const name = path.slice('/assets/'.length);
      if (Object.hasOwn(PAGE_ASSETS, name)) return reply(200, PAGE_ASSETS[name as PageAsset].type, pageAsset(name as PageAsset));
      return plain(404, 'not found');
    }
    const file = picturePath(dir, path);
    if (file) {
      try {
        const st = lstatSync(file);
        if (st.isFile() && st.size <= MAX_PICTURE_BYTES) return reply(200, 'image/png', readFileSync(file));
      } catch {
        // not there (yet): 404
      }
    }
    return plain(404, 'not found');
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch {
      if (!res.headersSent) res.writeHead(500, SECURITY_HEADERS);
      res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      clearInterval(poll);
      reject(
        e.code === 'EADDRINUSE'
          ? new Error(`port ${port} on ${DASHBOARD_HOST} is in use: choose another (0: any free port)`)
          : new Error(`the dashboard could not listen on ${DASHBOARD_HOST}:${port}: ${e.message}`),
      );
    });
    server.listen(port, DASHBOARD_HOST, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${DASHBOARD_HOST}:${port}/`,
    port,
    events,
    view: () => view,
    close: async () => {
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      for (const s of streams) s.end();
      streams.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

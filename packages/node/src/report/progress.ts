/**
 * A terminal progress line for training: bar, percent, loss, samples/s and ETA. On a TTY it redraws one line in
 * place (at most every 100 ms); elsewhere (CI logs, files) it prints a plain line at most every 2 s or each time
 * another 10% is done, so logs stay short.
 *
 * @example
 * const p = new Progress(train.n * epochs, { label: 'train' });
 * for (const b of batches(...)) { const loss = await step(b); p.tick(b.size, { loss, extra: { kl } }); }
 * p.done();
 */

/** The part of a Writable the progress line needs (process.stderr fits). */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  /** Terminal width; lines are cut to fit so redraws never wrap. */
  columns?: number;
}

export interface ProgressOptions {
  stream?: ProgressStream;
  label?: string;
  /** What is counted, shown in the rate: 'samples' (default), 'examples', 'steps', … */
  unit?: string;
  /** Milliseconds clock, injectable for tests (default performance.now). */
  now?: () => number;
}

export interface TickInfo {
  loss?: number;
  extra?: Record<string, number | string>;
}

const TTY_INTERVAL_MS = 100;
const PLAIN_INTERVAL_MS = 2000;
const BAR_WIDTH = 24;

function formatValue(v: number | string): string {
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(5)));
}

function formatRate(r: number): string {
  if (!(r > 0) || !Number.isFinite(r)) return '--';
  if (r >= 1e6) return `${(r / 1e6).toFixed(1)}M`;
  if (r >= 1e4) return `${(r / 1e3).toFixed(1)}k`;
  return r >= 100 ? r.toFixed(0) : r.toPrecision(3);
}

/** Seconds as m:ss or h:mm:ss. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export class Progress {
  private readonly stream: ProgressStream;
  private readonly label: string;
  private readonly unit: string;
  private readonly now: () => number;
  private readonly start: number;
  private readonly tty: boolean;
  private count = 0;
  private loss: number | undefined;
  private extra: Record<string, number | string> = {};
  private lastDraw: number;
  private lastDecile = 0;
  private finished = false;

  /** @param total the number of samples (or steps) the run will process. */
  constructor(
    private readonly total: number,
    options: ProgressOptions = {},
  ) {
    if (!Number.isFinite(total) || total <= 0) throw new Error(`Progress total must be a positive number, got ${total}`);
    this.stream = options.stream ?? process.stderr;
    this.label = options.label ?? '';
    this.unit = options.unit ?? 'samples';
    this.now = options.now ?? (() => performance.now());
    this.tty = this.stream.isTTY === true;
    this.start = this.now();
    this.lastDraw = this.start;
  }

  /** Record `n` more samples done, with the latest loss and any extra fields to show. */
  tick(n: number, info: TickInfo = {}): void {
    if (this.finished) return;
    if (!Number.isFinite(n) || n < 0) throw new Error(`Progress.tick count must be a non-negative number, got ${n}`);
    this.count += n;
    if (info.loss !== undefined) this.loss = info.loss;
    if (info.extra !== undefined) this.extra = { ...this.extra, ...info.extra };
    const t = this.now();
    const decile = Math.floor((10 * Math.min(this.count, this.total)) / this.total);
    if (this.tty) {
      if (t - this.lastDraw >= TTY_INTERVAL_MS || this.count >= this.total) this.redraw(t);
    } else if (t - this.lastDraw >= PLAIN_INTERVAL_MS || decile > this.lastDecile) {
      this.stream.write(`${this.line(t, false)}\n`);
      this.lastDraw = t;
      this.lastDecile = decile;
    }
  }

  /** Print the final line (with the elapsed time) and end it with a newline; later calls do nothing. */
  done(info: TickInfo = {}): void {
    if (this.finished) return;
    if (info.loss !== undefined) this.loss = info.loss;
    if (info.extra !== undefined) this.extra = { ...this.extra, ...info.extra };
    this.finished = true;
    const t = this.now();
    const line = `${this.line(t, this.tty, true)}`;
    this.stream.write(this.tty ? `\r${this.fit(line)}\x1b[K\n` : `${line}\n`);
  }

  private redraw(t: number): void {
    this.stream.write(`\r${this.fit(this.line(t, true))}\x1b[K`);
    this.lastDraw = t;
  }

  private fit(line: string): string {
    const cols = this.stream.columns;
    return cols !== undefined && cols > 1 && line.length > cols - 1 ? line.slice(0, cols - 1) : line;
  }

  private line(t: number, withBar: boolean, final = false): string {
    const elapsed = Math.max(0, (t - this.start) / 1000);
    const frac = Math.min(1, this.count / this.total);
    const rate = elapsed > 0 ? this.count / elapsed : Number.NaN;
    const parts: string[] = [];
    if (this.label) parts.push(this.label);
    if (withBar) {
      const filled = Math.round(frac * BAR_WIDTH);
      parts.push(`[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`);
    }
    parts.push(`${(frac * 100).toFixed(0).padStart(3)}%`, `${this.count}/${this.total}`);
    if (this.loss !== undefined) parts.push(`loss ${formatValue(this.loss)}`);
    parts.push(`${formatRate(rate)} ${this.unit}/s`);
    if (final) parts.push(`in ${formatDuration(elapsed)}`);
    else parts.push(`ETA ${rate > 0 ? formatDuration((this.total - Math.min(this.count, this.total)) / rate) : '--:--'}`);
    for (const [k, v] of Object.entries(this.extra)) parts.push(`${k} ${formatValue(v)}`);
    return parts.join(' ');
  }
}

import { describe, expect, it } from 'vitest';
import type { ProgressStream } from './progress.js';
import { formatDuration, Progress } from './progress.js';

class FakeStream implements ProgressStream {
  out = '';
  writes = 0;
  constructor(
    readonly isTTY: boolean,
    readonly columns?: number,
  ) {}
  write(chunk: string): boolean {
    this.out += chunk;
    this.writes++;
    return true;
  }
}

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000; // arbitrary origin: only differences matter
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('Progress on a non-TTY stream (CI)', () => {
  it('prints plain lines with percent, loss, rate and ETA', () => {
    const s = new FakeStream(false);
    const c = clock();
    const p = new Progress(1000, { stream: s, label: 'epoch 1', now: c.now });
    c.advance(500);
    p.tick(50, { loss: 123.456789 }); // 5%, 0.5 s: neither 10% nor 2 s yet
    expect(s.out).toBe('');
    c.advance(500);
    p.tick(50, { loss: 120.5, extra: { kl: 3.25 } }); // 10% at 1 s: 100 samples/s, 900 left → 9 s
    expect(s.out).toBe('epoch 1  10% 100/1000 loss 120.5 100 samples/s ETA 0:09 kl 3.25\n');
    expect(s.out).not.toContain('\r');
  });

  it('prints at most every 2 s or every 10%, however often it ticks', () => {
    const s = new FakeStream(false);
    const c = clock();
    const p = new Progress(1000, { stream: s, now: c.now });
    for (let i = 0; i < 1000; i++) {
      c.advance(10); // 10 s in total
      p.tick(1, { loss: 1 / (i + 1) });
    }
    p.done();
    const lines = s.out.trimEnd().split('\n');
    // 10 decile lines, up to 5 more from the 2 s timer, and the final line.
    expect(lines.length).toBeGreaterThanOrEqual(11);
    expect(lines.length).toBeLessThanOrEqual(16);
    expect(lines.at(-1)).toBe('100% 1000/1000 loss 0.001 100 samples/s in 0:10');
  });

  it('prints on the 2 s timer when progress is slow', () => {
    const s = new FakeStream(false);
    const c = clock();
    const p = new Progress(1_000_000, { stream: s, now: c.now });
    c.advance(2100);
    p.tick(10);
    expect(s.out).toMatch(/^ {2}0% 10\/1000000 4\.76 samples\/s ETA \d+:\d\d:\d\d\n$/);
  });
});

describe('Progress on a TTY', () => {
  it('redraws one line in place with a bar, throttled, and ends it with a newline', () => {
    const s = new FakeStream(true);
    const c = clock();
    const p = new Progress(200, { stream: s, label: 'train', now: c.now });
    for (let i = 0; i < 100; i++) {
      c.advance(5); // 0.5 s of ticks every 5 ms: at most one redraw per 100 ms
      p.tick(1, { loss: 2.5 });
    }
    expect(s.writes).toBeLessThanOrEqual(5);
    expect(s.writes).toBeGreaterThanOrEqual(4);
    expect(s.out).not.toContain('\n');
    const last = s.out.split('\r').at(-1) ?? '';
    // 100 of 200 at 0.5 s: 200 samples/s, 100 left → 0.5 s → "0:01" after rounding.
    expect(last).toBe(`train [${'#'.repeat(12)}${'-'.repeat(12)}]  50% 100/200 loss 2.5 200 samples/s ETA 0:01\x1b[K`);
    c.advance(500);
    p.tick(100, { loss: 2 });
    p.done({ extra: { 'val elbo': -95.25 } });
    p.done(); // idempotent
    p.tick(5); // ignored after done
    expect(s.out.endsWith('\n')).toBe(true);
    expect(s.out.split('\n').length).toBe(2);
    expect(s.out.split('\r').at(-1)).toBe(`train [${'#'.repeat(24)}] 100% 200/200 loss 2 200 samples/s in 0:01 val elbo -95.25\x1b[K\n`);
  });

  it('cuts lines to the terminal width so redraws never wrap', () => {
    const s = new FakeStream(true, 30);
    const c = clock();
    const p = new Progress(10, { stream: s, now: c.now });
    c.advance(1000);
    p.tick(10, { loss: 1 });
    const line = (s.out.split('\r').at(-1) ?? '').replace('\x1b[K', '');
    expect(line.length).toBe(29);
  });
});

describe('Progress details', () => {
  it('shows NaN losses, unknown rates and ETAs honestly', () => {
    const s = new FakeStream(false);
    const c = clock();
    const p = new Progress(10, { stream: s, now: c.now });
    p.tick(5, { loss: Number.NaN }); // no time has passed: rate unknown
    expect(s.out).toBe(' 50% 5/10 loss NaN -- samples/s ETA --:--\n');
  });

  it('validates its arguments', () => {
    expect(() => new Progress(0, { stream: new FakeStream(false) })).toThrow(/total must be a positive number, got 0/);
    const p = new Progress(5, { stream: new FakeStream(false) });
    expect(() => p.tick(-1)).toThrow(/non-negative/);
  });

  it('defaults to process.stderr without writing on construction', () => {
    expect(() => new Progress(3)).not.toThrow();
  });

  it('formats durations as m:ss and h:mm:ss', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(65)).toBe('1:05');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('--:--');
  });
});

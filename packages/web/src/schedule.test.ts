import { describe, expect, it } from 'vitest';
import { LatestOnly, RunQueue, serialized } from './schedule.js';

const tick = (ms = 0) => new Promise((ok) => setTimeout(ok, ms));

/** A fake async task that records how many copies of it run at once. */
function probe() {
  const seen = { active: 0, maxActive: 0, ran: [] as number[] };
  const task =
    (i: number, ms: number, fail = false) =>
    async () => {
      seen.active++;
      seen.maxActive = Math.max(seen.maxActive, seen.active);
      await tick(ms);
      seen.active--;
      seen.ran.push(i);
      if (fail) throw new Error(`task ${i} failed`);
      return i;
    };
  return { seen, task };
}

describe('RunQueue', () => {
  it('never overlaps tasks, keeps their order, and gives each error to its own caller', async () => {
    const q = new RunQueue();
    const { seen, task } = probe();
    const results = Array.from({ length: 20 }, (_, i) => q.run(task(i, (i * 7) % 5, i === 3)));
    const settled = await Promise.allSettled(results);
    expect(seen.maxActive).toBe(1);
    expect(seen.ran).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(settled[3]).toEqual({ status: 'rejected', reason: new Error('task 3 failed') });
    expect(settled.filter((s) => s.status === 'fulfilled').map((s) => (s as PromiseFulfilledResult<number>).value)).toEqual(
      Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 3),
    );
  });

  it('serialized sessions share the queue: runs of two sessions never overlap; release waits its turn', async () => {
    const q = new RunQueue();
    const log: string[] = [];
    let active = 0;
    const fake = (name: string) => ({
      inputNames: [`${name}.in`],
      async run(feeds: { n: number }) {
        if (active++) throw new Error('Session mismatch');
        await tick(1);
        active--;
        log.push(`${name}.run${feeds.n}`);
        return { n: feeds.n };
      },
      async release() {
        log.push(`${name}.release`);
      },
    });
    const a = serialized(fake('a'), q);
    const b = serialized(fake('b'), q);
    expect(a.inputNames).toEqual(['a.in']);
    const runs = [a.run({ n: 1 }), b.run({ n: 2 }), a.run({ n: 3 }), a.release(), b.run({ n: 4 })];
    await Promise.all(runs);
    expect(log).toEqual(['a.run1', 'b.run2', 'a.run3', 'a.release', 'b.run4']);
    // Without the queue the same calls overlap and fail, as onnxruntime-web's WebGPU backend does.
    const raw = fake('c');
    const overlapping = await Promise.allSettled([raw.run({ n: 1 }), raw.run({ n: 2 })]);
    expect(overlapping.some((r) => r.status === 'rejected')).toBe(true);
  });
});

describe('LatestOnly', () => {
  it('runs one at a time, drops the requests a newer one replaced, and always runs the last', async () => {
    const latest = new LatestOnly();
    const { seen, task } = probe();
    const results: Promise<number | undefined>[] = [];
    for (let i = 0; i < 30; i++) {
      results.push(latest.run(task(i, 3)));
      if (i % 7 === 0) await tick(1); // some requests arrive while one runs, some in a burst
    }
    const values = await Promise.all(results);
    expect(seen.maxActive).toBe(1);
    expect(seen.ran.at(-1)).toBe(29);
    expect(values[29]).toBe(29);
    // Each request either ran (and got its own value) or was dropped (undefined, and its task never ran).
    for (const [i, v] of values.entries()) expect(v === undefined ? !seen.ran.includes(i) : v === i && seen.ran.includes(i)).toBe(true);
    expect(seen.ran.length).toBeLessThan(30);
    expect(seen.ran).toEqual([...seen.ran].sort((a, b) => a - b));
  });

  it('passes a task error to its caller and keeps serving', async () => {
    const latest = new LatestOnly();
    const { task } = probe();
    await expect(latest.run(task(1, 1, true))).rejects.toThrow('task 1 failed');
    const running = latest.run(task(2, 2, true));
    const dropped = latest.run(task(3, 1));
    const last = latest.run(task(4, 1));
    await expect(running).rejects.toThrow('task 2 failed');
    expect(await dropped).toBeUndefined();
    expect(await last).toBe(4);
  });
});

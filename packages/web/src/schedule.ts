/**
 * Keeping session runs apart. onnxruntime-web's WebGPU backend serves one run at a time: a second `session.run`
 * started while another is in flight (on any session of the page) fails with "Session mismatch" or worse, and a
 * slider fires input events far faster than a decode finishes. `RunQueue` serializes runs; `LatestOnly` drops the
 * requests that a newer one made stale before they started.
 *
 * @example
 * const redraw = new LatestOnly();
 * slider.oninput = async () => {
 *   const x = await redraw.run(() => model.sampler.decode(z, 1)); // undefined: a newer move replaced this one
 *   if (x) drawImages(canvas, x, 1, 28, 28, 1);
 * };
 */

/** Runs tasks one at a time, in the order they were queued; a task's error goes to its caller only. */
export class RunQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * "Latest wins": at most one task runs at a time; while one runs, only the newest request waits, and each request
 * it replaced resolves to `undefined` without running. The last request made always runs, so what is drawn last
 * reflects the last input.
 */
export class LatestOnly {
  private running = false;
  private waiting?: { task: () => Promise<unknown> | unknown; ok: (v: unknown) => void; fail: (e: unknown) => void };

  run<T>(task: () => Promise<T> | T): Promise<T | undefined> {
    return new Promise<T | undefined>((ok, fail) => {
      this.waiting?.ok(undefined);
      this.waiting = { task, ok: ok as (v: unknown) => void, fail };
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.waiting) {
      const { task, ok, fail } = this.waiting;
      this.waiting = undefined;
      try {
        ok(await task());
      } catch (e) {
        fail(e);
      }
    }
    this.running = false;
  }
}

/** Minimal shape of an InferenceSession that `serialized` needs. */
interface Runnable {
  run(...args: never[]): Promise<unknown>;
  release(): Promise<void>;
}

/**
 * The same session, with `run` (and `release`) going through `queue`: every session sharing a queue never has two
 * runs in flight, and a release waits for the runs queued before it.
 */
export function serialized<S extends Runnable>(session: S, queue: RunQueue): S {
  return new Proxy(session, {
    get(target, prop) {
      if (prop === 'run') return (...args: Parameters<S['run']>) => queue.run(() => target.run(...args));
      if (prop === 'release') return () => queue.run(() => target.release());
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

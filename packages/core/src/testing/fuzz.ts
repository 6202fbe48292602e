/**
 * A small mutation fuzzer for the readers of untrusted files (safetensors, manifests, .onnx, IDX, .npy, config
 * files). Each input is a valid file mutated a few times (bit flips, byte stores of boundary values, truncation,
 * insertion, deletion, duplication, splices of another valid file, and for text, JSON-shaped edits), from a seeded
 * PRNG so that a failure names its seed and case, and reruns with `FUZZ_SEED=<seed>`.
 *
 * @example
 * fuzzReader({ name: 'safetensors', seeds: [good], cases: 3000, seed, run: (b) => decodeSafetensors(b, 'x'), ok: (e) => … });
 */

/** The fuzz seed: FUZZ_SEED from the environment, else a fixed one (so CI is reproducible run to run). */
export function fuzzSeed(): number {
  const env = typeof process === 'undefined' ? undefined : process.env.FUZZ_SEED;
  return env === undefined || env === '' ? 20261203 : Number(env) >>> 0;
}

/** mulberry32: 32-bit state, enough for choosing mutations; `next()` is uniform in [0, 1). */
export function fuzzRng(seed: number): { next: () => number; int: (n: number) => number } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}

type Rng = ReturnType<typeof fuzzRng>;

/** Byte values at the edges of ranges: lengths and counts go wrong there. */
const BOUNDARY = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x20, 0x22, 0x5b, 0x7b, 0x2c, 0x3a, 0x30, 0x39, 0x2d];

/** JSON-shaped fragments for text formats: nesting, huge and odd numbers, repeated keys, escapes. */
const FRAGMENTS = [
  '[',
  '{',
  ']',
  '}',
  '"',
  ',',
  ':',
  '1e308',
  '-1',
  '1.5',
  '9007199254740993',
  'null',
  'true',
  '"__proto__":1,',
  '"a":1,"a":2',
  '\\u0000',
  '\\ud800',
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',
  '"x":"',
  '0x10',
];

/** One mutated copy of `base`; `others` supply splices. `text` adds JSON-shaped edits. */
export function mutate(base: Uint8Array, others: readonly Uint8Array[], rng: Rng, text = false): Uint8Array {
  let b = Uint8Array.from(base);
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const pos = rng.int(b.length + 1);
    const op = rng.int(text ? 9 : 8);
    const cat = (...parts: Uint8Array[]) => {
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
      return out;
    };
    switch (op) {
      case 0: // flip 1 to 8 bits
        for (let k = 1 + rng.int(8); k > 0 && b.length > 0; k--) b[rng.int(b.length)] ^= 1 << rng.int(8);
        break;
      case 1: // store a boundary value
        if (b.length > 0) b[Math.min(pos, b.length - 1)] = BOUNDARY[rng.int(BOUNDARY.length)];
        break;
      case 2: // truncate
        b = b.slice(0, pos);
        break;
      case 3: {
        // insert 1 to 16 random bytes
        const ins = Uint8Array.from({ length: 1 + rng.int(16) }, () => rng.int(256));
        b = cat(b.subarray(0, pos), ins, b.subarray(pos));
        break;
      }
      case 4: // delete a range
        b = cat(b.subarray(0, pos), b.subarray(Math.min(b.length, pos + 1 + rng.int(64))));
        break;
      case 5: {
        // duplicate a range in place
        const end = Math.min(b.length, pos + 1 + rng.int(64));
        b = cat(b.subarray(0, end), b.subarray(pos, end), b.subarray(end));
        break;
      }
      case 6: {
        // splice: a range of another valid file replaces the tail, or is inserted
        const o = others[rng.int(others.length)] ?? base;
        const from = rng.int(o.length + 1);
        const piece = o.subarray(from, Math.min(o.length, from + 1 + rng.int(256)));
        b = rng.next() < 0.5 ? cat(b.subarray(0, pos), piece) : cat(b.subarray(0, pos), piece, b.subarray(pos));
        break;
      }
      case 7: // a 32-bit little- or big-endian boundary integer (lengths, counts, dims)
        if (b.length >= 4) {
          const v = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, b.length][rng.int(7)];
          new DataView(b.buffer).setUint32(Math.min(pos, b.length - 4), v, rng.next() < 0.5);
        }
        break;
      case 8: {
        // text: a JSON-shaped fragment
        const f = new TextEncoder().encode(FRAGMENTS[rng.int(FRAGMENTS.length)]);
        b = cat(b.subarray(0, pos), f, b.subarray(rng.next() < 0.5 ? pos : Math.min(b.length, pos + f.length)));
        break;
      }
    }
  }
  return b;
}

export interface FuzzTarget<E extends Error> {
  name: string;
  /** Valid inputs to mutate (and splice from). */
  seeds: readonly Uint8Array[];
  cases: number;
  seed: number;
  text?: boolean;
  /** Reads one input; returns normally or throws. */
  run: (bytes: Uint8Array, index: number) => unknown | Promise<unknown>;
  /** The reader's own error class. */
  errorType: new (
    ...args: never[]
  ) => E;
  /** Text the message must contain (the file's name) for case `index`. */
  names: (index: number) => string;
  /**
   * Longest a single input may take (ms) before it counts as a hang; default 5 s, 5× the slowest case seen on the
   * 2-core CI machine under full load (~0.9 ms typical, ~900 ms worst), so only a real hang trips it.
   */
  maxMs?: number;
}

export interface FuzzResult {
  cases: number;
  accepted: number;
  rejected: number;
  /** The slowest case (ms). */
  slowestMs: number;
  /** Failures: what was wrong and how to reproduce it. */
  failures: string[];
  ms: number;
}

/** Runs a target over `cases` mutated inputs; collects (does not throw) what breaks the contract. */
export async function fuzzReader<E extends Error>(t: FuzzTarget<E>): Promise<FuzzResult> {
  const rng = fuzzRng(t.seed);
  const failures: string[] = [];
  let accepted = 0;
  let ran = 0;
  let slowestMs = 0;
  const start = performance.now();
  const maxMs = t.maxMs ?? 5000;
  for (let i = 0; i < t.cases && failures.length < 5; i++) {
    ran++;
    const base = t.seeds[rng.int(t.seeds.length)];
    const input = mutate(base, t.seeds, rng, t.text);
    const t0 = performance.now();
    const where = `${t.name} case ${i} (FUZZ_SEED=${t.seed}, ${input.length} bytes)`;
    try {
      await t.run(input, i);
      accepted++;
    } catch (e) {
      const name = t.names(i);
      if (!(e instanceof t.errorType)) {
        failures.push(
          `${where}: ${e instanceof Error ? e.constructor.name : typeof e} escaped: ${String((e as Error)?.message ?? e).slice(0, 300)}`,
        );
      } else if (!e.message.includes(name)) {
        failures.push(`${where}: the message does not name ${name}: ${e.message.slice(0, 300)}`);
      }
    }
    const ms = performance.now() - t0;
    slowestMs = Math.max(slowestMs, ms);
    if (ms > maxMs) failures.push(`${where}: took ${ms.toFixed(0)} ms (more than ${maxMs})`);
  }
  const r = { cases: ran, accepted, rejected: ran - accepted, slowestMs, failures, ms: performance.now() - start };
  console.log(
    `fuzz ${t.name}: ${r.cases} cases, ${r.rejected} rejected, ${r.ms.toFixed(0)} ms (slowest ${slowestMs.toFixed(1)} ms), seed ${t.seed}`,
  );
  return r;
}

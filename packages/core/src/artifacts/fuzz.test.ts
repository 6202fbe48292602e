/**
 * Fuzz suite over core's readers of untrusted bytes (issue 9, item 10): safetensors, manifest.json, a whole bundle
 * through loadBundle, and .onnx through parseModel. Thousands of mutated valid files each, from a seeded PRNG (the
 * seed is printed; rerun one with FUZZ_SEED=<seed>); every input must parse or fail with the reader's own error
 * type naming the file, never a TypeError/RangeError/SyntaxError, and never take more than a second.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelParseError, parseModel } from '../ir/serialize.js';
import { resolveConfig } from '../models/config.js';
import { type FuzzResult, fuzzReader, fuzzSeed } from '../testing/fuzz.js';
import { type Bundle, BundleError, createBundle, initialState, loadBundle, parseManifest } from './bundle.js';
import { decodeSafetensors, SafetensorsError } from './safetensors.js';
import { sha256Hex } from './sha256.js';

const SEED = fuzzSeed();
const enc = new TextEncoder();
const dec = new TextDecoder();

let plain: Bundle;
let fused: Bundle;
beforeAll(async () => {
  console.log(`fuzz seed ${SEED} (rerun with FUZZ_SEED=${SEED})`);
  const cfg = resolveConfig({ inputShape: [6], hidden: [5], latent: 2, activation: 'tanh' });
  plain = await createBundle(cfg, initialState(cfg, 1));
  // A fused train step holds an ONNX Loop: its body is a GRAPH attribute, so subgraph parsing is fuzzed too.
  const cond = resolveConfig({ inputShape: [4], hidden: [3], latent: 2, conditional: { classes: 2, prior: 'learned' } });
  fused = await createBundle(cond, initialState(cond, 2), { fusedSteps: 2 });
});

function expectClean(r: FuzzResult): void {
  expect(r.failures, r.failures.join('\n')).toEqual([]);
  // Over 90% of mutations are rejected at the default seed (most bytes are structure: headers, lengths, names);
  // at least half must be, or the fuzzer has stopped reaching the checks.
  expect(r.rejected).toBeGreaterThanOrEqual(r.cases / 2);
}

describe(`fuzz (seed ${SEED})`, () => {
  it('decodeSafetensors: 3000 mutated checkpoints', async () => {
    const seeds = [plain.files['checkpoint.safetensors'], fused.files['checkpoint.safetensors']];
    const r = await fuzzReader({
      name: 'safetensors',
      seeds,
      cases: 3000,
      seed: SEED,
      run: (b, i) => decodeSafetensors(b, `ck-${i}.safetensors`),
      errorType: SafetensorsError,
      names: (i) => `ck-${i}.safetensors`,
    });
    expectClean(r);
  });

  it('decodeSafetensors: 2000 JSON-shaped edits of the header', async () => {
    const seeds = [plain.files['checkpoint.safetensors'], fused.files['checkpoint.safetensors']];
    const headerOnly = seeds.map((s) => s.subarray(0, 8 + Number(new DataView(s.buffer, s.byteOffset).getBigUint64(0, true))));
    // Mutate the header text, keep the data, and fix the length field so the header is what gets parsed.
    const r = await fuzzReader({
      name: 'safetensors header',
      seeds: headerOnly.map((h) => h.subarray(8)),
      cases: 2000,
      seed: SEED + 1,
      text: true,
      run: (json, i) => {
        const data = seeds[i % 2].subarray(headerOnly[i % 2].length);
        const out = new Uint8Array(8 + json.length + data.length);
        new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
        out.set(json, 8);
        out.set(data, 8 + json.length);
        return decodeSafetensors(out, `h-${i}.safetensors`);
      },
      errorType: SafetensorsError,
      names: (i) => `h-${i}.safetensors`,
    });
    expectClean(r);
  });

  it('parseManifest: 3000 mutated manifests', async () => {
    const seeds = [plain.manifest, fused.manifest].map((m) => enc.encode(JSON.stringify(m, null, 2)));
    const r = await fuzzReader({
      name: 'manifest',
      seeds,
      cases: 3000,
      seed: SEED + 2,
      text: true,
      run: (b, i) => parseManifest(dec.decode(b), `m-${i}/manifest.json`),
      errorType: BundleError,
      names: (i) => `m-${i}/manifest.json`,
    });
    expectClean(r);
  });

  it('loadBundle: 1000 bundles with a mutated manifest or a mutated (re-hashed) checkpoint', async () => {
    const seeds = [enc.encode(JSON.stringify(plain.manifest)), plain.files['checkpoint.safetensors']];
    const r = await fuzzReader({
      name: 'loadBundle',
      seeds,
      cases: 1000,
      seed: SEED + 3,
      run: async (b, i) => {
        const isManifest = b[0] === 0x7b; // '{': a manifest (a checkpoint starts with its little-endian length)
        const manifest = structuredClone(plain.manifest);
        if (!isManifest) manifest.files['checkpoint.safetensors'] = { sha256: await sha256Hex(b), bytes: b.length };
        const files: Record<string, Uint8Array> = {
          ...plain.files,
          'manifest.json': isManifest ? b : enc.encode(JSON.stringify(manifest)),
        };
        if (!isManifest) files['checkpoint.safetensors'] = b;
        return loadBundle(async (f) => files[f], `b-${i}`);
      },
      errorType: BundleError,
      names: (i) => `b-${i}/`,
    });
    expectClean(r);
  });

  it('parseModel: 2000 mutated .onnx files (plain graphs and a Loop body)', async () => {
    const seeds = [plain.files['encoder.onnx'], plain.files['decoder.onnx'], plain.files['eval.onnx'], fused.files['train_step.onnx']];
    const r = await fuzzReader({
      name: 'onnx',
      seeds,
      cases: 2000,
      seed: SEED + 4,
      run: (b, i) => parseModel(b, `g-${i}.onnx`),
      errorType: ModelParseError,
      names: (i) => `g-${i}.onnx`,
    });
    expectClean(r);
  });
});

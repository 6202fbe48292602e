/**
 * The table-driven op suite of packages/core/src/ops/ops.test.ts, run on onnxruntime-web's WASM backend in Node:
 * every registered op's cases, forward against the float64 reference, shape rule against the shape WASM returns,
 * and the central-difference gradient check. Where WASM has no float64 kernel, checkOpCase falls back to float32.
 *
 * In Node, onnxruntime-web's `node` export (dist/ort.node.min.mjs) imports ort-wasm-simd-threaded.mjs from its own
 * dist folder, which loads the .wasm next to it; no wasmPaths or bundler setup is needed.
 */
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import '../packages/core/src/index.js';
import { registeredOps } from '../packages/core/src/ir/op-registry.js';
import { checkOpCase } from '../packages/core/src/testing/op-check.js';

// One thread: deterministic reductions, and no worker threads to start in a test process.
ort.env.wasm.numThreads = 1;

const float32Fallbacks = new Set<string>();

// Same tolerances as the node suite: float64 forward within 1e-9 relative of the reference, float32 within 1e-5;
// gradient tolerances come from op-check.ts and the cases.
describe.each(
  registeredOps()
    .filter((d) => d.cases && d.cases.length > 0)
    .map((d) => [d.opType, d] as const),
)('%s on onnxruntime-web wasm', (_name, def) => {
  it.each((def.cases ?? []).map((c, i) => [c.name ?? `case ${i}`, c] as const))('%s', async (cn, c) => {
    const r = await checkOpCase(ort, def, c);
    if (r.dtype !== (c.dtype ?? 'float64')) float32Fallbacks.add(`${def.opType} (${cn})`);
    expect(r.forwardMaxErr).toBeLessThanOrEqual(r.dtype === 'float64' ? 1e-9 : 1e-5);
    for (const ge of r.gradErr) expect(ge.err, `input ${ge.input} (${r.dtype})`).toBeLessThanOrEqual(r.gradTol);
  });
});

afterAll(() => {
  if (float32Fallbacks.size > 0)
    console.info(`onnxruntime-web wasm ran in float32 (no float64 kernel): ${[...float32Fallbacks].join(', ')}`);
});

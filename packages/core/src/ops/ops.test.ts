import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import '../index.js';
import { registeredOps } from '../ir/op-registry.js';
import { checkOpCase } from '../testing/op-check.js';

// Forward: float64 kernels agree with the float64 reference to rounding (1e-9 relative covers libm differences);
// float32 runs are held to 1e-5. Gradient tolerances are stated in op-check.ts and per case.
describe.each(
  registeredOps()
    .filter((d) => d.cases && d.cases.length > 0)
    .map((d) => [d.opType, d] as const),
)('%s on onnxruntime-node cpu', (_name, def) => {
  it.each((def.cases ?? []).map((c, i) => [c.name ?? `case ${i}`, c] as const))('%s', async (_cn, c) => {
    const r = await checkOpCase(ort, def, c);
    expect(r.forwardMaxErr).toBeLessThanOrEqual(r.dtype === 'float64' ? 1e-9 : 1e-5);
    for (const ge of r.gradErr) expect(ge.err, `input ${ge.input} (${r.dtype})`).toBeLessThanOrEqual(r.gradTol);
  });
});

it('every op either has cases or is listed as covered elsewhere', () => {
  const missing = registeredOps()
    .filter((d) => !d.cases || d.cases.length === 0)
    .map((d) => d.opType);
  expect(missing).toEqual([]);
});

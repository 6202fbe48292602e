import './stubs.js';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import './stubs.js';
import { Conv } from '../packages/core/src/ops/conv.js';
import { ConvTranspose } from '../packages/core/src/ops/conv-transpose.js';
import { checkOpCase } from '../packages/core/src/testing/op-check.js';
describe.each([[Conv], [ConvTranspose]])('%s', (def) => {
  it.each((def.cases ?? []).map((c) => [c.name ?? '', c] as const))('%s', async (_n, c) => {
    const r = await checkOpCase(ort, def, c);
    console.log(def.opType, c.name, r.dtype, 'fwd', r.forwardMaxErr.toExponential(2), 'grad', r.gradErr.map((g) => `${g.input}:${g.err.toExponential(2)}`).join(' '));
    expect(r.forwardMaxErr).toBeLessThanOrEqual(1e-5);
    for (const ge of r.gradErr) expect(ge.err, `input ${ge.input}`).toBeLessThanOrEqual(r.gradTol);
  });
});

import * as ort from 'onnxruntime-node';
import { expect, it } from 'vitest';
import '../packages/core/src/ops/index.js';
import { ConvTranspose } from '../packages/core/src/ops/conv-transpose.js';
import { F32_CASE } from '../packages/core/src/ops/conv.js';
import { checkOpCase } from '../packages/core/src/testing/op-check.js';
it('3d', async () => {
  const r = await checkOpCase(ort, ConvTranspose, { ...F32_CASE, attrs: { strides: [1, 2, 1], pads: [0, 1, 0, 1, 0, 0] }, inputs: [{ shape: [1, 2, 2, 2, 2] }, { shape: [2, 1, 2, 2, 2] }, { shape: [1] }] });
  console.log(JSON.stringify(r));
  expect(r.forwardMaxErr).toBeLessThan(1e-5);
  for (const ge of r.gradErr) expect(ge.err).toBeLessThan(r.gradTol);
});

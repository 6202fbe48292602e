/** The Refiner on onnxruntime-node: test-time refinement of the encoder's q and the amortization gap's bounds. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle, initialState } from '../artifacts/bundle.js';
import { resolveConfig } from '../models/config.js';
import { synthBinary } from '../testing/synthetic.js';
import { type BoundResult, measureAmortizationGap } from './refiner.js';
import type { OrtModule, SessionFactory } from './runtime.js';
import { Trainer } from './trainer.js';

const factory: SessionFactory = (bytes) => ort.InferenceSession.create(bytes);
const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
/** The standard error of a mean ELBO over the examples. */
const meanStdErr = (r: BoundResult) => Math.sqrt(r.elboStdErr.reduce((s, v) => s + v * v, 0)) / r.elbo.length;

/** Examples whose refined ELBO is below the encoder's by more than 3 standard errors of their difference. */
function worseAfterRefinement(encoder: BoundResult, refined: BoundResult): number {
  let worse = 0;
  for (let i = 0; i < encoder.elbo.length; i++)
    if (refined.elbo[i] < encoder.elbo[i] - 3 * Math.hypot(encoder.elboStdErr[i], refined.elboStdErr[i])) worse++;
  return worse;
}

describe('test-time refinement and the amortization gap', () => {
  it('refined ELBO ≥ encoder ELBO per example, and IWAE ≥ refined ELBO ≥ encoder ELBO on average', async () => {
    const cfg = resolveConfig({ inputShape: [16], hidden: [32], latent: 2 });
    const st = initialState(cfg, 1);
    const bundle = await createBundle(cfg, st);
    const trainer = new Trainer(ort, await ort.InferenceSession.create(bundle.files['train_step.onnx']), bundle.manifest, st, { lr: 5e-3 });
    // 256 training and 48 held-out examples of the same 4 prototypes.
    const all = synthBinary(304, 16, 4);
    const data = all.subarray(0, 256 * 16);
    for (let epoch = 0; epoch < 6; epoch++)
      for (let i = 0; i < 256; i += 32) await trainer.trainStep(data.subarray(i * 16, (i + 32) * 16), 32);
    const snap = await trainer.snapshot();
    const trained = await createBundle(cfg, snap);
    const n = 48;
    const test = all.slice(256 * 16);
    const { encoder, refined } = await measureAmortizationGap(ort as unknown as OrtModule, factory, { ...trained, state: snap }, test, n, {
      steps: 300,
      lr: 2e-2,
      k: 256,
      seed: 1,
    });
    // Per example, on common ε: no refined ELBO falls below the encoder's by more than 3 Monte Carlo standard errors.
    expect(worseAfterRefinement(encoder, refined)).toBe(0);
    // On average the refinement helps by more than 3 standard errors of the mean difference (conservative: the
    // common ε make the two estimates positively correlated, so their difference is less noisy than this).
    expect(mean(refined.elbo) - mean(encoder.elbo)).toBeGreaterThan(3 * Math.hypot(meanStdErr(encoder), meanStdErr(refined)));
    // E[IWAE_K] ≥ ELBO of the same proposal (Jensen); K = 256 leaves it far above that noise.
    expect(mean(refined.iwae)).toBeGreaterThan(mean(refined.elbo));
    expect(mean(encoder.iwae)).toBeGreaterThan(mean(encoder.elbo));
  });
});

/**
 * train_step's two layouts (models/graphs.ts): 'named' (a feed per tensor) and 'flat' (one vector for all parameters
 * and one per optimizer state kind). The Trainer runs both; they compute the same update, element by element, so
 * their checkpoints agree bit for bit (Adam is elementwise; without clipping nothing sums across tensors), and a
 * checkpoint of one resumes in the other.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle, initialState, type ModelState } from '../artifacts/bundle.js';
import { resolveConfig, type VaeConfigInput } from '../models/config.js';
import { synthBinary } from '../testing/synthetic.js';
import { Trainer } from './trainer.js';

async function train(over: VaeConfigInput, layout: 'flat' | 'named', steps: number, st?: ModelState, fusedSteps = 1) {
  const cfg = resolveConfig({ inputShape: [12], hidden: [7], latent: 3, ...over });
  const state = st ?? initialState(cfg, 5);
  const b = await createBundle(cfg, state, { trainLayout: layout, fusedSteps });
  const session = await ort.InferenceSession.create(b.files['train_step.onnx']);
  const t = new Trainer(ort, session, b.manifest, structuredClone(state), { lr: 0.01 });
  const batch = 6;
  const x = synthBinary(batch * fusedSteps, 12, 3);
  const xs = cfg.dtype === 'float32' ? Float32Array.from(x) : Float64Array.from(x);
  for (let i = 0; i < steps; i++) await t.trainStep(xs, batch);
  return { t, snap: await t.snapshot(), inputs: session.inputNames };
}

function expectSame(a: ModelState, b: ModelState) {
  expect(Object.keys(a.params)).toEqual(Object.keys(b.params));
  expect(Object.keys(a.optState)).toEqual(Object.keys(b.optState));
  for (const k of Object.keys(a.params))
    expect(Array.from(a.params[k].data as Float64Array), k).toEqual(Array.from(b.params[k].data as Float64Array));
  for (const k of Object.keys(a.optState))
    expect(Array.from(a.optState[k].data as Float64Array), k).toEqual(Array.from(b.optState[k].data as Float64Array));
  expect(a.training.step).toBe(b.training.step);
}

describe('train_step layouts', () => {
  it.each([
    ['float64 Adam', { dtype: 'float64' }],
    ['float32 Adam', {}],
    ['AdamW with weight decay', { optimizer: { type: 'adamw', weightDecay: 0.1 } }],
    ['SGD with momentum', { optimizer: { type: 'sgd', momentum: 0.9 } }],
    [
      'score function with a moving-average baseline (a named estimator state)',
      { estimator: 'score', baseline: 'moving-average', samples: 2 },
    ],
    ["NVIL (b_ψ's parameters in the flat vector, c and v named)", { latentType: 'bernoulli', baseline: 'nvil' }],
    ['VIMCO', { latentType: 'bernoulli', objective: 'iwae', samples: 3, baseline: 'vimco' }],
    ['the Concrete relaxation', { latentType: 'categorical', categories: 3, relaxation: { temperature: 0.5 } }],
  ] as [string, VaeConfigInput][])('flat and named give the same checkpoint bit for bit: %s', async (_, over) => {
    const flat = await train(over, 'flat', 4);
    const named = await train(over, 'named', 4);
    expect(flat.inputs).toContain('params');
    expect(named.inputs).not.toContain('params');
    expectSame(flat.snap, named.snap);
  });

  it('fused K-step flat graphs match plain named steps', async () => {
    const fused = await train({ dtype: 'float64' }, 'flat', 1, undefined, 3);
    // Three plain steps on the same three batches (the fused run takes them stacked), noise drawn in the same order.
    const cfg = resolveConfig({ inputShape: [12], hidden: [7], latent: 3, dtype: 'float64' });
    const state = initialState(cfg, 5);
    const b = await createBundle(cfg, state, { trainLayout: 'named' });
    const t = new Trainer(ort, await ort.InferenceSession.create(b.files['train_step.onnx']), b.manifest, structuredClone(state), {
      lr: 0.01,
    });
    const x = Float64Array.from(synthBinary(18, 12, 3));
    for (let i = 0; i < 3; i++) await t.trainStep(x.subarray(i * 72, (i + 1) * 72), 6);
    const plain = await t.snapshot();
    for (const k of Object.keys(plain.params)) {
      const a = plain.params[k].data as Float64Array;
      const f = fused.snap.params[k].data as Float64Array;
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - f[i])).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(a[i])));
    }
  });

  it("a flat run's checkpoint resumes as a named run, and the other way round, without a difference", async () => {
    const over = { dtype: 'float64' } as VaeConfigInput;
    const both = await train(over, 'flat', 4);
    const half = await train(over, 'flat', 2);
    const rest = await train(over, 'named', 2, half.snap);
    expectSame(both.snap, rest.snap);
    const halfNamed = await train(over, 'named', 2);
    const restFlat = await train(over, 'flat', 2, halfNamed.snap);
    expectSame(both.snap, restFlat.snap);
  });

  it('parameterTensors gives named views of the flat vector, the values snapshot() copies', async () => {
    const { t, snap } = await train({}, 'flat', 2);
    const views = t.parameterTensors;
    expect(Object.keys(views)).toEqual(Object.keys(snap.params));
    for (const [k, v] of Object.entries(views)) {
      expect([...v.dims]).toEqual(snap.params[k].shape);
      expect(Array.from(v.data as Float32Array)).toEqual(Array.from(snap.params[k].data as Float32Array));
    }
  });

  it('a state tensor of the wrong size is refused by name before any step', async () => {
    const cfg = resolveConfig({ inputShape: [12], hidden: [7], latent: 3 });
    const state = initialState(cfg, 5);
    const b = await createBundle(cfg, state);
    const bad = structuredClone(state);
    bad.optState['decoder.mlp.fc1.weight.adam_v'] = { ...bad.optState['decoder.mlp.fc1.weight.adam_v'], data: new Float32Array(3) };
    const session = await ort.InferenceSession.create(b.files['train_step.onnx']);
    expect(() => new Trainer(ort, session, b.manifest, bad, { lr: 0.01 })).toThrow(
      /optimizer state 'decoder\.mlp\.fc1\.weight\.adam_v' has 3 values, its shape \[\d+, \d+\] needs \d+/,
    );
  });
});

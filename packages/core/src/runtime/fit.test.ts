/** fit, core's epoch loop, over real onnxruntime-node sessions: the same numbers as a hand-written loop, and its edges. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle, initialState, type ModelState } from '../artifacts/bundle.js';
import { resolveConfig, type VaeConfig } from '../models/config.js';
import { synthBinary } from '../testing/synthetic.js';
import { synthLabeled } from '../testing/synthetic-labeled.js';
import { concatArrays, concatLabels, type FitBatch, fit } from './fit.js';
import { Trainer, TrainingDivergedError } from './trainer.js';

const D = 16;
const plain = resolveConfig({ inputShape: [D], hidden: [12], latent: 2 });

async function trainer(cfg: VaeConfig, fusedSteps = 1, lr = 5e-3): Promise<Trainer> {
  const st: ModelState = initialState(cfg, 3);
  const b = await createBundle(cfg, st, { fusedSteps });
  return new Trainer(ort, await ort.InferenceSession.create(b.files['train_step.onnx']), b.manifest, st, { lr });
}

/** n batches of b examples from x (D values each). */
function split(x: Float32Array, b: number, labels?: Int32Array): FitBatch[] {
  const out: FitBatch[] = [];
  for (let i = 0; i + b <= x.length / D; i += b) out.push({ x: x.subarray(i * D, (i + b) * D), y: labels?.subarray(i, i + b), size: b });
  return out;
}

const params = async (t: Trainer) => (await t.snapshot()).params;

describe('fit', () => {
  it('equals a hand-written loop bit for bit, averages the steps, and calls back in order', async () => {
    const x = synthBinary(96, D, 1);
    const batches = split(x, 32);
    const manual = await trainer(plain);
    const elbos: number[] = [];
    for (let e = 0; e < 2; e++) for (const b of batches) elbos.push((await manual.trainStep(b.x, 32)).elbo);

    const t = await trainer(plain);
    const calls: string[] = [];
    const seen: number[] = [];
    const r = await fit(t, batches, {
      epochs: 2,
      onEpochStart: (e) => void calls.push(`start ${e}`),
      onStep: (m, e) => {
        calls.push(`step ${e}`);
        seen.push(m.elbo);
      },
      onEpoch: (s) => {
        calls.push(`epoch ${s.epoch} (trainer at ${t.epoch})`);
        // The per-epoch mean of the step ELBOs, summed in step order.
        expect(s.elbo).toBe(elbos.slice((s.epoch - 1) * 3, s.epoch * 3).reduce((a, b) => a + b, 0) / 3);
        expect([s.runs, s.steps, s.examples, s.step, s.last]).toEqual([3, 3, 96, 3 * s.epoch, s.epoch === 2]);
      },
      onCheckpoint: (s) => void calls.push(`checkpoint ${s.epoch} (trainer at ${t.epoch})`),
    });
    expect(r).toEqual({ aborted: false, epoch: 2, step: 6 });
    expect(seen).toEqual(elbos);
    expect(calls).toEqual([
      'start 1',
      'step 1',
      'step 1',
      'step 1',
      'epoch 1 (trainer at 0)',
      'checkpoint 1 (trainer at 1)',
      'start 2',
      'step 2',
      'step 2',
      'step 2',
      'epoch 2 (trainer at 1)',
      'checkpoint 2 (trainer at 2)',
    ]);
    const [a, b] = [await params(manual), await params(t)];
    for (const k of Object.keys(a)) expect(Array.from(b[k].data as Float32Array)).toEqual(Array.from(a[k].data as Float32Array));
    // Epochs count from the trainer's: one more epoch is epoch 3, and its source gets the 0-based index 2.
    const indices: number[] = [];
    await fit(
      t,
      (i) => {
        indices.push(i);
        return batches;
      },
      { epochs: 1, onEpoch: (s) => expect(s.epoch).toBe(3) },
    );
    expect(indices).toEqual([2]);
  });

  it('groups K batches into one fused run with their labels joined; leftovers are not used', async () => {
    const C = 3;
    const cfg = resolveConfig({ inputShape: [D], hidden: [12], latent: 2, conditional: { classes: C, prior: 'learned' } });
    const data = synthLabeled(160, D, C, 2);
    const batches = split(data.x, 32, data.labels); // 5 batches: two fused runs of 2, one left over
    const manual = await trainer(cfg, 2);
    for (let i = 0; i + 1 < batches.length; i += 2) {
      const x = concatArrays([batches[i].x, batches[i + 1].x] as Float32Array[]);
      await manual.trainStep(x, 32, concatLabels([batches[i].y, batches[i + 1].y]));
    }
    const t = await trainer(cfg, 2);
    // An async source works as well as an array.
    async function* source() {
      yield* batches;
    }
    const r = await fit(t, () => source(), {
      epochs: 1,
      onEpoch: (s) => expect([s.runs, s.steps, s.examples]).toEqual([2, 4, 128]),
    });
    expect(r.step).toBe(4);
    const [a, b] = [await params(manual), await params(t)];
    for (const k of Object.keys(a)) expect(Array.from(b[k].data as Float32Array)).toEqual(Array.from(a[k].data as Float32Array));
  });

  it('stops at the next step on abort, saying in which epoch; checkpoints every N epochs and after the last', async () => {
    const batches = split(synthBinary(64, D, 2), 16);
    const t = await trainer(plain);
    const ctl = new AbortController();
    const r = await fit(t, batches, {
      epochs: 3,
      signal: ctl.signal,
      onStep: (m) => {
        if (m.step === 6) ctl.abort();
      },
    });
    expect(r).toEqual({ aborted: true, epoch: 2, step: 6 });
    expect(t.epoch).toBe(1);
    // Aborted during an epoch's last step: the epoch finishes (and checkpoints), then fit stops.
    const t2 = await trainer(plain);
    const ctl2 = new AbortController();
    const saved: number[] = [];
    const r2 = await fit(t2, batches, {
      epochs: 5,
      signal: ctl2.signal,
      checkpointEvery: 2,
      onStep: (m) => {
        if (m.step === 16) ctl2.abort();
      },
      onCheckpoint: (s) => void saved.push(s.epoch),
    });
    expect(r2).toEqual({ aborted: true, epoch: 4, step: 16 });
    expect(saved).toEqual([2, 4]);
    const saved3: number[] = [];
    await fit(await trainer(plain), batches, { epochs: 3, checkpointEvery: 2, onCheckpoint: (s) => void saved3.push(s.epoch) });
    expect(saved3).toEqual([2, 3]);
    await expect(fit(t, batches, { epochs: 1, checkpointEvery: 0 })).rejects.toThrow(/checkpointEvery must be a positive integer, got 0/);
  });

  it('a diverged step throws TrainingDivergedError with its epoch, parameters as before the step', async () => {
    const batches = split(synthBinary(32, D, 3), 16);
    const t = await trainer(plain);
    await fit(t, batches, { epochs: 1 });
    const bad = new Float32Array(16 * D).fill(Number.NaN);
    const e = await fit(t, [batches[0], { x: bad }], { epochs: 1 }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(TrainingDivergedError);
    expect((e as TrainingDivergedError).epoch).toBe(2);
    expect(t.step).toBe(3);
    expect(t.epoch).toBe(1);
    // The parameters are those after the 3 good steps, as a trainer that never saw the bad batch has them.
    const ref = await trainer(plain);
    for (const b of [...batches, batches[0]]) await ref.trainStep(b.x, 16);
    const [a, b] = [await params(ref), await params(t)];
    for (const k of Object.keys(a)) expect(Array.from(b[k].data as Float32Array)).toEqual(Array.from(a[k].data as Float32Array));
  });
});

/**
 * fit: the epoch loop over a Trainer, the same in Node and in a browser tab. It groups a fused bundle's K batches
 * into one train_step run (the ONNX Loop graph takes K × batch × D), joins their labels, averages the steps' terms
 * per epoch, stops at the next step when a signal aborts, and marks a diverged step with its epoch. The host
 * supplies the batches and does the rest through callbacks: progress, evaluation, checkpoints, pictures.
 *
 * @example
 * const trainer = new Trainer(rt.ort, await rt.createSession(b.files['train_step.onnx'], 'train_step.onnx'), b.manifest, b.state, { lr: 1e-3 });
 * const r = await fit(trainer, (epoch) => myBatches(epoch), {
 *   epochs: 5,
 *   onStep: (m) => console.log(m.step, m.loss),
 *   onEpoch: (e) => console.log(`epoch ${e.epoch}: ELBO ${e.elbo.toFixed(2)}`),
 * });
 */
import { type StepMetrics, type Trainer, TrainingDivergedError } from './trainer.js';

/** One batch of examples: x holds size × D values (row-major); y the integer labels of a conditional model. */
export interface FitBatch {
  x: Float32Array | Float64Array;
  y?: ArrayLike<number>;
  /** Examples in the batch (default: x.length / D). */
  size?: number;
  /** The examples' indices in the training set: per-datapoint models train the q table's rows of these examples. */
  indices?: ArrayLike<number>;
}

/**
 * Where an epoch's batches come from: an iterable read once per epoch (an array, or an object whose iterator starts
 * over), or a function of the epoch's 0-based index (the epochs completed before it) returning one, e.g. to shuffle
 * with a per-epoch seed.
 */
export type BatchSource =
  | Iterable<FitBatch>
  | AsyncIterable<FitBatch>
  | ((epochIndex: number) => Iterable<FitBatch> | AsyncIterable<FitBatch>);

/** One finished epoch: the means of the per-step terms (nats per example) and what ran. */
export interface EpochSummary {
  /** The epoch's 1-based number (the trainer's completed epochs once it is recorded). */
  epoch: number;
  loss: number;
  elbo: number;
  rec: number;
  kl: number;
  /** train_step runs (each runs the bundle's fused steps). */
  runs: number;
  /** Optimizer steps: runs × fused steps. */
  steps: number;
  examples: number;
  /** The trainer's step count after the epoch. */
  step: number;
  /** Whether this is the last epoch fit will run. */
  last: boolean;
}

export interface FitOptions {
  /** Epochs to run from the trainer's current one (0: none). */
  epochs: number;
  /** Stops at the next step (the result says where); the last epoch's checkpoint stays the last one. */
  signal?: AbortSignal;
  /** Call onCheckpoint every this many epochs (by epoch number) and after the last; default 1. */
  checkpointEvery?: number;
  /** Before an epoch's first batch is read. */
  onEpochStart?: (epoch: number) => void | Promise<void>;
  /** After each train_step run (one step, or K fused ones). */
  onStep?: (m: StepMetrics, epoch: number) => void | Promise<void>;
  /** After an epoch's steps, before it is recorded in the trainer (e.g. evaluate, log, keep metrics). */
  onEpoch?: (e: EpochSummary) => void | Promise<void>;
  /** After an epoch is recorded, when a checkpoint is due: take `trainer.snapshot()` and save it. */
  onCheckpoint?: (e: EpochSummary) => void | Promise<void>;
}

export interface FitResult {
  /** True when `signal` stopped the loop before it ran every epoch. */
  aborted: boolean;
  /** The epoch (1-based) it stopped in when aborted, else the last one completed. */
  epoch: number;
  /** The trainer's step count at the end. */
  step: number;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

/** The parts joined into one array of the first part's type. */
export function concatArrays<T extends Float32Array | Float64Array | Int32Array>(parts: T[]): T {
  const out = new (parts[0].constructor as new (n: number) => T)(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Joins the label arrays of fused batches (undefined if any batch has none). */
export function concatLabels(parts: (ArrayLike<number> | undefined)[]): Int32Array | undefined {
  if (parts.some((p) => p === undefined)) return undefined;
  return concatArrays(parts.map((p) => (p instanceof Int32Array ? p : Int32Array.from(p as ArrayLike<number>))));
}

async function* each(it: Iterable<FitBatch> | AsyncIterable<FitBatch>): AsyncGenerator<FitBatch> {
  yield* it;
}

/**
 * Trains for `opts.epochs` epochs over `source`. With a fused bundle (manifest.fusedSteps K > 1) every K batches
 * make one run; batches left over at an epoch's end (fewer than K) are not used. A step whose loss is not finite
 * throws the Trainer's TrainingDivergedError with `epoch` set; the parameters are those before that step.
 */
export async function fit(trainer: Trainer, source: BatchSource, opts: FitOptions): Promise<FitResult> {
  const cfg = trainer.manifest.config;
  const fused = trainer.manifest.fusedSteps;
  const d = cfg.inputShape.reduce((a, b) => a * b, 1);
  const every = opts.checkpointEvery ?? 1;
  if (!Number.isInteger(opts.epochs) || opts.epochs < 0) throw new Error(`fit: epochs must be a non-negative integer, got ${opts.epochs}`);
  if (!Number.isInteger(every) || every < 1) throw new Error(`fit: checkpointEvery must be a positive integer, got ${every}`);
  const first = trainer.epoch;
  for (let i = 0; i < opts.epochs; i++) {
    const index = first + i;
    const epoch = index + 1;
    await opts.onEpochStart?.(epoch);
    const losses: number[] = [];
    const elbos: number[] = [];
    const recs: number[] = [];
    const kls: number[] = [];
    let examples = 0;
    let pending: FitBatch[] = [];
    for await (const b of each(typeof source === 'function' ? source(index) : source)) {
      pending.push(b);
      if (pending.length < fused) continue;
      const group = pending;
      pending = [];
      const x = fused === 1 ? group[0].x : concatArrays(group.map((g) => g.x));
      // Labels (conditional models only; the train step of a plain model takes none).
      const y = cfg.conditional ? concatLabels(group.map((g) => g.y)) : undefined;
      const last = group[group.length - 1];
      const size = last.size ?? last.x.length / d;
      if (opts.signal?.aborted) return { aborted: true, epoch, step: trainer.step };
      let m: StepMetrics;
      try {
        m = await trainer.trainStep(x, size, y, fused === 1 ? group[0].indices : undefined);
      } catch (e) {
        if (e instanceof TrainingDivergedError) e.epoch ??= epoch;
        throw e;
      }
      losses.push(m.loss);
      elbos.push(m.elbo);
      recs.push(m.rec);
      kls.push(m.kl);
      examples += m.examples;
      await opts.onStep?.(m, epoch);
    }
    const last = i === opts.epochs - 1;
    const summary: EpochSummary = {
      epoch,
      loss: mean(losses),
      elbo: mean(elbos),
      rec: mean(recs),
      kl: mean(kls),
      runs: elbos.length,
      steps: elbos.length * fused,
      examples,
      step: trainer.step,
      last,
    };
    await opts.onEpoch?.(summary);
    trainer.setEpoch(epoch);
    if (last || epoch % every === 0) await opts.onCheckpoint?.(summary);
    if (opts.signal?.aborted && !last) return { aborted: true, epoch, step: trainer.step };
  }
  return { aborted: false, epoch: trainer.epoch, step: trainer.step };
}

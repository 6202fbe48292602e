/** The training job behind `onnxvae train`: data, sessions, the loop, checkpoints, metrics and pictures. */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Bundle,
  createBundle,
  Evaluator,
  initialState,
  type ModelState,
  Prng,
  REFERENCE_VAE,
  resolveConfig,
  Trainer,
  TrainingDivergedError,
  type VaeConfig,
} from '@onnxvae/core';
import {
  assertCreatableDir,
  clearRunOutputs,
  ensureWritableDir,
  latestValidCheckpoint,
  listCheckpoints,
  writeBundle,
  writeCheckpoint,
} from './bundle-io.js';
import { bundleSampler, checkLabels, checkpointParams, concatLabels, gridLabels } from './conditional.js';
import { batches } from './data/batches.js';
import type { Dataset } from './data/dataset.js';
import { type DataSpec, loadData } from './data/source.js';
import { Progress, type ProgressStream } from './report/progress.js';
import { type EpochMetrics, writeImageGrid, writeLossCurve, writeReport } from './report/report.js';
import { createNodeRuntime, type ProviderChoice } from './session.js';

export interface TrainOptions extends DataSpec {
  epochs: number;
  /** Examples per step; default 128. On resume the checkpoint's (a different value is an error). */
  batch?: number;
  /** Learning rate; default 1e-3. On resume the checkpoint's unless given (a new one is allowed, e.g. lower after a divergence). */
  lr?: number;
  provider: ProviderChoice;
  threads?: number;
  /** Seed of the initial weights, the shuffles, the noise and a user file's test split; default 0. On resume the checkpoint's. */
  seed?: number;
  out: string;
  /** Partial model config (JSON file contents), merged over the reference model. */
  config?: Partial<VaeConfig>;
  resume?: boolean;
  /** Save a checkpoint every this many epochs (and at the end). */
  saveEvery?: number;
  keepCheckpoints?: number;
  klWarmupEpochs?: number;
  beta?: number;
  fusedSteps?: number;
  /** Where progress and messages go (default stderr). */
  log?: (line: string) => void;
  progressStream?: ProgressStream;
}

export interface TrainResult {
  metrics: EpochMetrics[];
  provider: string;
  outDir: string;
  steps: number;
}

export class TrainingError extends Error {
  override name = 'TrainingError';
}

const CLIP_HINT = ' (or clip gradients: {"optimizer": {"clipNorm": 5}} in --config)';

export const DEFAULT_BATCH = 128;
export const DEFAULT_LR = 1e-3;
export const DEFAULT_SEED = 0;

/** The model's input shape for this data: flat for an MLP, [C, H, W] for a conv model. */
export function inputShapeFor(arch: VaeConfig['arch'], dims: number[]): number[] {
  if (arch === 'mlp') return [dims.reduce((a, b) => a * b, 1)];
  if (dims.length === 2) return [1, ...dims];
  if (dims.length === 3) return dims;
  throw new TrainingError(`a conv model needs image data of shape [H, W] or [C, H, W] per example, got [${dims}]`);
}

function meanOf(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

function positiveInt(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new TrainingError(`--${name} must be a positive integer, got ${v}`);
}

/** Checkpoint bookkeeping shown in messages: the newest good checkpoint of this run (or the one it resumed from). */
interface GoodCheckpoint {
  dir: string;
  epoch: number;
}

/**
 * Trains a VAE and writes the bundle, metrics, pictures and report into `opts.out`.
 *
 * Everything that can be checked up front (options, data, model config, provider, the checkpoint to resume) is checked
 * before the folder is touched, so bad input leaves it as it was. A fresh run then clears the previous run's outputs;
 * manifest.json is the last file written, so a folder with a manifest holds a finished run.
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  positiveInt('epochs', opts.epochs);
  positiveInt('batch', opts.batch);
  if (opts.seed !== undefined && (!Number.isSafeInteger(opts.seed) || opts.seed < 0))
    throw new TrainingError(`--seed must be a non-negative integer, got ${opts.seed}`);
  if (opts.lr !== undefined && (!(opts.lr > 0) || !Number.isFinite(opts.lr)))
    throw new TrainingError(`--lr must be a positive number, got ${opts.lr}`);
  assertCreatableDir(opts.out);

  let resumed: Awaited<ReturnType<typeof latestValidCheckpoint>>;
  if (opts.resume) {
    resumed = await latestValidCheckpoint(opts.out, (why) => log(`skipped a corrupt checkpoint: ${why}`));
    if (!resumed) {
      const n = listCheckpoints(opts.out).length;
      throw new TrainingError(
        `--resume: ${n ? `none of the ${n} checkpoints` : 'no checkpoint'} in ${join(opts.out, 'checkpoints')} ${n ? 'is valid (reasons above)' : 'exists'}; train without --resume to start over`,
      );
    }
  }
  const saved = resumed?.bundle.manifest.training;
  const pick = (name: string, given: number | undefined, ck: number | undefined, def: number): number => {
    if (given !== undefined && ck !== undefined && given !== ck && name !== 'lr')
      throw new TrainingError(`--resume: the checkpoint was trained with --${name} ${ck}; resume with the same value (or leave it out)`);
    return given ?? ck ?? def;
  };
  const seed = pick('seed', opts.seed, saved?.seed, DEFAULT_SEED);
  const batch = pick('batch', opts.batch, saved?.batchSize, DEFAULT_BATCH);
  const lr = pick('lr', opts.lr, saved?.lr, DEFAULT_LR);
  if (saved?.lr !== undefined && lr !== saved.lr) log(`learning rate: ${lr} (the checkpoint was trained with ${saved.lr})`);

  // A Bernoulli likelihood, log p(x|z) = x·log p + (1−x)·log(1−p), is unbounded for x ∉ [0, 1]: reject such data.
  const bernoulli = (opts.config?.likelihood?.type ?? REFERENCE_VAE.likelihood.type) === 'bernoulli';
  const { train: trainSet, test: testSet } = loadData({ ...opts, seed, requireUnitInterval: bernoulli });
  const arch = opts.config?.arch ?? 'mlp';
  const inputShape = inputShapeFor(arch, trainSet.dims);
  if (opts.config?.inputShape && JSON.stringify(opts.config.inputShape) !== JSON.stringify(inputShape)) {
    throw new TrainingError(
      `model config: inputShape [${opts.config.inputShape}] does not match the data's [${inputShape}] (leave it out: it follows the data)`,
    );
  }
  const cfg = resolveConfig({ ...opts.config, inputShape });
  checkLabels(cfg, trainSet, 'training data');
  checkLabels(cfg, testSet, 'test data');
  const dataInfo = {
    source: opts.data,
    ...(opts.testData === undefined ? {} : { testSource: opts.testData }),
    ...(opts.limit === undefined ? {} : { limit: opts.limit }),
    binarize: opts.binarize ?? true,
    examples: trainSet.n,
  };
  if (saved?.data) {
    for (const k of ['source', 'testSource', 'limit', 'binarize', 'examples'] as const) {
      if (saved.data[k] !== dataInfo[k]) {
        const flag = { source: '--data', testSource: '--test-data', limit: '--limit', binarize: '--grayscale', examples: '--data' }[k];
        throw new TrainingError(
          `--resume: the checkpoint was trained on other data (${k}: ${JSON.stringify(saved.data[k])}, now ${JSON.stringify(dataInfo[k])}); resume with the same ${flag}`,
        );
      }
    }
  }
  if (resumed && JSON.stringify(resumed.bundle.manifest.config) !== JSON.stringify(cfg)) {
    throw new TrainingError(
      `--resume: the checkpoint in ${resumed.dir} was trained with a different model config; use the same --config and data`,
    );
  }
  const runtime = await createNodeRuntime({ provider: opts.provider, threads: opts.threads });
  log(`provider: ${runtime.provider} (${runtime.notes.join('; ')})`);

  let state: ModelState;
  if (resumed) {
    state = resumed.bundle.state;
  } else {
    state = initialState(cfg, seed);
    state.training.batchSize = batch;
  }
  state.training.lr = lr;
  state.training.data = dataInfo;
  const fused = opts.fusedSteps ?? 1;
  const graphs = await createBundle(cfg, state, { fusedSteps: fused });
  const trainSession = await runtime.createSession(graphs.files['train_step.onnx'], 'train_step.onnx');
  const evalSession = await runtime.createSession(graphs.files['eval.onnx'], 'eval.onnx');

  // Everything checked: from here on the folder changes.
  ensureWritableDir(opts.out);
  const metricsPath = join(opts.out, 'metrics.jsonl');
  let lastGood: GoodCheckpoint | undefined;
  if (resumed) {
    lastGood = { dir: resumed.dir, epoch: state.training.epoch };
    log(`resuming from ${resumed.dir} (epoch ${state.training.epoch}, step ${state.training.step})`);
    // metrics.jsonl keeps only the epochs the checkpoint has, so the file matches an uninterrupted run.
    writeFileSync(metricsPath, state.metrics.map((m) => `${JSON.stringify(m)}\n`).join(''));
  } else {
    if (clearRunOutputs(opts.out)) log(`replacing the previous run in ${opts.out}`);
    writeFileSync(metricsPath, '');
  }

  const stepsPerEpoch = Math.floor(trainSet.n / batch) || 1;
  const trainer = new Trainer(runtime.ort, trainSession, graphs.manifest, state, {
    lr,
    beta: opts.beta ?? 1,
    klWarmupSteps: (opts.klWarmupEpochs ?? 0) * stepsPerEpoch,
  });
  const metrics: EpochMetrics[] = [...(state.metrics as unknown as EpochMetrics[])];
  const stepLosses: number[] = [];
  const snapshotBundle = async (): Promise<Bundle> => {
    const snap = await trainer.snapshot();
    snap.metrics = metrics as unknown as Record<string, number>[];
    return createBundle(cfg, snap, { fusedSteps: fused });
  };
  const diverged = (epoch: number, why: string): TrainingError =>
    new TrainingError(
      `training stopped in epoch ${epoch + 1}: ${why}. ` +
        (lastGood
          ? `The last good checkpoint (epoch ${lastGood.epoch}) is kept in ${lastGood.dir}; continue from it with --resume and a lower --lr${CLIP_HINT}`
          : `No checkpoint was saved yet (the first epoch did not finish), so nothing was kept; train again with a lower --lr${CLIP_HINT}`),
    );
  if (state.training.epoch >= opts.epochs)
    log(`the checkpoint has ${state.training.epoch} epochs already (--epochs ${opts.epochs}): no training`);

  for (let epoch = state.training.epoch; epoch < opts.epochs; epoch++) {
    const t0 = performance.now();
    const progress = new Progress(stepsPerEpoch * batch, { label: `epoch ${epoch + 1}/${opts.epochs}`, stream: opts.progressStream });
    const elbos: number[] = [];
    const recs: number[] = [];
    const kls: number[] = [];
    let pending: Float32Array[] = [];
    let pendingY: (Int32Array | undefined)[] = [];
    // dropLast keeps every step's batch the same size, so steps (and fused groups) line up across resumes.
    for (const b of batches(trainSet, batch, { shuffle: true, seed, epoch, dropLast: trainSet.n >= batch })) {
      pending.push(b.x);
      pendingY.push(b.y);
      if (pending.length < fused) continue;
      const x = fused === 1 ? pending[0] : concat(pending);
      // Labels (conditional models only; the train step of a plain model takes none).
      const y = cfg.conditional ? concatLabels(pendingY) : undefined;
      pending = [];
      pendingY = [];
      let m: Awaited<ReturnType<Trainer['trainStep']>>;
      try {
        m = await trainer.trainStep(x, b.size, y);
      } catch (e) {
        if (e instanceof TrainingDivergedError) {
          progress.done();
          throw diverged(epoch, e.message);
        }
        throw e;
      }
      stepLosses.push(m.loss);
      elbos.push(m.elbo);
      recs.push(m.rec);
      kls.push(m.kl);
      progress.tick(m.examples, { loss: m.loss });
    }
    progress.done();
    const seconds = (performance.now() - t0) / 1000;
    const ev = new Evaluator(runtime.ort, evalSession, graphs.manifest, trainer.parameterTensors);
    // A fixed seed for the test ELBO's noise, so epochs (and resumed runs) are compared on the same draws.
    const testRes = await ev.evaluate(testSet.x, testSet.n, { k: 1, batch: 500, seed: 12345, y: testSet.labels });
    if (!Number.isFinite(testRes.elbo)) throw diverged(epoch, `the test ELBO is ${testRes.elbo} though the training loss was finite`);
    const em: EpochMetrics = {
      epoch: epoch + 1,
      train_elbo: meanOf(elbos),
      test_elbo: testRes.elbo,
      train_rec: meanOf(recs),
      train_kl: meanOf(kls),
      seconds,
      samples_per_s: (elbos.length * fused * batch) / seconds,
    };
    metrics.push(em);
    appendFileSync(metricsPath, `${JSON.stringify(em)}\n`);
    log(
      `epoch ${em.epoch}: train ELBO ${em.train_elbo.toFixed(2)}, test ELBO ${em.test_elbo.toFixed(2)} nats, ${em.samples_per_s?.toFixed(0)} samples/s`,
    );
    trainer.setEpoch(epoch + 1);
    const last = epoch + 1 === opts.epochs;
    if (last || (epoch + 1) % (opts.saveEvery ?? 1) === 0) {
      lastGood = { dir: writeCheckpoint(opts.out, await snapshotBundle(), opts.keepCheckpoints ?? 3), epoch: epoch + 1 };
    }
  }

  const finalBundle = await snapshotBundle();
  // Pictures and report first, manifest.json (inside writeBundle) last: a folder with a manifest is a finished run.
  await writePictures(opts.out, finalBundle, runtime, testSet, seed);
  writeLossCurve(join(opts.out, 'loss-curve.png'), metrics, stepLosses);
  writeReport(opts.out, { title: `onnxvae: ${trainSet.name}`, config: cfg, metrics, provider: runtime.provider, notes: runtime.notes });
  writeBundle(opts.out, finalBundle);
  return { metrics, provider: runtime.provider, outDir: opts.out, steps: trainer.step };
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Image height and width of an example, for pictures (flat data of a square size is shown as a square). */
export function imageDims(cfg: VaeConfig): [number, number] | undefined {
  if (cfg.inputShape.length === 3) return [cfg.inputShape[1], cfg.inputShape[2]];
  const side = Math.round(Math.sqrt(cfg.inputShape[0]));
  return side * side === cfg.inputShape[0] ? [side, side] : undefined;
}

async function writePictures(
  dir: string,
  b: Bundle,
  runtime: Awaited<ReturnType<typeof createNodeRuntime>>,
  test: Dataset,
  seed: number,
): Promise<void> {
  const cfg = b.manifest.config;
  const hw = imageDims(cfg);
  if (!hw) return;
  const sampler = await bundleSampler(runtime.ort, runtime.createSession, b, checkpointParams(b.files['checkpoint.safetensors']));
  // A conditional model draws one class per column.
  const grid = gridLabels(cfg, cfg.conditional ? 8 * cfg.conditional.classes : 64);
  const count = grid.labels?.length ?? 64;
  const s = await sampler.sample(count, { prng: new Prng(seed + 1), label: grid.labels });
  writeImageGrid(join(dir, 'samples.png'), s.x, count, hw[0], hw[1], grid.cols ?? 8);
  const n = Math.min(16, test.n);
  const D = cfg.inputShape.reduce((a, c) => a * c, 1);
  const x = test.x.slice(0, n * D);
  const r = await sampler.reconstruct(x, n, test.labels?.subarray(0, n));
  const both = new Float32Array(2 * n * D);
  both.set(x, 0);
  both.set(r, n * D);
  writeImageGrid(join(dir, 'reconstructions.png'), both, 2 * n, hw[0], hw[1], 8);
}

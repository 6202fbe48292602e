/** The training job behind `onnxvae train`: data, sessions, the loop, checkpoints, metrics and pictures. */
import { appendFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  type Bundle,
  createBundle,
  Evaluator,
  fit,
  initialState,
  type ModelState,
  openSampler,
  Prng,
  REFERENCE_VAE,
  resolveConfig,
  Trainer,
  TrainingDivergedError,
  type VaeConfig,
} from '@onnxvae/core';
import {
  assertCreatableDir,
  ensureWritableDir,
  latestValidCheckpoint,
  listCheckpoints,
  retirePreviousRun,
  setAsidePreviousRun,
  sweepRunFolder,
  writeBundle,
  writeCheckpoint,
} from './bundle-io.js';
import { completionGrid } from './completions.js';
import { checkLabels, gridLabels } from './conditional.js';
import { batches } from './data/batches.js';
import { toBinarization } from './data/binarize.js';
import type { Dataset } from './data/dataset.js';
import { asTrained, type DataSpec, defaultBinarization, loadData } from './data/source.js';
import { imageShape, imageShapeOfDims } from './report/image-shape.js';
import { Progress, type ProgressStream } from './report/progress.js';
import { writeImageGrid, writeLossCurve, writeReport } from './report/report.js';
import {
  EPOCH_PICTURE,
  type EpochMetrics,
  epochPicture,
  PICTURE_KINDS,
  pictureEpochs,
  type RunInfo,
  type RunProgress,
  type RunStatus,
  type RunView,
  readSteps,
  type StepRecord,
  stepColumns,
} from './report/run-view.js';
import { acquireRunLock, assertRunUnlocked } from './run-lock.js';
import { createNodeRuntime, type NodeRuntime, type ProviderChoice } from './session.js';

export interface TrainOptions extends Omit<DataSpec, 'data'> {
  /** 'mnist', 'mnist-full', a file or an image folder; default: on resume the checkpoint's, else 'mnist'. */
  data?: string;
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
  /**
   * After the last epoch, estimate log p(x) on the test set by IWAE with this many importance samples, recorded in
   * the last epoch's metrics (test_iwae, iwae_k) and the report; 0 or undefined: none.
   */
  evalK?: number;
  /** Where progress and messages go (default stderr). */
  log?: (line: string) => void;
  progressStream?: ProgressStream;
  /**
   * Stops training at the next step (e.g. on Ctrl-C, see stopOnSignals): the run keeps its last checkpoint and
   * train() rejects with a TrainingInterruptedError that says what was kept and how to continue.
   */
  signal?: AbortSignal;
  /** The command line that started the run (`['train', '--data', …]`), to print the one that resumes it. */
  commandLine?: string[];
  /** Told what happens as the run goes (the live dashboard of `train --ui` listens here). */
  events?: TrainEvents;
}

/** What a training run reports as it goes; each is optional, and none may throw (a listener's error is logged). */
export interface TrainEvents {
  /** The run's facts and history (a resumed run's epochs and steps so far), once its folder is ready. */
  start?(view: RunView): void;
  /** After each train_step run (K fused steps are one record). */
  step?(s: StepRecord, progress: RunProgress): void;
  /** After each epoch, its pictures written (samples/epoch-NNN.png and reconstructions/epoch-NNN.png, if any). */
  epoch?(m: EpochMetrics, pictures: boolean, progress: RunProgress): void;
  /** When the run ends, with the folder's final view (report.html's data). */
  end?(status: RunStatus, view: RunView): void;
}

export interface TrainResult {
  metrics: EpochMetrics[];
  /** The test set the run scored, in words (e.g. 'mnist-full-test: 10000 examples'). */
  testSet: string;
  provider: string;
  outDir: string;
  steps: number;
}

export class TrainingError extends Error {
  override name = 'TrainingError';
}

/** Training was stopped by `signal`; the message says what was kept and gives the command that continues. */
export class TrainingInterruptedError extends TrainingError {
  override name = 'TrainingInterruptedError';
  constructor(
    message: string,
    /** The checkpoint a --resume continues from, if any. */
    readonly checkpoint: { dir: string; epoch: number; step: number } | undefined,
    /** 128 + the signal's number, as shells report a process stopped by it: 130 for SIGINT, 143 for SIGTERM. */
    readonly exitCode: number,
  ) {
    super(message);
  }
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Turns the first SIGINT or SIGTERM into an abort of the returned signal (training stops at the next step and keeps
 * its last checkpoint); a second one exits at once. `dispose` removes the handlers.
 */
export function stopOnSignals(log: (line: string) => void): { signal: AbortSignal; dispose: () => void } {
  const ctl = new AbortController();
  const on = (sig: NodeJS.Signals): void => {
    if (ctl.signal.aborted) {
      log(`${sig} again: quitting now`);
      process.exit(SIGNAL_EXIT[sig] ?? 130);
    }
    log(`${sig}: stopping after the current step (press Ctrl-C again to quit at once)`);
    ctl.abort(sig);
  };
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  for (const s of sigs) process.on(s, on);
  return {
    signal: ctl.signal,
    dispose: () => {
      for (const s of sigs) process.off(s, on);
    },
  };
}

/** A command line as a POSIX shell reads it back: words with anything but safe characters in single quotes. */
export function shellLine(words: string[]): string {
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`)).join(' ');
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

function positiveInt(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new TrainingError(`--${name} must be a positive integer, got ${v}`);
}

/** Checkpoint bookkeeping shown in messages: the newest good checkpoint of this run (or the one it resumed from). */
interface GoodCheckpoint {
  dir: string;
  epoch: number;
  step: number;
}

/**
 * Trains a VAE and writes the bundle, metrics, pictures and report into `opts.out`.
 *
 * Everything that can be checked up front (options, data, model config, provider, the checkpoint to resume, that no
 * other train writes the folder) is checked before the folder is touched, so bad input leaves it as it was. Then the
 * folder's lock is taken (one writer per folder). A fresh run sets the previous run's checkpoints aside and removes
 * its bundle only once it has a checkpoint of its own; from then until its own bundle is written at the end (last,
 * atomically), the folder reads as its newest checkpoint. `signal` stops the run at the next step, keeping the last
 * checkpoint (see TrainingInterruptedError).
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  positiveInt('epochs', opts.epochs);
  positiveInt('batch', opts.batch);
  positiveInt('save-every', opts.saveEvery);
  if (opts.seed !== undefined && (!Number.isSafeInteger(opts.seed) || opts.seed < 0))
    throw new TrainingError(`--seed must be a non-negative integer, got ${opts.seed}`);
  if (opts.lr !== undefined && (!(opts.lr > 0) || !Number.isFinite(opts.lr)))
    throw new TrainingError(`--lr must be a positive number, got ${opts.lr}`);
  assertCreatableDir(opts.out);
  assertRunUnlocked(opts.out); // fail before any work; the lock itself is taken before the folder changes

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

  // The data as the checkpoint saw it: its source, binarization, and an image folder's size and channels, unless given.
  const savedData = saved?.data;
  const source = opts.data ?? savedData?.source ?? 'mnist';
  const binarize = toBinarization(opts.binarize) ?? savedData?.binarize ?? defaultBinarization(source);
  const trained: ReturnType<typeof asTrained> = savedData?.source === source ? asTrained(savedData, source) : { data: source };
  const size = opts.size ?? trained.size;
  const channels = opts.channels ?? trained.channels;
  // A Bernoulli likelihood, log p(x|z) = x·log p + (1−x)·log(1−p), is unbounded for x ∉ [0, 1]: reject such data.
  const bernoulli = (opts.config?.likelihood?.type ?? REFERENCE_VAE.likelihood.type) === 'bernoulli';
  const { train: trainSet, test: testSet } = await loadData({
    ...opts,
    data: source,
    binarize,
    size,
    channels,
    seed,
    requireUnitInterval: bernoulli,
    log,
  });
  const colour = imageShapeOfDims(trainSet.dims)?.channels === 3;
  let config = opts.config;
  if (colour && config?.likelihood === undefined) {
    // Colour pixels are intensities, not coin flips: a Gaussian with a learned variance per feature (docs/variational-bound.md).
    config = { ...config, likelihood: { type: 'gaussian', variance: 'feature' } };
    log('colour images: Gaussian likelihood with a learned variance per feature (set "likelihood" in --config to choose another)');
  }
  const arch = opts.config?.arch ?? 'mlp';
  const inputShape = inputShapeFor(arch, trainSet.dims);
  if (opts.config?.inputShape && JSON.stringify(opts.config.inputShape) !== JSON.stringify(inputShape)) {
    throw new TrainingError(
      `model config: inputShape [${opts.config.inputShape}] does not match the data's [${inputShape}] (leave it out: it follows the data)`,
    );
  }
  // Per-datapoint inference: one row of the q table per training example (models/per-datapoint-training.ts).
  const perDatapoint = config?.inference === 'per-datapoint';
  if (perDatapoint && config?.examples !== undefined && config.examples !== trainSet.n) {
    throw new TrainingError(
      `model config: examples ${config.examples} does not match the ${trainSet.n} training examples (leave it out: it follows the data)`,
    );
  }
  if (perDatapoint && (opts.fusedSteps ?? 1) !== 1)
    throw new TrainingError('--fused: per-datapoint inference runs one step per train_step (the q table rows are gathered per step)');
  const cfg = resolveConfig({ ...config, inputShape, ...(perDatapoint ? { examples: trainSet.n } : {}) });
  checkLabels(cfg, trainSet, 'training data');
  checkLabels(cfg, testSet, 'test data');
  const dataInfo = {
    source,
    ...(opts.testData === undefined ? {} : { testSource: opts.testData }),
    ...(opts.limit === undefined ? {} : { limit: opts.limit }),
    binarize,
    examples: trainSet.n,
    shape: trainSet.dims,
  };
  if (savedData) {
    for (const k of ['source', 'testSource', 'limit', 'binarize', 'examples', 'shape'] as const) {
      if (k === 'shape' && savedData.shape === undefined) continue; // checkpoints from before shapes were recorded
      if (JSON.stringify(savedData[k]) !== JSON.stringify(dataInfo[k])) {
        const flag = {
          source: '--data',
          testSource: '--test-data',
          limit: '--limit',
          binarize: '--binarize',
          examples: '--data',
          shape: '--size and --channels',
        }[k];
        throw new TrainingError(
          `--resume: the checkpoint was trained on other data (${k}: ${JSON.stringify(savedData[k])}, now ${JSON.stringify(dataInfo[k])}); resume with the same ${flag}`,
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
  log(
    `data: ${trainSet.n} training examples of ${trainSet.name}, ${testSet.n} test examples of ${testSet.name}, shape [${trainSet.dims}]` +
      `${trainSet.classes ? `, ${trainSet.classes.length} classes (${trainSet.classes.slice(0, 10).join(', ')}${trainSet.classes.length > 10 ? ', …' : ''})` : ''}; binarization: ${binarize}`,
  );

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
  if (perDatapoint) {
    log(
      `per-datapoint inference: q_i = N(μ_i, σ_i²) for each of the ${cfg.examples} training examples, a ${cfg.examples} × ${cfg.latent} table ` +
        `trained with the decoder (Adam, lr ${cfg.refineLr}); no encoder. A new x (test ELBO, eval, pictures) is fitted by ${cfg.refineSteps} Adam steps.`,
    );
  } else if (cfg.inference === 'semi-amortized') {
    log(
      `semi-amortized inference: the encoder's q refined by ${cfg.refineSteps} Adam steps (lr ${cfg.refineLr}) in every training step ` +
        '(the decoder learns from the refined q, the encoder from its own) and for every new x',
    );
  }
  const trainSession = await runtime.createSession(graphs.files['train_step.onnx'], 'train_step.onnx');
  const evalSession = await runtime.createSession(graphs.files['eval.onnx'], 'eval.onnx');

  // Everything checked: from here on the folder changes, by this process only.
  ensureWritableDir(opts.out);
  const lock = acquireRunLock(opts.out, log);
  try {
    return await runLoop(opts, log, {
      cfg,
      state,
      resumed,
      graphs,
      runtime,
      trainSession,
      evalSession,
      trainSet,
      testSet,
      seed,
      batch,
      lr,
      fused,
      dynamic: binarize === 'dynamic',
    });
  } finally {
    lock.release();
  }
}

/** What train() has checked and built before it touches the folder. */
interface Prepared {
  cfg: VaeConfig;
  state: ModelState;
  resumed: Awaited<ReturnType<typeof latestValidCheckpoint>>;
  graphs: Bundle;
  runtime: NodeRuntime;
  trainSession: Awaited<ReturnType<NodeRuntime['createSession']>>;
  evalSession: Awaited<ReturnType<NodeRuntime['createSession']>>;
  trainSet: Dataset;
  testSet: Dataset;
  seed: number;
  batch: number;
  lr: number;
  fused: number;
  /** Draw the training pixels afresh each epoch (dynamic binarization). */
  dynamic: boolean;
}

/** The seed of the test bounds' noise, fixed so epochs (and resumed runs) are compared on the same draws. */
const TEST_NOISE_SEED = 12345;

/** The part of train() that writes the folder, under its lock. */
async function runLoop(opts: TrainOptions, log: (line: string) => void, p: Prepared): Promise<TrainResult> {
  const { cfg, state, resumed, graphs, runtime, trainSession, evalSession, trainSet, testSet, seed, batch, lr, fused, dynamic } = p;
  const swept = sweepRunFolder(opts.out, { all: true });
  if (swept.length) log(`removed ${swept.length} temporary file(s) left by killed runs: ${swept.join(', ')}`);
  const started = new Date();
  const t00 = performance.now();
  const metricsPath = join(opts.out, 'metrics.jsonl');
  const stepsPath = join(opts.out, 'steps.jsonl');
  let lastGood: GoodCheckpoint | undefined;
  /** Every step record of the run (a resumed run's from steps.jsonl, up to its checkpoint), for the curves. */
  const stepHistory: StepRecord[] = resumed ? readSteps(opts.out).filter((r) => r.step <= state.training.step) : [];
  if (resumed) {
    lastGood = { dir: resumed.dir, epoch: state.training.epoch, step: state.training.step };
    log(`resuming from ${resumed.dir} (epoch ${state.training.epoch}, step ${state.training.step})`);
    // A fresh run stopped after its first checkpoint: the run it replaces can go now (it may have gone already).
    retirePreviousRun(opts.out);
    // metrics.jsonl keeps only the epochs the checkpoint has, so the file matches an uninterrupted run.
    writeFileSync(metricsPath, state.metrics.map((m) => `${JSON.stringify(m)}\n`).join(''));
    // So do steps.jsonl and the per-epoch pictures: those of steps and epochs after the checkpoint are dropped.
    writeFileSync(stepsPath, stepHistory.map((r) => `${JSON.stringify(r)}\n`).join(''));
    for (const kind of PICTURE_KINDS) {
      for (const e of pictureEpochs(opts.out, kind))
        if (e > state.training.epoch) rmSync(join(opts.out, epochPicture(kind, e)), { force: true });
    }
  } else {
    if (setAsidePreviousRun(opts.out))
      log(`replacing the previous run in ${opts.out} (its bundle stays until this run saves its first checkpoint)`);
    writeFileSync(metricsPath, '');
    writeFileSync(stepsPath, '');
    for (const kind of PICTURE_KINDS) clearPictures(join(opts.out, kind));
  }
  const stepsPerEpoch = Math.floor(trainSet.n / batch) || 1;
  // A fused bundle leaves an epoch's last batches unused when they make fewer than K.
  const stepsRun = fused > 1 ? Math.floor(stepsPerEpoch / fused) * fused : stepsPerEpoch;
  const info: RunInfo = {
    title: `onnxvae: ${trainSet.name}`,
    status: 'training',
    provider: runtime.provider,
    notes: runtime.notes,
    data: `${trainSet.n} training examples of ${trainSet.name}, ${testSet.n} test examples of ${testSet.name}`,
    binarize: state.training.data?.binarize ?? 'threshold',
    lr,
    batch,
    seed,
    epochs: opts.epochs,
    stepsPerEpoch: stepsRun,
    ...(opts.commandLine ? { command: shellLine(['onnxvae', ...opts.commandLine]) } : {}),
    started: started.toISOString(),
    config: cfg,
  };
  const writeInfo = (): void => writeFileSync(join(opts.out, 'run.json'), `${JSON.stringify(info, null, 2)}\n`);
  writeInfo();
  const view = (status: RunStatus): RunView => ({
    title: info.title ?? 'onnxvae run',
    status,
    info,
    epochs: metrics,
    steps: stepColumns(stepHistory),
    pictures: { samples: pictureEpochs(opts.out, 'samples'), reconstructions: pictureEpochs(opts.out, 'reconstructions') },
  });
  /** Calls a listener; what it throws is logged, never allowed to stop the run. */
  const tell = <K extends keyof TrainEvents>(k: K, ...args: Parameters<NonNullable<TrainEvents[K]>>): void => {
    try {
      (opts.events?.[k] as ((...a: typeof args) => void) | undefined)?.(...args);
    } catch (e) {
      log(`the ${k} listener failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  let pendingSteps = '';
  let lastFlush = performance.now();
  const flushSteps = (): void => {
    if (pendingSteps) appendFileSync(stepsPath, pendingSteps);
    pendingSteps = '';
    lastFlush = performance.now();
  };
  const totalSteps = opts.epochs * stepsRun;
  const firstStep = state.training.step;
  let epochExamples = 0;
  const progressAt = (epoch: number, step: number): RunProgress => {
    const elapsedS = (performance.now() - t00) / 1000;
    const fitS = (performance.now() - tFit) / 1000;
    const done = step - firstStep;
    const epochS = (performance.now() - t0) / 1000;
    return {
      status: 'training',
      epoch,
      epochs: opts.epochs,
      step,
      totalSteps,
      ...(epochS > 0 && epochExamples > 0 ? { samplesPerS: epochExamples / epochS } : {}),
      ...(done > 0 ? { etaS: Math.max(0, ((totalSteps - step) * fitS) / done) } : {}),
      elapsedS,
    };
  };
  let tFit = performance.now();

  /** The error that ends an interrupted run: what was kept, and the command that continues (`epoch`: 1-based). */
  const stopped = (epoch: number): TrainingInterruptedError => {
    const sig = String(opts.signal?.reason ?? 'SIGINT');
    const words = opts.commandLine;
    const again = (extra: string[]) =>
      words ? shellLine(['onnxvae', ...words, ...extra]) : `the same options${extra.length ? ' and --resume' : ''}`;
    let kept: string;
    if (lastGood) {
      const lost = trainer.step - lastGood.step;
      kept =
        `kept the checkpoint ${lastGood.dir} (epoch ${lastGood.epoch}, step ${lastGood.step})` +
        `${lost > 0 ? `; the ${lost} steps after it are not saved` : ''}.\n` +
        `continue with: ${again(words?.includes('--resume') ? [] : ['--resume'])}`;
    } else {
      kept =
        `nothing was saved (no checkpoint yet)${existsSync(join(opts.out, 'manifest.json')) ? `; the previous run's bundle in ${opts.out} is kept` : ''}.\n` +
        `start again with: ${again([])}`;
    }
    return new TrainingInterruptedError(
      `training interrupted (${sig}) in epoch ${epoch} at step ${trainer.step}; ${kept}`,
      lastGood,
      SIGNAL_EXIT[sig] ?? 130,
    );
  };

  const trainer = new Trainer(runtime.ort, trainSession, graphs.manifest, state, {
    lr,
    beta: opts.beta ?? 1,
    klWarmupSteps: (opts.klWarmupEpochs ?? 0) * stepsPerEpoch,
  });
  const metrics: EpochMetrics[] = [...(state.metrics as unknown as EpochMetrics[])];
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

  let progress: Progress | undefined;
  let t0 = 0;
  const ev = () => new Evaluator(runtime.ort, evalSession, graphs.manifest, trainer.parameterTensors);
  /** log p(x) ≈ IWAE with k importance samples on the whole test set, with a progress bar and an ETA. */
  const testIwae = async (k: number): Promise<number> => {
    const bar = new Progress(testSet.n, { label: `test IWAE K=${k}`, stream: opts.progressStream, unit: 'examples' });
    let done = 0;
    const res = await ev().evaluate(testSet.x, testSet.n, {
      k,
      seed: TEST_NOISE_SEED,
      y: testSet.labels,
      onProgress: (d) => {
        bar.tick(d - done);
        done = d;
      },
    });
    bar.done();
    return res.iwae;
  };
  let r: Awaited<ReturnType<typeof fit>>;
  tell('start', view('training'));
  /** How the run ended, for run.json and the dashboard, when it ends by an error. */
  const ended = (status: RunStatus): void => {
    flushSteps();
    info.status = status;
    info.runSeconds = (performance.now() - t00) / 1000;
    writeInfo();
    tell('end', status, view(status));
  };
  tFit = performance.now();
  try {
    // core's loop: fused groups, labels, per-epoch means, Ctrl-C at the next step; here: progress, test ELBO, files.
    // dropLast keeps every step's batch the same size, so steps (and fused groups) line up across resumes.
    r = await fit(
      trainer,
      (epoch) => batches(trainSet, batch, { shuffle: true, seed, epoch, dropLast: trainSet.n >= batch, dynamicBinarize: dynamic }),
      {
        epochs: Math.max(0, opts.epochs - state.training.epoch),
        signal: opts.signal,
        checkpointEvery: opts.saveEvery,
        onEpochStart: (epoch) => {
          t0 = performance.now();
          epochExamples = 0;
          progress = new Progress(stepsPerEpoch * batch, { label: `epoch ${epoch}/${opts.epochs}`, stream: opts.progressStream });
        },
        onStep: (m, epoch) => {
          progress?.tick(m.examples, { loss: m.loss });
          epochExamples += m.examples;
          const rec: StepRecord = { step: m.step, epoch, loss: m.loss, elbo: m.elbo };
          stepHistory.push(rec);
          pendingSteps += `${JSON.stringify(rec)}\n`;
          if (performance.now() - lastFlush > 2000) flushSteps();
          tell('step', rec, progressAt(epoch, m.step));
        },
        onEpoch: async (e) => {
          progress?.done();
          const seconds = (performance.now() - t0) / 1000;
          const tTest = performance.now();
          const testRes = await ev().evaluate(testSet.x, testSet.n, { k: 1, batch: 500, seed: TEST_NOISE_SEED, y: testSet.labels });
          const testSeconds = (performance.now() - tTest) / 1000;
          if (!Number.isFinite(testRes.elbo))
            throw diverged(e.epoch - 1, `the test ELBO is ${testRes.elbo} though the training loss was finite`);
          const iwae = e.epoch === opts.epochs && opts.evalK ? await testIwae(opts.evalK) : undefined;
          const em: EpochMetrics = {
            epoch: e.epoch,
            train_elbo: e.elbo,
            test_elbo: testRes.elbo,
            train_rec: e.rec,
            train_kl: e.kl,
            seconds,
            samples_per_s: (e.runs * fused * batch) / seconds,
            test_seconds: testSeconds,
            ...(iwae === undefined ? {} : { test_iwae: iwae, iwae_k: opts.evalK }),
          };
          // Pictures like PyTorch's VAE example: the same z and the same test digits after every epoch.
          const pictures = await writePictures(opts.out, await snapshotBundle(), runtime, testSet, seed, {
            samples: epochPicture('samples', e.epoch),
            reconstructions: epochPicture('reconstructions', e.epoch),
          });
          metrics.push(em);
          flushSteps();
          appendFileSync(metricsPath, `${JSON.stringify(em)}\n`);
          tell('epoch', em, pictures, progressAt(e.epoch, trainer.step));
          log(
            `epoch ${em.epoch}: train ELBO ${em.train_elbo.toFixed(2)}, test ELBO ${em.test_elbo.toFixed(2)} nats` +
              `${iwae === undefined ? '' : `, test log p(x) ≈ ${iwae.toFixed(2)} nats (IWAE, K=${opts.evalK})`}, ${em.samples_per_s?.toFixed(0)} samples/s` +
              (cfg.inference === 'per-datapoint' || cfg.inference === 'semi-amortized'
                ? ` (test q's fitted by ${cfg.refineSteps} steps each: ${testSeconds.toFixed(2)} s for ${testSet.n} examples)`
                : ''),
          );
        },
        onCheckpoint: async (e) => {
          const dir = writeCheckpoint(opts.out, await snapshotBundle(), opts.keepCheckpoints ?? 3);
          lastGood = { dir, epoch: e.epoch, step: trainer.step };
          if (retirePreviousRun(opts.out)) log(`removed the previous run's bundle from ${opts.out}: this run has a checkpoint now`);
        },
      },
    );
  } catch (e) {
    ended('failed');
    if (e instanceof TrainingDivergedError) {
      progress?.done();
      throw diverged((e.epoch ?? state.training.epoch + 1) - 1, e.message);
    }
    throw e;
  }
  if (r.aborted) {
    progress?.done();
    ended('interrupted');
    throw stopped(r.epoch);
  }

  const finalBundle = await snapshotBundle();
  // Pictures and report first, manifest.json (inside writeBundle) last: a folder with a manifest is a finished run.
  try {
    await writePictures(opts.out, finalBundle, runtime, testSet, seed, { samples: 'samples.png', reconstructions: 'reconstructions.png' });
    flushSteps();
    const steps = stepColumns(stepHistory);
    await writeLossCurve(join(opts.out, 'loss-curve.png'), metrics, steps);
    info.status = 'done';
    info.runSeconds = (performance.now() - t00) / 1000;
    writeInfo();
    writeReport(opts.out, view('done'));
    writeBundle(opts.out, finalBundle);
  } catch (e) {
    ended('failed');
    throw e;
  }
  tell('end', 'done', view('done'));
  return { metrics, provider: runtime.provider, outDir: opts.out, steps: trainer.step, testSet: `${testSet.name}: ${testSet.n} examples` };
}

/** Empties a picture folder of its epoch-NNN.png files (a fresh run starts its strip anew). */
function clearPictures(dir: string): void {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) if (EPOCH_PICTURE.test(f)) rmSync(join(dir, f), { force: true });
}

/**
 * Writes 64 samples (a fixed z, drawn from seed + 1) and the first 16 test images over their reconstructions, at
 * the paths given (relative to dir); returns false when the data are not images (nothing written).
 */
async function writePictures(
  dir: string,
  b: Bundle,
  runtime: NodeRuntime,
  test: Dataset,
  seed: number,
  to: { samples: string; reconstructions: string },
): Promise<boolean> {
  const cfg = b.manifest.config;
  const shape = imageShape(b.manifest);
  if (!shape) return false;
  for (const f of [to.samples, to.reconstructions]) mkdirSync(dirname(join(dir, f)), { recursive: true });
  const hw = [shape.height, shape.width];
  const sampler = await openSampler(runtime, b);
  try {
    if (cfg.structured) {
      // A structured-output model completes test images: 8 rows of [given part | 6 completions | original], and the
      // first 16 test images over one completion each.
      const D = cfg.inputShape.reduce((a, c) => a * c, 1);
      const n8 = Math.min(8, test.n);
      const grid = await completionGrid(sampler, cfg, test.x.slice(0, n8 * D), n8, { samples: 6, seed: seed + 1 });
      writeImageGrid(join(dir, to.samples), grid.images, grid.rows * grid.cols, hw[0], hw[1], grid.cols, 2, shape.channels);
      const n = Math.min(16, test.n);
      const x = test.x.slice(0, n * D);
      const done = await sampler.complete(x, n, { samples: 1, prng: new Prng(seed + 2) });
      const both = new Float32Array(2 * n * D);
      both.set(x, 0);
      both.set(done.x, n * D);
      writeImageGrid(join(dir, to.reconstructions), both, 2 * n, hw[0], hw[1], 8, 2, shape.channels);
      return true;
    }
    // A conditional model draws one class per column.
    const grid = gridLabels(cfg, cfg.conditional ? 8 * cfg.conditional.classes : 64);
    const count = grid.labels?.length ?? 64;
    const s = await sampler.sample(count, { prng: new Prng(seed + 1), label: grid.labels });
    writeImageGrid(join(dir, to.samples), s.x, count, hw[0], hw[1], grid.cols ?? 8, 2, shape.channels);
    const n = Math.min(16, test.n);
    const D = cfg.inputShape.reduce((a, c) => a * c, 1);
    const x = test.x.slice(0, n * D);
    const r = await sampler.reconstruct(x, n, test.labels?.subarray(0, n));
    const both = new Float32Array(2 * n * D);
    both.set(x, 0);
    both.set(r, n * D);
    writeImageGrid(join(dir, to.reconstructions), both, 2 * n, hw[0], hw[1], 8, 2, shape.channels);
  } finally {
    await sampler.release();
  }
  return true;
}

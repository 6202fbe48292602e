/** The training job behind `onnxvae train`: data, sessions, the loop, checkpoints, metrics and pictures. */
import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Bundle,
  createBundle,
  Evaluator,
  initialState,
  type ModelState,
  Prng,
  resolveConfig,
  Sampler,
  Trainer,
  TrainingDivergedError,
  type VaeConfig,
} from '@onnxvae/core';
import { ensureWritableDir, latestValidCheckpoint, writeBundle, writeCheckpoint } from './bundle-io.js';
import { batches } from './data/batches.js';
import type { Dataset } from './data/dataset.js';
import { type DataSpec, loadData } from './data/source.js';
import { Progress } from './report/progress.js';
import { type EpochMetrics, writeImageGrid, writeLossCurve, writeReport } from './report/report.js';
import { createNodeRuntime, type ProviderChoice } from './session.js';

export interface TrainOptions extends DataSpec {
  epochs: number;
  batch: number;
  lr: number;
  provider: ProviderChoice;
  threads?: number;
  seed: number;
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
  progressStream?: NodeJS.WritableStream;
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

/** The model's input shape for this data: flat for an MLP, [C, H, W] for a conv model. */
function inputShapeFor(arch: VaeConfig['arch'], dims: number[]): number[] {
  if (arch === 'mlp') return [dims.reduce((a, b) => a * b, 1)];
  if (dims.length === 2) return [1, ...dims];
  if (dims.length === 3) return dims;
  throw new TrainingError(`a conv model needs image data of shape [H, W] or [C, H, W] per example, got [${dims}]`);
}

function meanOf(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  for (const [k, v] of [
    ['epochs', opts.epochs],
    ['batch', opts.batch],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new TrainingError(`--${k} must be a positive integer, got ${v}`);
  }
  if (!(opts.lr > 0) || !Number.isFinite(opts.lr)) throw new TrainingError(`--lr must be a positive number, got ${opts.lr}`);
  ensureWritableDir(opts.out);
  const { train: trainSet, test: testSet } = loadData(opts);
  const arch = opts.config?.arch ?? 'mlp';
  const cfg = resolveConfig({ ...opts.config, inputShape: inputShapeFor(arch, trainSet.dims) });
  const runtime = await createNodeRuntime({ provider: opts.provider, threads: opts.threads });
  log(`provider: ${runtime.provider} (${runtime.notes.join('; ')})`);

  let state: ModelState;
  const metricsPath = join(opts.out, 'metrics.jsonl');
  if (opts.resume) {
    const ck = await latestValidCheckpoint(opts.out);
    if (!ck) throw new TrainingError(`--resume: no valid checkpoint in ${join(opts.out, 'checkpoints')}`);
    for (const s of ck.skipped) log(`skipped a corrupt checkpoint: ${s}`);
    if (JSON.stringify(ck.bundle.manifest.config) !== JSON.stringify(cfg)) {
      throw new TrainingError(
        `--resume: the checkpoint in ${ck.dir} was trained with a different model config; use the same --config and data`,
      );
    }
    state = ck.bundle.state;
    log(`resuming from ${ck.dir} (epoch ${state.training.epoch}, step ${state.training.step})`);
    // metrics.jsonl keeps only the epochs the checkpoint has, so the file matches an uninterrupted run.
    writeFileSync(metricsPath, state.metrics.map((m) => `${JSON.stringify(m)}\n`).join(''));
  } else {
    state = initialState(cfg, opts.seed);
    state.training.batchSize = opts.batch;
    state.training.lr = opts.lr;
    writeFileSync(metricsPath, '');
    rmSync(join(opts.out, 'checkpoints'), { recursive: true, force: true });
  }

  const fused = opts.fusedSteps ?? 1;
  const graphs = await createBundle(cfg, state, { fusedSteps: fused });
  const trainSession = await runtime.createSession(graphs.files['train_step.onnx'], 'train_step.onnx');
  const evalSession = await runtime.createSession(graphs.files['eval.onnx'], 'eval.onnx');
  const stepsPerEpoch = Math.floor(trainSet.n / opts.batch) || 1;
  const trainer = new Trainer(runtime.ort, trainSession, graphs.manifest, state, {
    lr: opts.lr,
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

  for (let epoch = state.training.epoch; epoch < opts.epochs; epoch++) {
    const t0 = performance.now();
    const progress = new Progress(stepsPerEpoch * opts.batch, { label: `epoch ${epoch + 1}/${opts.epochs}`, stream: opts.progressStream });
    const elbos: number[] = [];
    const recs: number[] = [];
    const kls: number[] = [];
    let pending: Float32Array[] = [];
    // dropLast keeps every step's batch the same size, so steps (and fused groups) line up across resumes.
    for (const b of batches(trainSet, opts.batch, { shuffle: true, seed: opts.seed, epoch, dropLast: trainSet.n >= opts.batch })) {
      pending.push(b.x);
      if (pending.length < fused) continue;
      const x = fused === 1 ? pending[0] : concat(pending);
      pending = [];
      let m: Awaited<ReturnType<Trainer['trainStep']>>;
      try {
        m = await trainer.trainStep(x, b.size);
      } catch (e) {
        if (e instanceof TrainingDivergedError) {
          progress.done();
          throw new TrainingError(
            `training stopped in epoch ${epoch + 1}: ${e.message}. The last good checkpoint is kept in ${join(opts.out, 'checkpoints')}; resume with --resume and a lower --lr`,
          );
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
    const testRes = await ev.evaluate(testSet.x, testSet.n, { k: 1, batch: 500, seed: 12345 });
    const em: EpochMetrics = {
      epoch: epoch + 1,
      train_elbo: meanOf(elbos),
      test_elbo: testRes.elbo,
      train_rec: meanOf(recs),
      train_kl: meanOf(kls),
      seconds,
      samples_per_s: (elbos.length * fused * opts.batch) / seconds,
    };
    metrics.push(em);
    appendFileSync(metricsPath, `${JSON.stringify(em)}\n`);
    log(
      `epoch ${em.epoch}: train ELBO ${em.train_elbo.toFixed(2)}, test ELBO ${em.test_elbo.toFixed(2)} nats, ${em.samples_per_s?.toFixed(0)} samples/s`,
    );
    trainer.setEpoch(epoch + 1);
    const last = epoch + 1 === opts.epochs;
    if (last || (epoch + 1) % (opts.saveEvery ?? 1) === 0) writeCheckpoint(opts.out, await snapshotBundle(), opts.keepCheckpoints ?? 3);
  }

  const finalBundle = await snapshotBundle();
  writeBundle(opts.out, finalBundle);
  await writePictures(opts.out, finalBundle, runtime, testSet, opts.seed);
  writeLossCurve(join(opts.out, 'loss-curve.png'), metrics, stepLosses);
  writeReport(opts.out, { title: `onnxvae: ${trainSet.name}`, config: cfg, metrics, provider: runtime.provider, notes: runtime.notes });
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
  const sampler = new Sampler(
    runtime.ort,
    await runtime.createSession(b.files['decoder.onnx'], 'decoder.onnx'),
    await runtime.createSession(b.files['encoder.onnx'], 'encoder.onnx'),
    { latent: cfg.latent, outputSize: cfg.inputShape.reduce((a, c) => a * c, 1) },
  );
  const s = await sampler.sample(64, { prng: new Prng(seed + 1) });
  writeImageGrid(join(dir, 'samples.png'), s.x, 64, hw[0], hw[1], 8);
  const n = Math.min(16, test.n);
  const D = cfg.inputShape.reduce((a, c) => a * c, 1);
  const x = test.x.slice(0, n * D);
  const r = await sampler.reconstruct(x, n);
  const both = new Float32Array(2 * n * D);
  both.set(x, 0);
  both.set(r, n * D);
  writeImageGrid(join(dir, 'reconstructions.png'), both, 2 * n, hw[0], hw[1], 8);
}

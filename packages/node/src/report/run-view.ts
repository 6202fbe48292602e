/**
 * What the run page shows (report.html and the live dashboard): a run's facts (run.json), its epochs
 * (metrics.jsonl), its steps (steps.jsonl) and which epochs have pictures (samples/, reconstructions/). readRunView
 * reads them from a run folder that may come from anywhere: every file is size-capped and every field type-checked,
 * and what does not fit is left out, never passed on.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface EpochMetrics {
  epoch: number;
  train_elbo: number;
  test_elbo: number;
  train_rec?: number;
  train_kl?: number;
  seconds?: number;
  samples_per_s?: number;
  /** Seconds the test ELBO took: inference on the test set (an encoder pass, or a per-datapoint model's refinement). */
  test_seconds?: number;
  /** The last epoch of a run trained with an IWAE estimate (train --eval-k K): mean log p(x) ≈ IWAE on the test set. */
  test_iwae?: number;
  /** Its importance samples K. */
  iwae_k?: number;
}

/** One line of steps.jsonl: a train_step run (K fused steps count as one point, at the last step). */
export interface StepRecord {
  step: number;
  epoch: number;
  loss: number;
  elbo: number;
}

export type RunStatus = 'starting' | 'training' | 'done' | 'interrupted' | 'failed' | 'unknown';
const STATUSES: readonly RunStatus[] = ['starting', 'training', 'done', 'interrupted', 'failed', 'unknown'];

/** run.json: how the run was started, and (once it ended) how it ended. */
export interface RunInfo {
  title?: string;
  status?: RunStatus;
  provider?: string;
  notes?: string[];
  /** The data in words: examples, source. */
  data?: string;
  binarize?: string;
  lr?: number;
  batch?: number;
  seed?: number;
  /** The epochs the run was asked for (--epochs). */
  epochs?: number;
  stepsPerEpoch?: number;
  /** The command line, as a shell reads it back. */
  command?: string;
  /** ISO time the run (this invocation) started. */
  started?: string;
  /** Wall seconds of this invocation, once it ended. */
  runSeconds?: number;
  config?: unknown;
}

/** Live progress of a training run. */
export interface RunProgress {
  status?: RunStatus;
  epoch?: number;
  epochs?: number;
  step?: number;
  totalSteps?: number;
  samplesPerS?: number;
  etaS?: number;
  elapsedS?: number;
}

export interface RunView {
  title: string;
  status: RunStatus;
  info: RunInfo;
  epochs: EpochMetrics[];
  /** Columns of steps.jsonl. */
  steps: { step: number[]; loss: number[]; elbo: number[] };
  /** The epochs whose pictures are in samples/epoch-NNN.png and reconstructions/epoch-NNN.png. */
  pictures: { samples: number[]; reconstructions: number[] };
  progress?: RunProgress;
}

/** The folder and file names of the per-epoch pictures: samples/epoch-001.png. */
export const PICTURE_KINDS = ['samples', 'reconstructions'] as const;
export type PictureKind = (typeof PICTURE_KINDS)[number];
export const epochPicture = (kind: PictureKind, epoch: number): string => `${kind}/epoch-${String(epoch).padStart(3, '0')}.png`;
/** epoch-001.png … epoch-100000.png (the epochs' bound): the only names the page and the server take. */
export const EPOCH_PICTURE = /^epoch-(\d{3,6})\.png$/;

export const emptyView = (title = 'onnxvae run'): RunView => ({
  title,
  status: 'unknown',
  info: {},
  epochs: [],
  steps: { step: [], loss: [], elbo: [] },
  pictures: { samples: [], reconstructions: [] },
});

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const count = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const text = (v: unknown, max = 10_000): string | undefined => (typeof v === 'string' ? v.slice(0, max) : undefined);

/** One line of metrics.jsonl, if it is one: a positive integer epoch, finite ELBOs, the optional fields if finite. */
export function epochMetrics(o: unknown): EpochMetrics | undefined {
  if (typeof o !== 'object' || o === null) return undefined;
  const r = o as Record<string, unknown>;
  if (!count(r.epoch) || r.epoch < 1 || !finite(r.train_elbo) || !finite(r.test_elbo)) return undefined;
  const m: EpochMetrics = { epoch: r.epoch, train_elbo: r.train_elbo, test_elbo: r.test_elbo };
  for (const k of ['train_rec', 'train_kl', 'seconds', 'samples_per_s', 'test_iwae'] as const) if (finite(r[k])) m[k] = r[k];
  if (count(r.iwae_k)) m.iwae_k = r.iwae_k;
  return m;
}

function stepRecord(o: unknown): StepRecord | undefined {
  if (typeof o !== 'object' || o === null) return undefined;
  const r = o as Record<string, unknown>;
  if (!count(r.step) || !count(r.epoch) || !finite(r.loss) || !finite(r.elbo)) return undefined;
  return { step: r.step, epoch: r.epoch, loss: r.loss, elbo: r.elbo };
}

/** The run.json fields that have the right type (unknown ones dropped; strings capped). */
export function runInfo(o: unknown): RunInfo {
  if (typeof o !== 'object' || o === null) return {};
  const r = o as Record<string, unknown>;
  const info: RunInfo = {};
  for (const k of ['title', 'provider', 'data', 'binarize', 'command', 'started'] as const) {
    const s = text(r[k]);
    if (s !== undefined) info[k] = s;
  }
  if (STATUSES.includes(r.status as RunStatus)) info.status = r.status as RunStatus;
  if (Array.isArray(r.notes)) info.notes = r.notes.slice(0, 20).flatMap((n) => text(n, 1000) ?? []);
  for (const k of ['lr', 'runSeconds'] as const) if (finite(r[k])) info[k] = r[k];
  for (const k of ['batch', 'seed', 'epochs', 'stepsPerEpoch'] as const) if (count(r[k])) info[k] = r[k];
  if (r.config !== undefined) info.config = r.config;
  return info;
}

/** A file's text if it is a regular file (not a link) of at most maxBytes; otherwise undefined. */
export function readSmallFile(path: string, maxBytes: number): string | undefined {
  try {
    const st = lstatSync(path);
    if (!st.isFile() || st.size > maxBytes) return undefined;
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function jsonLines<T>(body: string | undefined, pick: (o: unknown) => T | undefined, max: number): T[] {
  const out: T[] = [];
  if (body === undefined) return out;
  for (const line of body.split('\n')) {
    if (out.length >= max) break;
    if (!line.trim()) continue;
    try {
      const v = pick(JSON.parse(line));
      if (v !== undefined) out.push(v);
    } catch {
      // a torn or foreign line: skipped
    }
  }
  return out;
}

/** The epochs of a run folder's metrics.jsonl (bad lines skipped). */
export const readEpochs = (dir: string): EpochMetrics[] =>
  jsonLines(readSmallFile(join(dir, 'metrics.jsonl'), 64 << 20), epochMetrics, 100_000);

/** The steps of a run folder's steps.jsonl (bad lines skipped). */
export const readSteps = (dir: string): StepRecord[] =>
  jsonLines(readSmallFile(join(dir, 'steps.jsonl'), 256 << 20), stepRecord, 5_000_000);

/** The epochs that have a picture in DIR/KIND/, in order. */
export function pictureEpochs(dir: string, kind: PictureKind): number[] {
  let names: string[];
  try {
    names = readdirSync(join(dir, kind));
  } catch {
    return [];
  }
  return names
    .flatMap((n) => {
      const m = EPOCH_PICTURE.exec(n);
      return m ? [Number(m[1])] : [];
    })
    .sort((a, b) => a - b);
}

/** Step records as the page's columns. */
export function stepColumns(steps: StepRecord[]): RunView['steps'] {
  return { step: steps.map((s) => s.step), loss: steps.map((s) => s.loss), elbo: steps.map((s) => s.elbo) };
}

/** What run.json lacks, from manifest.json (a run from before run.json, or a bundle copied without it). */
function manifestInfo(dir: string): RunInfo {
  const body = readSmallFile(join(dir, 'manifest.json'), 16 << 20);
  if (body === undefined) return {};
  try {
    const m = JSON.parse(body) as { config?: unknown; training?: Record<string, unknown> };
    const t = (typeof m.training === 'object' && m.training) || {};
    const data = (typeof t.data === 'object' && t.data) || {};
    return runInfo({
      config: m.config,
      lr: t.lr,
      batch: t.batchSize,
      seed: t.seed,
      data: text((data as Record<string, unknown>).source),
      binarize: text((data as Record<string, unknown>).binarize),
    });
  } catch {
    return {};
  }
}

/** Everything the page shows of the run in `dir`, read from its files. */
export function readRunView(dir: string): RunView {
  const body = readSmallFile(join(dir, 'run.json'), 4 << 20);
  let info: RunInfo = {};
  try {
    info = body === undefined ? {} : runInfo(JSON.parse(body));
  } catch {
    info = {};
  }
  info = { ...manifestInfo(dir), ...info };
  const status: RunStatus = info.status ?? (readSmallFile(join(dir, 'manifest.json'), 16 << 20) === undefined ? 'unknown' : 'done');
  return {
    title: info.title ?? 'onnxvae run',
    status,
    info,
    epochs: readEpochs(dir),
    steps: stepColumns(readSteps(dir)),
    pictures: { samples: pictureEpochs(dir, 'samples'), reconstructions: pictureEpochs(dir, 'reconstructions') },
  };
}

/**
 * `onnxvae variance`: the gradient-variance report (core's measureGradientVariance) for a bundle or a freshly
 * initialized model from a config, on one batch of data — a text table, a JSON summary and a PNG bar chart of the mean
 * per-element variance per parameter tensor, for reparameterization and the score function with and without baselines
 * (moving average, leave-one-out, NVIL; VIMCO for the IWAE bound), and for categorical latents the Concrete relaxation.
 *
 * @example
 * const r = await gradientVarianceReport({ bundle: 'runs/mnist', data: 'mnist', draws: 200, out: 'runs/mnist' });
 * console.log(r.table);
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initialState, measureGradientVariance, resolveConfig, type TensorData, type VaeConfig, type VarianceReport } from '@onnxvae/core';
import { ensureWritableDir, readBundleDir } from './bundle-io.js';
import { type Binarization, fixedBernoulliBinarize } from './data/binarize.js';
import type { Dataset } from './data/dataset.js';
import { asTrained, binarizationOf, type DataSpec, loadData, loadTestData } from './data/source.js';
import { barChartSvg } from './report/bar-chart-svg.js';
import { svgToPng } from './report/line-chart-svg.js';
import { createNodeRuntime, type ProviderChoice } from './session.js';
import { inputShapeFor } from './train.js';

export interface VarianceCommandOptions {
  /** A bundle folder (its config and trained parameters); otherwise `config` with fresh parameters from `seed`. */
  bundle?: string;
  config?: Partial<VaeConfig>;
  /** The data to take the batch from  [a bundle's own training data; mnist for a --config model]. */
  data?: string;
  /** Take the batch from this file (its first examples) instead of the training split of `data`. */
  testData?: string;
  /** [a bundle's own binarization; the data's default for a --config model]. Dynamic: one fixed Bernoulli draw. */
  binarize?: boolean | Binarization;
  limit?: number;
  /** Examples in the batch (default 64). */
  batch?: number;
  /** Gradient estimates per estimator (default 200). */
  draws?: number;
  /** Samples M per estimate (default the model's). */
  samples?: number;
  seed?: number;
  out: string;
  provider?: ProviderChoice;
  log?: (line: string) => void;
}

export interface VarianceCommandResult {
  report: VarianceReport;
  table: string;
  files: { table: string; json: string; png: string };
}

const COLORS = ['#1f77b4', '#d62728', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f'];

/** A short axis label for a parameter name: encoder.mlp.fc1.weight → E.FC1.W. */
export function shortParamName(name: string): string {
  const parts = name.split('.').filter((p) => p !== 'mlp');
  if (parts.length < 2) return name.slice(0, 8);
  const last = parts[parts.length - 1];
  const tail = last === 'weight' || last === 'bias' ? last[0] : last;
  return [parts[0][0], ...parts.slice(1, -1), tail].join('.').toUpperCase();
}

/** The report as a text table: mean per-element variance per parameter tensor and estimator, and the ratio. */
export function formatVarianceTable(r: VarianceReport): string {
  const cols = r.estimators.map((e) => e.name);
  const width = Math.max(12, ...cols.map((c) => c.length + 2));
  const nameW = Math.max(9, ...r.estimators[0].params.map((p) => p.name.length + 2));
  const pad = (s: string, n: number) => s.padStart(n);
  const fmt = (v: number) => (Number.isFinite(v) ? v.toExponential(3) : String(v));
  const lines = [
    `gradient variance over ${r.draws} draws, M = ${r.samples} samples, batch ${r.batch} (mean per-element variance of ∂(−ELBO)/∂θ)`,
    `${'parameter'.padEnd(nameW)}${cols.map((c) => pad(c, width)).join('')}`,
  ];
  r.estimators[0].params.forEach((p, i) => {
    lines.push(`${p.name.padEnd(nameW)}${r.estimators.map((e) => pad(fmt(e.params[i].meanVariance), width)).join('')}`);
  });
  lines.push(`${'all'.padEnd(nameW)}${r.estimators.map((e) => pad(fmt(e.meanVariance), width)).join('')}`);
  lines.push(`${`÷ ${r.reference}`.padEnd(nameW)}${r.estimators.map((e) => pad(e.ratio.toPrecision(4), width)).join('')}`);
  // Older reports (and hand-made ones) may lack the best row's ratios.
  if (r.best !== undefined && r.estimators.every((e) => e.ratioToBest !== undefined))
    lines.push(`${`÷ best (${r.best})`.padEnd(nameW)}${r.estimators.map((e) => pad(e.ratioToBest.toPrecision(4), width)).join('')}`);
  const iwae = r.estimators.filter((e) => e.bound === 'iwae').map((e) => e.name);
  const relaxed = r.estimators.filter((e) => e.relaxation).map((e) => e.name);
  // Rows that estimate another quantity than the model's bound say so (their variance is still comparable).
  if (iwae.length && r.estimators.some((e) => e.bound !== 'iwae'))
    lines.push(`${iwae.join(', ')}: the gradient of the K = ${r.samples} importance-weighted bound, not the ELBO's`);
  if (relaxed.length)
    lines.push(
      `${relaxed.join(', ')}: the gradient of the Concrete-relaxed objective (relaxed reconstruction, categorical KL), biased for the ELBO`,
    );
  return lines.join('\n');
}

export async function gradientVarianceReport(opts: VarianceCommandOptions): Promise<VarianceCommandResult> {
  const log = opts.log ?? (() => {});
  const seed = opts.seed ?? 0;
  let cfg: VaeConfig;
  let params: Record<string, TensorData> = {};
  let dataSeed = seed;
  let source: Pick<DataSpec, 'binarize' | 'size' | 'channels'> & { data: string } = {
    data: opts.data ?? 'mnist',
    binarize: opts.binarize,
  };
  if (opts.bundle) {
    const b = await readBundleDir(opts.bundle);
    cfg = b.manifest.config;
    params = b.state.params;
    dataSeed = b.manifest.training.seed; // a user file's split is the one training made
    // The model's own data, binarization and image size, as eval scores it (unless told otherwise).
    const trained = asTrained(b.manifest.training.data, opts.data);
    source = { ...trained, data: trained.data ?? 'mnist', binarize: opts.binarize ?? trained.binarize };
  } else cfg = resolveConfig(opts.config ?? {});
  const bernoulli = cfg.likelihood.type === 'bernoulli';
  const spec = { ...source, limit: opts.limit, seed: dataSeed, requireUnitInterval: bernoulli };
  const mode = binarizationOf(spec);
  let train: Dataset;
  let what: string;
  if (opts.testData) {
    ({ test: train } = await loadTestData({ ...spec, limit: undefined, testData: opts.testData }));
    what = `${opts.testData} (--test-data)`;
  } else {
    ({ train } = await loadData(spec));
    what =
      spec.data === 'mnist' || spec.data === 'mnist-full'
        ? `the ${spec.data === 'mnist' ? 'MNIST' : 'full MNIST'} training split`
        : `the training split of ${spec.data} (80%, drawn with the ${opts.bundle ? 'training ' : ''}seed ${dataSeed})`;
  }
  if (!opts.bundle) {
    const inputShape = inputShapeFor(cfg.arch, train.dims);
    if (opts.config?.inputShape && JSON.stringify(opts.config.inputShape) !== JSON.stringify(inputShape)) {
      throw new Error(`model config: inputShape [${opts.config.inputShape}] does not match the data's [${inputShape}] (leave it out)`);
    }
    cfg = resolveConfig({ ...opts.config, inputShape });
    params = initialState(cfg, seed).params;
  }
  const d = cfg.inputShape.reduce((a, c) => a * c, 1);
  if (train.dims.reduce((a, c) => a * c, 1) !== d) throw new Error(`data examples have [${train.dims}] values, the model takes ${d}`);
  const batch = Math.min(opts.batch ?? 64, train.n);
  let x = train.x.subarray(0, batch * d);
  // Dynamic binarization leaves the training split gray (each epoch draws it): the batch gets one fixed draw.
  if (mode === 'dynamic' && !opts.testData) {
    x = Float32Array.from(x);
    fixedBernoulliBinarize(x, d, seed);
  }
  log(
    `variance: a batch of the first ${batch} examples of ${what}; binarization: ${mode === 'dynamic' && !opts.testData ? `dynamic (one Bernoulli draw, seed ${seed})` : mode}`,
  );
  ensureWritableDir(opts.out);

  const rt = await createNodeRuntime({ provider: opts.provider ?? 'cpu' });
  let last = '';
  // The runtime's session factory: the graphs run on the --provider's execution provider.
  const report = await measureGradientVariance(rt.ort, rt.createSession, cfg, params, x, batch, {
    draws: opts.draws ?? 200,
    samples: opts.samples,
    seed,
    onProgress: (name, done, total) => {
      if (done === total && name !== last) {
        last = name;
        log(`${name}: ${total} gradient draws`);
      }
    },
  });
  const table = formatVarianceTable(report);
  const files = {
    table: join(opts.out, 'gradient-variance.txt'),
    json: join(opts.out, 'gradient-variance.json'),
    png: join(opts.out, 'gradient-variance.png'),
  };
  writeFileSync(files.table, `${table}\n`);
  const summary = {
    draws: report.draws,
    samples: report.samples,
    batch: report.batch,
    reference: report.reference,
    best: report.best,
    estimators: report.estimators.map((e) => ({
      name: e.name,
      estimator: e.estimator,
      baseline: e.baseline,
      meanVariance: e.meanVariance,
      ratio: e.ratio,
      ratioToBest: e.ratioToBest,
      bound: e.bound ?? (cfg.objective === 'iwae' ? 'iwae' : 'elbo'),
      relaxation: e.relaxation,
      baselineValue: e.baselineValue,
      params: e.params.map((p) => ({ name: p.name, shape: p.shape, meanVariance: p.meanVariance })),
    })),
  };
  writeFileSync(files.json, `${JSON.stringify(summary, null, 2)}\n`);
  const groups = [...report.estimators[0].params.map((p) => shortParamName(p.name)), 'ALL'];
  const series = report.estimators.map((e, i) => ({
    // The legend gives each row's ratio to the best (lowest-variance) row.
    name: `${e.name} (x${e.ratioToBest.toPrecision(3)} best)`,
    values: [...e.params.map((p) => p.meanVariance), e.meanVariance],
    color: COLORS[i % COLORS.length],
  }));
  const svg = barChartSvg(series, {
    width: Math.max(640, 90 * groups.length),
    height: 420,
    title: `gradient variance, ${report.draws} draws, M=${report.samples}, batch ${report.batch}`,
    yLabel: 'mean variance of the gradient',
    groups,
    log: true,
  });
  writeFileSync(files.png, await svgToPng(svg));
  return { report, table, files };
}

/**
 * `onnxvae gap DIR`: the amortization-gap report of a bundle on a dataset's test split — mean log p(x) (IWAE with K
 * samples), the ELBO with the encoder, and the ELBO after refining each example's q for N Adam steps. The
 * refinement and the per-example bounds are core's (measureAmortizationGap, runtime/refiner.ts); the report's
 * numbers and its table are made here.
 */
import { type BoundResult, type GapMeasurement, latentFamily, measureAmortizationGap } from '@onnxvae/core';
import { readBundleDir } from './bundle-io.js';
import { checkLabels } from './conditional.js';
import { asTrained, type DataSpec, loadTestData } from './data/source.js';
import { Progress, type ProgressStream } from './report/progress.js';
import { createNodeRuntime, type ProviderChoice } from './session.js';

export interface GapCommandOptions {
  dir: string;
  /** Default: the data the model was trained on (the manifest's `training.data.source`). */
  data?: string;
  /** A test file, scored whole (instead of the test split of `data`). */
  testData?: string;
  labels?: string;
  testLabels?: string;
  /** Default: as the model was trained (the manifest's `training.data.binarize`). */
  binarize?: DataSpec['binarize'];
  /** Image folders: default as the model was trained (the manifest's `training.data.shape`). */
  size?: DataSpec['size'];
  channels?: DataSpec['channels'];
  /** Use the first examples only (see `--limit` of train: the test split keeps ⌈limit/4⌉). */
  limit?: number;
  /** Refinement steps per example. */
  steps: number;
  lr?: number;
  /** Samples per example for the ELBO estimates and IWAE's K. */
  k?: number;
  /** Reparameterized samples per refinement step. */
  samples?: number;
  seed?: number;
  provider?: ProviderChoice;
  threads?: number;
  log?: (line: string) => void;
  /** Where the progress bars go (default stderr). */
  progressStream?: ProgressStream;
}

export interface GapReport {
  n: number;
  steps: number;
  lr: number;
  k: number;
  /** Mean log p(x) estimate, nats: IWAE with K samples and the refined q as proposal. */
  logpx: number;
  /** The same with the encoder's q as proposal (what `onnxvae eval` reports). */
  iwaeEncoder: number;
  /** Mean ELBO with the encoder's q(z|x), nats. */
  elboEncoder: number;
  /** Mean ELBO after refining each q_i, nats. */
  elboRefined: number;
  /** elboRefined − elboEncoder. */
  amortizationGap: number;
  /** logpx − elboRefined. */
  approximationGap: number;
  /** logpx − elboEncoder = amortization + approximation gap. */
  inferenceGap: number;
  /** Monte Carlo standard errors of the two mean ELBOs (for these examples), nats. */
  stdErr: { elboEncoder: number; elboRefined: number };
  /** Fraction of examples whose refined ELBO is below the encoder's by more than 3 standard errors (should be 0). */
  worseAfterRefinement: number;
  /** Mean single-draw ELBO estimate at each refinement step. */
  trace: Float64Array;
  perExample: { encoder: BoundResult; refined: BoundResult };
}

const mean = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / Math.max(1, a.length);
};

/** The report's numbers from core's per-example bounds; a non-finite mean bound is an error. */
export function summarizeGap(m: GapMeasurement): GapReport {
  const { n, encoder, refined: ref } = m;
  const se = (r: BoundResult) => Math.sqrt(r.elboStdErr.reduce((s, v) => s + v * v, 0)) / n;
  let worse = 0;
  for (let i = 0; i < n; i++) {
    const tol = 3 * Math.hypot(encoder.elboStdErr[i], ref.elboStdErr[i]);
    if (ref.elbo[i] < encoder.elbo[i] - tol) worse++;
  }
  const logpx = mean(ref.iwae);
  const elboEncoder = mean(encoder.elbo);
  const elboRefined = mean(ref.elbo);
  if (![logpx, elboEncoder, elboRefined].every(Number.isFinite)) {
    throw new Error(
      `amortization gap: a bound is not finite (${JSON.stringify({ logpx, elboEncoder, elboRefined })}); check the data range`,
    );
  }
  return {
    n,
    steps: m.steps,
    lr: m.lr,
    k: m.k,
    logpx,
    iwaeEncoder: mean(encoder.iwae),
    elboEncoder,
    elboRefined,
    amortizationGap: elboRefined - elboEncoder,
    approximationGap: logpx - elboRefined,
    inferenceGap: logpx - elboEncoder,
    stdErr: { elboEncoder: se(encoder), elboRefined: se(ref) },
    worseAfterRefinement: worse / n,
    trace: m.trace,
    perExample: { encoder, refined: ref },
  };
}

/** The report's numbers without the per-example arrays (what `--json` prints). */
export function gapSummary(r: GapReport): Record<string, unknown> {
  const { perExample: _p, trace, ...rest } = r;
  const first = trace.length ? trace.slice(0, Math.min(10, trace.length)) : new Float64Array(0);
  const last = trace.length ? trace.slice(Math.max(0, trace.length - 10)) : new Float64Array(0);
  const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);
  return { ...rest, refineTrace: { firstSteps: mean(first), lastSteps: mean(last) } };
}

/** The report as a small table. */
export function formatGap(r: GapReport, data: string): string {
  const f = (v: number) => v.toFixed(3).padStart(10);
  return [
    `${data}: ${r.n} examples; refinement ${r.steps} Adam steps (lr ${r.lr}) per example; bounds with K = ${r.k} samples`,
    `  log p(x) ≈ IWAE (refined q)     ${f(r.logpx)} nats`,
    `  IWAE (encoder q)                ${f(r.iwaeEncoder)} nats`,
    `  ELBO after refinement  L[q*]    ${f(r.elboRefined)} nats  (± ${r.stdErr.elboRefined.toFixed(3)})`,
    `  ELBO with the encoder  L[q_φ]   ${f(r.elboEncoder)} nats  (± ${r.stdErr.elboEncoder.toFixed(3)})`,
    `  amortization gap  L[q*] − L[q_φ]     ${f(r.amortizationGap)} nats`,
    `  approximation gap log p(x) − L[q*]   ${f(r.approximationGap)} nats`,
    `  inference gap     log p(x) − L[q_φ]  ${f(r.inferenceGap)} nats`,
  ].join('\n');
}

export async function gapReport(opts: GapCommandOptions): Promise<{ report: GapReport; data: string; provider: string; what: string }> {
  if (!Number.isInteger(opts.steps) || opts.steps < 1) throw new Error(`--steps must be a positive integer, got ${opts.steps}`);
  const b = await readBundleDir(opts.dir);
  const cfg = b.manifest.config;
  // The refiner optimizes each example's Gaussian q_i = N(μ_i, σ_i²) by reparameterization; a Bernoulli or
  // categorical q has neither μ, log σ² nor a reparameterized sample, and its encoder's outputs have another size.
  const family = latentFamily(cfg);
  if (!family.freePosterior) {
    const what =
      family.name === 'hierarchical'
        ? 'two stochastic layers (q(z₁|x) q(z₂|z₁)), whose per-example posterior is not one free Gaussian'
        : `${family.name} latents`;
    throw new Error(
      `gap needs a model with one layer of Gaussian latents: it refines each example's q(z|x) = N(μ, σ²) by reparameterized gradient steps, and ${opts.dir} has ${what} (family '${family.name}'); train a model without latentType or hierarchical (or with latentType 'gaussian') to measure its amortization gap`,
    );
  }
  const trained = asTrained(b.manifest.training.data, opts.data); // as the model was trained
  const { test, what } = await loadTestData({
    ...trained,
    testData: opts.testData,
    labels: opts.labels,
    testLabels: opts.testLabels,
    binarize: opts.binarize ?? trained.binarize,
    size: opts.size ?? trained.size,
    channels: opts.channels ?? trained.channels,
    limit: opts.limit,
    seed: b.manifest.training.seed, // a user file's test split is the one training held out
  });
  opts.log?.(`gap: scoring ${what}`);
  const d = cfg.inputShape.reduce((a, c) => a * c, 1);
  const dd = test.dims.reduce((a, c) => a * c, 1);
  if (dd !== d) throw new Error(`data examples have ${dd} values, the model takes ${d}`);
  checkLabels(cfg, test, 'test data');
  const rt = await createNodeRuntime({ provider: opts.provider, threads: opts.threads });
  opts.log?.(`provider: ${rt.provider}; ${test.n} test examples of ${test.name}`);
  const bars: Partial<Record<'refine' | 'bound', { bar: Progress; done: number }>> = {};
  const measured = await measureAmortizationGap(rt.ort, rt.createSession, b, test.x, test.n, {
    steps: opts.steps,
    lr: opts.lr,
    k: opts.k,
    samples: opts.samples,
    seed: opts.seed,
    y: cfg.conditional ? test.labels : undefined,
    onProgress: (phase, done, total) => {
      const label = phase === 'refine' ? `refine ${opts.steps} steps` : `bounds K=${opts.k ?? 1000}`;
      bars[phase] ??= { bar: new Progress(total, { label, stream: opts.progressStream }), done: 0 };
      const p = bars[phase];
      p.bar.tick(done - p.done);
      p.done = done;
      if (done >= total) p.bar.done();
    },
  });
  return { report: summarizeGap(measured), data: test.name, provider: rt.provider, what };
}

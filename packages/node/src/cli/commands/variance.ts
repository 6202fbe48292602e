/**
 * `onnxvae variance DIR|--config model.json`: the gradient estimators' variance, as a table, JSON and a bar chart.
 */
import { readConfigFile } from '../../config-file.js';
import { gradientVarianceReport } from '../../variance.js';
import { BINARIZE_HELP, binarization, LIMITS, num, PROVIDER_HELP, provider, UsageError } from '../args.js';
import type { Command, CommandContext } from '../context.js';

async function run({ v, pos, out, err }: CommandContext): Promise<number> {
  if (!pos[1] && v.config === undefined)
    throw new UsageError('variance needs a bundle folder or a model: onnxvae variance DIR, or --config model.json');
  const r = await gradientVarianceReport({
    bundle: pos[1],
    config: pos[1] || v.config === undefined ? undefined : readConfigFile(v.config),
    data: v.data,
    testData: v['test-data'],
    binarize: binarization(v),
    limit: v.limit === undefined ? undefined : num(v.limit, 'limit', 0, { int: true, min: 2 }),
    batch: num(v.batch, 'batch', 64, { int: true, min: 1, max: LIMITS.batch }),
    draws: num(v.draws, 'draws', 200, { int: true, min: 2, max: LIMITS.draws }),
    samples: v.samples === undefined ? undefined : num(v.samples, 'samples', 1, { int: true, min: 1, max: LIMITS.samples }),
    seed: num(v.seed, 'seed', 0, { int: true, min: 0 }),
    out: v.out ?? pos[1] ?? 'runs/variance',
    provider: provider(v.provider ?? 'cpu'),
    log: (line) => err(`${line}\n`),
  });
  out(`${r.table}\nwrote ${r.files.table}, ${r.files.json}, ${r.files.png}\n`);
  return 0;
}

export const varianceCommand: Command = {
  summary: 'gradient variance: reparameterization vs the score function (± baselines, NVIL, VIMCO) and Concrete, table + PNG',
  usage: 'onnxvae variance DIR|--config model.json [--data mnist|FILE | --test-data FILE] [--draws 200] [--out DIR]',
  help: `Measures the variance of the gradient estimators of reparameterization and the score function (without a
baseline, with a moving average, leave-one-out or NVIL's learned baseline; with M ≥ 2 also VIMCO and the plain score
function of the K = M importance-weighted bound) and, for categorical latents, the Concrete relaxation's pathwise
gradient, on one batch, for the bundle in DIR or a fresh model from --config. Each row gives the mean per-parameter
variance, its ratio to the reference and to the best row. Writes a table (stdout and gradient-variance.txt),
gradient-variance.json and a bar chart gradient-variance.png into --out.

  --config model.json   a fresh model (parameters from --seed) instead of a bundle
  --data mnist|mnist-full|FILE|DIR
                        the batch is the first examples of its training split  [a bundle's own data; mnist]
  --test-data FILE      take the batch from the first examples of FILE instead
${BINARIZE_HELP("a bundle's own (dynamic: one fixed Bernoulli draw of the batch); the data's default for --config")}
  --limit N             the first N training examples
  --batch B             examples in the batch, 1 … ${LIMITS.batch}  [64]
  --draws N             gradient estimates per estimator, 2 … ${LIMITS.draws}  [200]
  --samples M           samples per estimate, 1 … ${LIMITS.samples}  [the model's]
  --seed S              [0]
  --out DIR             [DIR, or runs/variance with --config]
${PROVIDER_HELP('cpu')}`,
  run,
};

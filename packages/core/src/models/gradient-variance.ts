/**
 * The gradient-variance report's graphs: on one model and one batch, the gradient of the loss −ELBO under one
 * estimator — reparameterization, the score function without a baseline, or with each baseline. The graph outputs
 * the gradients (forward, reverse sweep, `<param>_grad` outputs); runtime/gradient-variance.ts runs it once per draw
 * with the host PRNG's noise and summarizes the draws.
 *
 * @example
 * const g = buildGradientGraph(cfg, { name: 'score+loo', estimator: 'score', baseline: 'leave-one-out' }, 8);
 */
import { gradients } from '../autodiff/gradients.js';
import { Graph, type Value } from '../ir/graph.js';
import { ParamBinder } from '../nn/params.js';
import { type Estimator, elboTerms } from './bound.js';
import { inputSize, type RelaxationConfig, type VaeConfig } from './config.js';
import { latentFamily } from './families/index.js';
import { nvilObjective } from './nvil.js';
import { type Baseline, scoreObjective } from './score-function.js';
import { iwaeScoreObjective } from './vimco.js';

/** One gradient estimator to compare. */
export interface EstimatorChoice {
  /** Label in tables and plots, e.g. 'score+loo'. */
  name: string;
  estimator: Estimator;
  baseline: Baseline;
  /**
   * The bound whose gradient it estimates: the ELBO (default for 'kl' and 'entropy' models) or the K-sample IWAE
   * bound (default for 'iwae' models; VIMCO's rows on an ELBO model), K = the report's samples.
   */
  bound?: 'elbo' | 'iwae';
  /**
   * Categorical latents: the Concrete relaxation's reparameterized gradient at this temperature (families/concrete.ts),
   * the gradient of the relaxed objective (relaxed reconstruction, categorical KL), not of the ELBO itself.
   */
  relaxation?: RelaxationConfig;
}

/** The temperature of the report's Concrete row: the model's own, else 0.5. */
export const DEFAULT_REPORT_TEMPERATURE = 0.5;

/** The bound a choice differentiates: its own, else the config's objective's. */
export function boundOf(cfg: VaeConfig, choice: EstimatorChoice): 'elbo' | 'iwae' {
  return choice.bound ?? (cfg.objective === 'iwae' ? 'iwae' : 'elbo');
}

/**
 * The estimators a model supports: reparam (where its family has it), score, score with each baseline (leave-one-out
 * if M > 1); with M ≥ 2 also the IWAE bound's plain score function and VIMCO (on an ELBO model they estimate the
 * K = M bound's gradient, another quantity: rows with bound 'iwae'). An 'iwae' model gets its bound's rows only.
 */
export function defaultEstimators(cfg: VaeConfig, samples: number): EstimatorChoice[] {
  const out: EstimatorChoice[] = [];
  // A relaxed categorical model's pathwise gradient is the Concrete row below, not an exact reparameterization.
  if (latentFamily(cfg).reparameterizable && !cfg.relaxation) out.push({ name: 'reparam', estimator: 'reparam', baseline: 'none' });
  if (cfg.objective === 'iwae') {
    out.push({ name: 'score', estimator: 'score', baseline: 'none' });
    out.push({ name: 'score+moving-avg', estimator: 'score', baseline: 'moving-average' });
    if (samples > 1) out.push({ name: 'score+vimco', estimator: 'score', baseline: 'vimco' });
    return out;
  }
  out.push({ name: 'score', estimator: 'score', baseline: 'none' });
  out.push({ name: 'score+moving-avg', estimator: 'score', baseline: 'moving-average' });
  if (samples > 1) out.push({ name: 'score+leave-one-out', estimator: 'score', baseline: 'leave-one-out' });
  out.push({ name: 'score+nvil', estimator: 'score', baseline: 'nvil' });
  if (samples > 1) {
    out.push({ name: 'iwae-score', estimator: 'score', baseline: 'none', bound: 'iwae' });
    out.push({ name: 'score+vimco', estimator: 'score', baseline: 'vimco', bound: 'iwae' });
  }
  if (cfg.latentType === 'categorical') {
    const temperature = cfg.relaxation?.temperature ?? DEFAULT_REPORT_TEMPERATURE;
    out.push({ name: `concrete(τ=${temperature})`, estimator: 'reparam', baseline: 'none', relaxation: { temperature } });
  }
  return out;
}

export const GRADIENT_GRAPH_BASELINE = 'baseline';

/**
 * A graph (x [batch, D], eps [M, batch, W], params… [, baseline [1]]) → `<param>_grad`… and `reward_mean`: the
 * gradient of −ELBO (batch mean, β = 1, no free bits) under one estimator. The moving-average variant takes the
 * baseline's value as the input `baseline`; score variants also output the mean reward that updates it.
 */
export function buildGradientGraph(cfg: VaeConfig, choice: EstimatorChoice, samples: number): Graph {
  const bound = boundOf(cfg, choice);
  if (choice.baseline === 'vimco' && (bound !== 'iwae' || samples < 2))
    throw new Error(
      `gradient variance: VIMCO estimates the IWAE bound's gradient with K ≥ 2 samples (bound 'iwae', got ${bound}, K = ${samples})`,
    );
  if (bound === 'iwae' && (choice.baseline === 'leave-one-out' || choice.baseline === 'nvil'))
    throw new Error(`gradient variance: the '${choice.baseline}' baseline is an ELBO baseline; the IWAE bound has 'vimco'`);
  if (choice.relaxation && (cfg.latentType !== 'categorical' || choice.estimator !== 'reparam' || bound !== 'elbo'))
    throw new Error('gradient variance: the Concrete relaxation is a reparameterized ELBO estimator for categorical latents');
  // A Concrete row draws the relaxed z; every other row sees the model's own family (score rows: its discrete draws).
  const family = latentFamily(choice.relaxation ? { ...cfg, relaxation: choice.relaxation } : cfg);
  if (choice.estimator === 'reparam' && !family.reparameterizable)
    throw new Error(`gradient variance: ${family.name} latents have no reparameterization`);
  if (family.inputs.length)
    throw new Error(
      `gradient variance: a ${family.name} model takes ${family.inputs.map((i) => i.name).join(', ')} besides x; the report measures models without extra inputs`,
    );
  const g = new Graph('gradients');
  const dt = cfg.dtype;
  const x = g.input('x', dt, ['batch', inputSize(cfg)]);
  const eps = g.input('eps', dt, [samples, 'batch', family.noise.width]);
  const p = ParamBinder.inputs(dt);
  let loss: Value;
  let rewardMean: Value | undefined;
  const plain = { ...cfg, freeBits: 0 };
  const elboCfg: VaeConfig = { ...plain, objective: cfg.objective === 'iwae' ? 'kl' : cfg.objective };
  if (bound === 'iwae') {
    if (choice.estimator === 'reparam') {
      const t = elboTerms(g, p, plain, family, x, eps, {}, { form: 'kl', reparameterized: true });
      loss = g.Neg(g.ReduceMean(g.Sub(g.ReduceLogSumExp(t.logw, [0], false), Math.log(samples))));
    } else {
      const movingAverage = choice.baseline === 'moving-average' ? g.input(GRADIENT_GRAPH_BASELINE, dt, [1]) : undefined;
      const o = iwaeScoreObjective(g, p, plain, family, x, eps, {}, choice.baseline as 'none' | 'moving-average' | 'vimco', movingAverage);
      loss = o.loss;
      rewardMean = o.lhatMean;
    }
  } else if (choice.estimator === 'reparam') {
    const form = cfg.objective === 'entropy' ? 'entropy' : 'kl';
    const t = elboTerms(g, p, plain, family, x, eps, {}, { form, reparameterized: true });
    loss = g.Sub(g.ReduceMean(t.kl), g.ReduceMean(t.rec));
  } else if (choice.baseline === 'nvil') {
    // NVIL without its variance normalization (a step size): b_ψ(x) and the centering c (input `baseline`).
    const center = g.input(GRADIENT_GRAPH_BASELINE, dt, [1]);
    const o = nvilObjective(g, p, elboCfg, family, x, eps, {}, { center, freeBits: false });
    loss = o.loss;
    rewardMean = o.residualMean;
  } else {
    const movingAverage = choice.baseline === 'moving-average' ? g.input(GRADIENT_GRAPH_BASELINE, dt, [1]) : undefined;
    const o = scoreObjective(g, p, elboCfg, family, x, eps, {}, { baseline: choice.baseline, movingAverage, freeBits: false });
    loss = o.loss;
    rewardMean = o.rewardMean;
  }
  const params = p.specs.map((s) => p.value(s.name) as Value);
  const grads = gradients(g, loss, params);
  g.output(loss, 'loss');
  p.specs.forEach((s, i) => {
    g.output(grads[i], `${s.name}_grad`);
  });
  if (rewardMean) g.output(rewardMean, 'reward_mean');
  return g;
}

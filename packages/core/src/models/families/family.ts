/**
 * A latent family: what a VAE's latent variable is, as one object chosen once from the config (`latentFamily(cfg)`
 * in ./index.ts). In the spirit of Pyro's model/guide split it answers three groups of questions:
 *
 *   guide      encode x → q's parameters; sample z from noise ε (z, and whether it is reparameterized); log q(z|x);
 *              analytic entropy H(q) where there is one
 *   model      the prior's parameters (a learned prior builds its layers here); log p(z); analytic KL(q ‖ p) per
 *              latent dim where there is one; decode z → the likelihood's location per pixel
 *   bundle     the noise a graph's `eps` input takes, the extra per-example inputs (the label y of a conditional
 *              model), encoder.onnx's outputs, decoder.onnx's input and the prior a host draws it from, and q's free
 *              parameters for per-datapoint inference
 *
 * The bound (../bound.ts) and the gradient estimators (../estimators.ts) are written once against this interface:
 * the pathwise (reparameterization) estimator needs `reparameterizable`, the score function needs only log q.
 * Graph builders (../graphs.ts) never ask which family they hold.
 */
import type { Graph, Value } from '../../ir/graph.js';
import type { ParamBinder } from '../../nn/params.js';

/** A per-example input a family adds to every graph of the bundle, shaped [batch, width] (e.g. the label y). */
export interface FamilyInput {
  /** The graph input's name ('y'). */
  name: string;
  width: number;
  /** What the host feeds: one-hot rows of integer labels, or a tensor of features (a structured-output condition). */
  kind: 'one-hot' | 'tensor';
}

/** The values of a family's extra inputs in one graph, by name: `{ y }` for a conditional model, `{}` otherwise. */
export type Conditions = Readonly<Record<string, Value>>;

/** The noise a graph's `eps` input takes, [M, batch, width] values drawn by the host PRNG (graphs draw none). */
export interface NoiseSpec {
  width: number;
  distribution: 'normal' | 'uniform';
}

/** A discrete model's prior, as the Sampler draws from it: Bernoulli(½) bits, or uniform one-hot groups of K. */
export type DiscretePrior = { type: 'bernoulli' } | { type: 'categorical'; categories: number };

/** decoder.onnx's input z [batch, width], and the prior a host draws it from: N(0, I) unless `discrete` says so. */
export interface DecoderInput {
  width: number;
  discrete?: DiscretePrior;
}

/**
 * q's parameters as free per-example tensors [batch, width] (per-datapoint inference optimizes them directly): graph
 * inputs `q.<name>` in this order, and the posterior they make.
 */
export interface FreePosterior<Q> {
  names: readonly string[];
  width: number;
  posterior(values: readonly Value[]): Q;
}

/** A draw of z from q, [M, batch, W] for noise ε [M, batch, W]. Families may carry more (a second layer's z). */
export interface LatentSample {
  /** What the decoder takes. */
  z: Value;
  /** The noise it was drawn from. */
  eps: Value;
  /** true: z is a differentiable function of q's parameters and ε; false: z is a constant for autodiff. */
  reparameterized: boolean;
}

/**
 * Q: q's parameters as graph values; S: a sample; P: the prior's parameters (undefined for a fixed prior).
 * Shapes: x [batch, D], ε and z [M, batch, W]; log-densities [M, batch]; KL per dim [batch, L]; entropy [batch].
 */
export interface LatentFamily<Q = unknown, S extends LatentSample = LatentSample, P = unknown> {
  /** Short name for errors and reports: 'gaussian', 'conditional', 'bernoulli', 'categorical'. */
  readonly name: string;
  readonly noise: NoiseSpec;
  /** Whether sample() can reparameterize, so pathwise gradients exist; the default estimator follows from it. */
  readonly reparameterizable: boolean;
  /** Extra per-example inputs of every graph, after x (and eps): e.g. the one-hot label y. */
  readonly inputs: readonly FamilyInput[];
  readonly decoderInput: DecoderInput;
  /** Present when q's parameters can be free tensors (per-datapoint inference, test-time refinement). */
  readonly freePosterior?: FreePosterior<Q>;

  /** q(z|x[, conditions]): its parameters. Builds the encoder's layers (scope 'encoder'). */
  encode(g: Graph, p: ParamBinder, x: Value, cond: Conditions): Q;
  /** z from the noise; `reparameterized` false (or a family that cannot) makes z a constant for the score function. */
  sample(g: Graph, p: ParamBinder, q: Q, eps: Value, reparameterized: boolean): S;
  /** log q(z|x) of the sample, [M, batch]; differentiable in q's parameters. */
  logQ(g: Graph, q: Q, s: S): Value;
  /** Analytic H(q), [batch]; absent: the entropy form estimates it as −E_q[log q]. */
  entropy?(g: Graph, q: Q): Value;
  /** encoder.onnx's outputs by name, in order (mu and logvar at least: the Refiner and hosts read them). */
  encoderOutputs(g: Graph, q: Q): Record<string, Value>;

  /** The prior's parameters; a learned prior builds its layers here (after the likelihood's). */
  prior(g: Graph, p: ParamBinder, s: S, cond: Conditions): P;
  /** log p(z[|conditions]) of the sample, [M, batch]. */
  logPrior(g: Graph, s: S, prior: P): Value;
  /** Analytic KL(q ‖ p) per latent dim, [batch, L]; absent: the KL form estimates it as E_q[log q − log p]. */
  klPerDim?(g: Graph, q: Q, prior: P): Value;
  /** z [..., batch, W] (and the conditions) → the likelihood's location per pixel, [..., batch, D] (scope 'decoder'). */
  decode(g: Graph, p: ParamBinder, z: Value, cond: Conditions): Value;
  /**
   * decoder.onnx's computation: a prior draw [batch, decoderInput.width] (what a host's Sampler draws) → the
   * likelihood's location. Absent: decode, for families whose decoder input is z itself. A family whose prior
   * is a network (p(z₁|z₂), or p(z|c) of a structured-output model) maps its top-level draw through it here.
   */
  generate?(g: Graph, p: ParamBinder, draw: Value, cond: Conditions): Value;

  /**
   * Conditions computed from the example itself, added to `cond` wherever the bound is built (a structured-output
   * model's observed part c = x ⊙ m: the graphs take only x, and the host feeds nothing more).
   */
  derive?(g: Graph, x: Value): Conditions;
  /** Per-feature weights [D] of log p(x|z) (1: modeled, 0: given): a structured-output model models only y. */
  likelihoodMask?(g: Graph): Value;
  /** Extra inputs of decoder.onnx only, after z (a structured-output model's observed part c [batch, D]). */
  readonly decoderInputs?: readonly FamilyInput[];
  /** decoder.onnx's output from the decoder mean: e.g. the observed pixels put back (completions). */
  compose?(g: Graph, mean: Value, cond: Conditions): Value;
  /**
   * A second objective mixed into the pathwise train step's loss: loss = weight · (the bound's loss) + extra, with
   * `extra` a scalar already weighted; `cond` includes the derived conditions. The structured-output hybrid uses it:
   * α·(−L_CVAE) + (1 − α)·(−L_GSNN) (Sohn et al. 2015, eq. 9). The metrics stay the bound's.
   */
  mixedLoss?(g: Graph, p: ParamBinder, x: Value, eps: Value, cond: Conditions): { weight: number; extra: Value };
}

/** A condition by name, with an error that says which input the model needs. */
export function conditionValue(cond: Conditions, input: FamilyInput, family: string): Value {
  const v = cond[input.name];
  if (!v) throw new Error(`a ${family} model needs the input ${input.name} [batch, ${input.width}] (${input.kind}) in every graph`);
  return v;
}

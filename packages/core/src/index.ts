/**
 * @onnxvae/core: build ONNX graphs in TypeScript, differentiate them, and run them on any ONNX Runtime. This index is
 * the public API: the graph builder and autodiff, models and their config, the bundle format, the session wrappers
 * (Trainer, Evaluator, Sampler, Refiner, fit) and the errors they throw. Everything else is internal
 * (`@onnxvae/core/internal`, for the hosts and tests; it may change).
 *
 * @example
 * const g = new Graph('mlp');
 * const x = g.input('x', 'float32', ['batch', 3]);
 * const w = g.initializer('w', tensorData('float32', [3, 2]));
 * const loss = g.ReduceSum(g.Tanh(g.MatMul(x, w)));
 * const [dw] = gradients(g, loss, [w]);
 * g.output(loss, 'loss'); g.output(dw);
 * const bytes = serializeModel(g);
 */

// Registers every op and installs the builder methods on Graph.
import './ops/builder.js';

// The bundle: manifest, ONNX files, safetensors checkpoint.
export {
  BUNDLE_FILES,
  type Bundle,
  type BundleFile,
  type BundleOptions,
  createBundle,
  type DeployInfo,
  initialState,
  type LoadedBundle,
  loadBundle,
  type Manifest,
  type ModelState,
  parseManifest,
  verifyFile,
  withFloat16Weights,
} from './artifacts/bundle.js';
export { decodeSafetensors, encodeSafetensors, SafetensorsError, type SafetensorsFile } from './artifacts/safetensors.js';
export { sha256Hex } from './artifacts/sha256.js';
export { GradientError, type GradientOptions, gradients } from './autodiff/gradients.js';
// Errors by kind: catch "bad model file" (FormatError), "bad bundle", "bad feed", "graph/shape error" by type.
export { BundleError, FeedError, FormatError, GraphError, OnnxvaeError } from './errors.js';
// Pictures: image sizes and the one tiler behind PNG grids and canvases.
export { imageDims } from './image/dims.js';
export { type TiledImages, type TileOptions, tileImages, unitToByte } from './image/tile.js';
// The graph builder (g.MatMul(…), g.Slice(…): one method per op, installed by ops/builder.ts), ONNX in and out.
export type { DType } from './ir/dtype.js';
export { FLOAT16_MAX, fromFloat16, toFloat16 } from './ir/float16.js';
export { Graph, type Node, type Operand, Value } from './ir/graph.js';
export { ModelParseError, type ParsedModel, parseModel, type SerializeOptions, serializeModel } from './ir/serialize.js';
export { type Dim, formatShape, type Shape, ShapeError } from './ir/shape.js';
export { type TensorData, tensorData } from './ir/tensor.js';
export { type ElboTerms, elboTerms } from './models/bound.js';
// Models: the config, the latent families, and the bundle's graphs.
export {
  type ConditionalConfig,
  type HierarchicalConfig,
  inputSize,
  type Likelihood,
  type Objective,
  REFERENCE_VAE,
  resolveConfig,
  type StructuredConfig,
  type VaeConfig,
  type VaeConfigInput,
} from './models/config.js';
export { type LatentFamily, latentFamily, OBSERVED_PARTS, observedMask } from './models/families/index.js';
export {
  buildDecoder,
  buildEncoder,
  buildEval,
  buildTrainStep,
  type DeployGraphOptions,
  optimizerStateSpecs,
  parameterSpecs,
  type TrainStepOptions,
} from './models/graphs.js';
// Layers and optimizers as graph fragments.
export { type Activation, conv2d, convTranspose2d, linear, mlp } from './nn/layers.js';
export { ParamBinder, type ParamSpec } from './nn/params.js';
export type { BuilderMethods } from './ops/builder.js';
export type { ConvAttrs } from './ops/conv.js';
export type { ConvTransposeAttrs } from './ops/conv-transpose.js';
export type { OptimizerConfig } from './optim/optimizer.js';
// Randomness: the seeded PRNG every noise draw comes from.
export { Prng, type PrngState } from './random/prng.js';
export { type EvalOptions, type EvalResult, Evaluator } from './runtime/evaluator.js';
export { type BatchSource, type EpochSummary, type FitBatch, type FitOptions, type FitResult, fit } from './runtime/fit.js';
export { measureGradientVariance, type VarianceReport } from './runtime/gradient-variance.js';
export { checkpointParams, type OpenSamplerOptions, openSampler, type SamplerBundle } from './runtime/open-sampler.js';
export {
  type BoundResult,
  type GapMeasurement,
  measureAmortizationGap,
  Refiner,
  type RefinerOptions,
} from './runtime/refiner.js';
// Running: one Runtime seam (node and web implement it) and the wrappers over its sessions.
export type { OrtModule, Runtime, SessionFactory, SessionHost, SessionOptions } from './runtime/runtime.js';
export { Sampler, type SamplerOptions } from './runtime/sampler.js';
export { type StepMetrics, Trainer, type TrainerOptions, TrainingDivergedError } from './runtime/trainer.js';

/**
 * @onnxvae/core's internal entry point (`@onnxvae/core/internal`): every module's exports, for the hosts (node, web),
 * tests and tools that build on the pieces below the public API (graph signatures, tensor helpers, model internals).
 * Nothing here is promised to stay; the public API is ./index.ts.
 */
export * from './artifacts/bundle.js';
export * from './artifacts/safetensors.js';
export * from './artifacts/sha256.js';
export * from './autodiff/gradients.js';
export * from './errors.js';
export * from './image/dims.js';
export * from './image/tile.js';
export * from './ir/dtype.js';
export * from './ir/graph.js';
export * from './ir/op-registry.js';
export * from './ir/op-schema.js';
export * from './ir/serialize.js';
export * from './ir/shape.js';
export * from './ir/tensor.js';
export * from './models/bound.js';
export * from './models/conditional.js';
export * from './models/config.js';
export * from './models/discrete.js';
export * from './models/distributions.js';
export * from './models/estimators.js';
export * from './models/families/index.js';
export * from './models/gradient-variance.js';
export * from './models/graphs.js';
export * from './models/per-datapoint.js';
export * from './models/score-function.js';
export * from './models/vae.js';
export * from './nn/layers.js';
export * from './nn/params.js';
// The op builder: registers the ops and gives Graph its methods g.MatMul(…), g.Slice(…), …
export * from './ops/builder.js';
export * from './optim/optimizer.js';
export * from './random/prng.js';
export * from './runtime/evaluator.js';
export * from './runtime/fit.js';
export * from './runtime/gradient-variance.js';
export * from './runtime/open-sampler.js';
export * from './runtime/refiner.js';
export * from './runtime/runtime.js';
export * from './runtime/sampler.js';
export * from './runtime/tensors.js';
export * from './runtime/trainer.js';

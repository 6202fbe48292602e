/**
 * @onnxvae/core: build ONNX graphs in TypeScript, differentiate them, and run them on any ONNX Runtime.
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
export * from './runtime/session.js';
export * from './runtime/tensors.js';
export * from './runtime/trainer.js';

/**
 * @onnxvae/node: train and use onnxvae models with onnxruntime-node (CPU, CUDA, WebGPU).
 *
 * @example
 * import { train } from '@onnxvae/node';
 * await train({ data: 'mnist', epochs: 10, batch: 128, lr: 1e-3, provider: 'cpu', seed: 0, out: 'runs/mnist' });
 */

export * from './bundle-io.js';
export { main as cli } from './cli.js';
export * from './conditional.js';
export * from './config-file.js';
export * from './data/batches.js';
export * from './data/dataset.js';
export * from './data/idx.js';
export * from './data/npy.js';
export * from './data/source.js';
export * from './gap.js';
export * from './report/png.js';
export * from './report/progress.js';
export * from './report/report.js';
export * from './session.js';
export * from './train.js';

/**
 * @onnxvae/web: deploy and fine-tune onnxvae models in the browser with onnxruntime-web (WebGPU, WASM).
 *
 * @example
 * import { createWebRuntime, WebModel, drawImages } from '@onnxvae/web';
 * const rt = await createWebRuntime();                 // says which provider runs in rt.provider / rt.notes
 * const model = await WebModel.load(rt, '/models/mnist');
 * const { x } = await model.sampler.sample(16);
 * drawImages(document.querySelector('canvas')!, x, 16, 28, 28, 4);
 */

export * from './conditional.js';
export * from './draw.js';
export * from './load.js';
export * from './model.js';
export * from './session.js';

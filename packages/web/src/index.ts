/** @onnxvae/web: deploy and fine-tune onnxvae models in the browser with onnxruntime-web. */
export * from './conditional.js';
export * from './session.js';

/** @onnxvae/web: deploy and fine-tune onnxvae models in the browser with onnxruntime-web. */
export * from './session.js';

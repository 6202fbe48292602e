/** Older home of the seam's types and tensor helpers: see runtime.ts and tensors.ts. */
export type { OrtModule, SessionFactory } from './runtime.js';
export { fromOrtTensor, toOrtTensor } from './tensors.js';

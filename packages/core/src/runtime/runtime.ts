/**
 * The seam between core and a host: what core needs from an ONNX Runtime package and from the host that picked its
 * execution provider. @onnxvae/node (onnxruntime-node: cpu, cuda, webgpu) and @onnxvae/web (onnxruntime-web:
 * webgpu, wasm) each implement `Runtime`; everything core runs (Trainer, Evaluator, Sampler, fit, openSampler) takes
 * one, so a bundle behaves the same on every host.
 */
import type { InferenceSession, TensorConstructor } from 'onnxruntime-common';

/**
 * What core needs from an ONNX Runtime package: onnxruntime-node and onnxruntime-web both satisfy it
 * (`import * as ort from 'onnxruntime-node'`), so core's wrappers run on either.
 */
export interface OrtModule {
  InferenceSession: { create(buffer: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: TensorConstructor;
}

/** What a caller may ask of a session beyond the host's provider and defaults. */
export interface SessionOptions {
  /**
   * Outputs to leave on the device between runs where the provider can (WebGPU: gpu-buffer tensors, fed back as
   * inputs without a host copy); the CPU and WASM providers ignore it.
   */
  outputsOnDevice?: readonly string[];
}

/** Makes a session from model bytes (`name` is for errors); node and web supply one with their providers and options. */
export type SessionFactory = (model: Uint8Array, name: string, options?: SessionOptions) => Promise<InferenceSession>;

/**
 * An ONNX Runtime package with a chosen execution provider: its module (tensors), a session factory, the provider
 * that runs, and why it was chosen (one note per provider tried).
 *
 * @example
 * const rt: Runtime = await createNodeRuntime({ provider: 'cpu' }); // or createWebRuntime() in a browser
 * const sampler = await openSampler(rt, bundle);
 */
export interface Runtime<P extends string = string> {
  readonly provider: P;
  /** Why each provider was chosen or skipped, in the order tried. */
  readonly notes: string[];
  readonly ort: OrtModule;
  readonly createSession: SessionFactory;
}

/** The part of a Runtime that opens and feeds sessions (enough for openSampler; tests can pass a bare module). */
export type SessionHost = Pick<Runtime, 'ort' | 'createSession'>;

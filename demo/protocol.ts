/**
 * The messages between the demo page (demo/main.ts, the DOM only) and its module worker (demo/worker.ts, all of
 * onnxruntime-web). The page sends `{ id, type, args }`; the worker answers `{ id, ok: true, result }` (its
 * Float32Arrays transferred, not copied) or `{ id, ok: false, error }`, and sends events (no id) on the way.
 */

export interface InitArgs {
  prefer: 'webgpu' | 'wasm' | 'auto';
  modelUrl: string;
  /** The 2-D model for the latent map; default: the model itself when it is 2-D, else /models/mnist-2d. */
  mapUrl?: string;
  /** Seed of the samples' random stream. */
  seed: number;
  /** A conditional model's class for the sliders and window.__demo.decode. */
  sliderLabel?: number;
}

export interface InitResult {
  latent: number;
  classes?: number;
  imageSize: [number, number];
  /** How decoder.onnx stores its weights ('float16' for an `export --fp16` bundle). */
  weights: string;
  /** WASM threads onnxruntime-web runs with (ort.env.wasm.numThreads after it started). */
  threads: number;
  /** Whether the worker is cross-origin isolated (SharedArrayBuffer, so WASM threads, available). */
  isolated: boolean;
  /** The labels of the 200 digits the worker holds (interpolation endpoints, fine-tuning). */
  digitLabels: number[];
  mapUrl: string;
}

/** Request type → [arguments, result]. */
export interface Api {
  init: [InitArgs, InitResult];
  /** n prior samples at a temperature (a conditional model: one label per sample). */
  sample: [{ n: number; temperature: number; labels?: number[] }, { z: Float32Array; x: Float32Array }];
  decode: [{ z: Float32Array; n: number; label?: number }, { x: Float32Array }];
  /**
   * One drawn image: the posterior mean μ and spread σ = exp(logvar / 2), the decode of μ, and the `k` of a fixed
   * bank of prior samples whose z is nearest to μ (Euclidean), nearest first.
   */
  encode: [
    { x: Float32Array; label?: number; k: number },
    {
      mu: Float32Array;
      sigma: Float32Array;
      recon: Float32Array;
      nearest: number[];
      distances: number[];
      nearestX: Float32Array;
      bank: number;
    },
  ];
  /** Interpolation (slerp, 10 steps) between the encodings of digits a and b of the worker's digit set. */
  interpolate: [{ a: number; b: number }, { x: Float32Array }];
  /** A G×G grid over [−2.5, 2.5]² decoded with the 2-D model. */
  map: [{ G: number }, { x: Float32Array; h: number; w: number }];
  /** 20 fine-tuning steps in the worker (progress as 'step' events), then decode with the fine-tuned weights. */
  finetune: [{ only: string }, { paramLocation?: string; msPerStep: number; provider: string }];
  /**
   * Loads the image-completion model (a structured-output CVAE: config `structured: {observed}`) from `url`, and warms
   * it up. `mask` (h × w): 1 where a pixel is observed (given), 0 where the model fills it in.
   */
  completeInit: [{ url: string }, { observed: string; mask: Float32Array; imageSize: [number, number]; latent: number }];
  /** `samples` completions of one image c (h × w; only its observed pixels are used), from the draws of `seed`. */
  complete: [{ c: Float32Array; samples: number; seed: number }, { x: Float32Array; samples: number }];
}

export type RequestType = keyof Api;

export type Request = { [K in RequestType]: { id: number; type: K; args: Api[K][0] } }[RequestType];

export type WorkerEvent =
  | { event: 'runtime'; provider: string; notes: string[]; fallbackError?: string }
  | { event: 'progress'; text: string }
  | { event: 'step'; step: number; of: number; loss: number; msPerStep: number; provider: string }
  | { event: 'ft-status'; text: string };

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export type WorkerMessage = Reply | WorkerEvent;

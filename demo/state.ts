/** What the demo page exposes on window.__demo: its progress and results, read by the browser tests. */
export interface DemoState {
  ready: boolean;
  error?: string;
  provider?: string;
  notes?: string[];
  latent?: number;
  /** A conditional model's classes (undefined for a plain one). */
  classes?: number;
  /** The labels the samples were drawn for (a conditional model: one class per position). */
  sampleLabels?: number[];
  sampleZ?: number[];
  samplePixels?: number[];
  /** The temperature the drawn samples were drawn at. */
  sampleTemperature?: number;
  /** The latent vector the slider canvas shows. */
  sliderZ?: number[];
  /** UI jobs (sliders, buttons) requested and not yet settled, dropped ones included. */
  pending: number;
  losses: number[];
  finetuneDone: boolean;
  /** Where the fine-tuned weights live between steps: 'gpu-buffer' on WebGPU, 'cpu' on WASM. */
  paramLocation?: string;
  /** True once samples, sliders and interpolation decode with the fine-tuned weights. */
  tuned?: boolean;
  /** Mean wall time of a fine-tuning step so far (batch of 50, or 20 for one class). */
  msPerStep?: number;
  mapReady: boolean;
  /** Decodes z (n × latent) with the current weights, in the worker. */
  decode?: (z: number[], n: number) => Promise<number[]>;
  /** True: onnxruntime-web runs in the page's module worker (demo/worker.ts), never on the main thread. */
  worker?: boolean;
  /** WASM threads onnxruntime-web runs with (1 unless the page is cross-origin isolated). */
  threads?: number;
  /** Whether the page is cross-origin isolated (SharedArrayBuffer, so WASM threads). */
  isolated?: boolean;
  /** The 28 × 28 drawing (values in [0, 1]) that the encoding below was computed from. */
  drawnPixels?: number[];
  /** The label the drawing was encoded with (a conditional model). */
  drawnLabel?: number;
  /** The encoder's posterior mean μ and spread σ = exp(logvar / 2) for the drawing. */
  encodedMu?: number[];
  encodedSigma?: number[];
  /** The decode of μ. */
  reconstructionPixels?: number[];
  /** The 8 of 256 fixed prior samples whose z is nearest to μ (Euclidean), nearest first, and their distances. */
  nearestIndices?: number[];
  nearestDistances?: number[];
  /** True once the image-completion model (`?complete=`, default /models/mnist-complete) is loaded and warmed up. */
  completeReady?: boolean;
  /** Why the completion model did not load (the panel says so; the rest of the demo works). */
  completeError?: string;
  /** The image the completions were computed from: the observed part (the top half) as drawn, 0 elsewhere. */
  completionInput?: number[];
  /** The completions of completionInput, 8 × 784 values, image after image. */
  completionPixels?: number[];
  /** The seed of the standard-normal draws z behind completionPixels (sampler.complete's `seed`). */
  completionSeed?: number;
}

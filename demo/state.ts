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
  decode?: (z: number[], n: number) => Promise<number[]>;
}

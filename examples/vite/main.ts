/**
 * Samples from a VAE bundle in the browser: @onnxvae/web picks WebGPU or WASM, loads the bundle's decoder (checked
 * against its manifest) and draws 16 samples. The bundle is served at ./model/ (copy one there, see README.md) or at
 * the URL in ?model=…; ?provider=wasm|webgpu forces a provider, ?threads=N sets the WASM threads (default: onnxruntime's).
 */
import { createWebRuntime, drawImages, WebModel, type WebProvider } from '@onnxvae/web';

/** What the page did, for people (the status line) and for automated checks (window.onnxvaeExample). */
interface ExampleResult {
  provider?: WebProvider;
  notes?: string[];
  crossOriginIsolated?: boolean;
  /** onnxruntime-web's WASM threads setting after the sessions started (0 before: its default). */
  numThreads?: number;
  latent?: number;
  /** The latent vectors sampled and the decoder means drawn: n × latent and n × pixels values. */
  z?: number[];
  x?: number[];
  error?: string;
}

declare global {
  interface Window {
    onnxvaeExample?: ExampleResult;
  }
}

const params = new URLSearchParams(location.search);
const modelUrl = params.get('model') ?? new URL(`${import.meta.env.BASE_URL}model`, location.href).href;
const prefer = (params.get('provider') ?? 'auto') as WebProvider | 'auto';
const threads = params.get('threads');
const status = document.getElementById('status') as HTMLElement;

async function main(): Promise<ExampleResult> {
  const rt = await createWebRuntime({ prefer });
  // onnxruntime-web loads its WASM runtime (ort-wasm-simd-threaded.jsep.mjs + .wasm) from here: vite.config.ts
  // copies the two files into the build's ort/ folder and serves them at /ort/ in `vite dev`.
  rt.ort.env.wasm.wasmPaths = `${import.meta.env.BASE_URL}ort/`;
  // WASM runs multi-threaded only on a cross-origin isolated page: the COOP/COEP headers of vite.config.ts.
  if (threads !== null) rt.ort.env.wasm.numThreads = Number(threads);
  const model = await WebModel.load(rt, modelUrl);
  const [h, w] = model.imageSize;
  const n = 16;
  const { z, x } = await model.sampler.sample(n, { temperature: 0.8, seed: 0 });
  drawImages(document.getElementById('samples') as HTMLCanvasElement, x, n, h, w, 8, 3);
  status.textContent = `${n} samples on ${rt.provider} (${crossOriginIsolated ? 'cross-origin isolated: WASM threads on' : 'not cross-origin isolated: one WASM thread'}). ${rt.notes.join('; ')}`;
  return {
    provider: rt.provider,
    notes: rt.notes,
    crossOriginIsolated,
    numThreads: rt.ort.env.wasm.numThreads,
    latent: model.latent,
    z: Array.from(z),
    x: Array.from(x),
  };
}

main().then(
  (r) => {
    window.onnxvaeExample = r;
  },
  (e: Error) => {
    status.textContent = 'failed';
    (document.getElementById('error') as HTMLElement).textContent = e.message;
    window.onnxvaeExample = { error: e.message };
  },
);

/**
 * Fetching models over the network: progress, clear errors naming the URL and status, and integrity checks
 * (size and sha256) against the bundle's manifest before any byte reaches ONNX Runtime.
 */
import { type BundleFile, type LoadedBundle, loadBundle, type Manifest, parseManifest, sha256Hex, verifyFile } from '@onnxvae/core';

export interface FetchProgress {
  file: string;
  loaded: number;
  /** Bytes expected (from the manifest or Content-Length); 0 when unknown. */
  total: number;
}

export type ProgressCallback = (p: FetchProgress) => void;

export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

/** GETs a URL as bytes, reporting progress while the body streams in. */
export async function fetchBytes(url: string, onProgress?: ProgressCallback, expected = 0): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new ModelLoadError(`cannot fetch ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new ModelLoadError(`cannot fetch ${url}: HTTP ${res.status} ${res.statusText}`.trim());
  const total = expected || Number(res.headers.get('content-length') ?? 0);
  const file = url.split('/').pop() ?? url;
  if (!res.body) {
    const b = new Uint8Array(await res.arrayBuffer());
    onProgress?.({ file, loaded: b.length, total: total || b.length });
    return b;
  }
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.length;
    onProgress?.({ file, loaded, total });
  }
  const out = new Uint8Array(loaded);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function join(base: string, file: string): string {
  return `${base.replace(/\/+$/, '')}/${file}`;
}

/** Reads and checks manifest.json of a bundle folder served at baseUrl. */
export async function fetchManifest(baseUrl: string): Promise<Manifest> {
  const url = join(baseUrl, 'manifest.json');
  const bytes = await fetchBytes(url);
  try {
    return parseManifest(new TextDecoder().decode(bytes), url);
  } catch (e) {
    throw new ModelLoadError((e as Error).message);
  }
}

/** Fetches one bundle file and checks its size and sha256 against the manifest. */
export async function fetchVerified(
  baseUrl: string,
  manifest: Manifest,
  file: BundleFile,
  onProgress?: ProgressCallback,
): Promise<Uint8Array> {
  const url = join(baseUrl, file);
  const bytes = await fetchBytes(url, onProgress, manifest.files[file]?.bytes ?? 0);
  try {
    await verifyFile(manifest, file, bytes);
  } catch (e) {
    throw new ModelLoadError(`${url}: ${(e as Error).message.replace(`${file}: `, '')}`);
  }
  return bytes;
}

/** The whole bundle (for fine-tuning): every file verified, the checkpoint decoded and checked. */
export async function fetchBundle(baseUrl: string, onProgress?: ProgressCallback): Promise<LoadedBundle> {
  const manifest = await fetchManifest(baseUrl);
  try {
    return await loadBundle(
      async (f) =>
        f === 'manifest.json'
          ? new TextEncoder().encode(JSON.stringify(manifest))
          : fetchVerified(baseUrl, manifest, f as BundleFile, onProgress),
      baseUrl,
    );
  } catch (e) {
    throw e instanceof ModelLoadError ? e : new ModelLoadError((e as Error).message);
  }
}

/**
 * A single decoder.onnx from anywhere, checked against a known sha256 when given (e.g. from a manifest you trust).
 */
export async function fetchDecoder(url: string, opts: { sha256?: string; onProgress?: ProgressCallback } = {}): Promise<Uint8Array> {
  const bytes = await fetchBytes(url, opts.onProgress);
  if (opts.sha256) {
    const h = await sha256Hex(bytes);
    if (h !== opts.sha256) throw new ModelLoadError(`${url}: sha256 ${h} does not match the expected ${opts.sha256}`);
  }
  return bytes;
}

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

/**
 * The most manifest.json may be. The committed bundles' manifests are ~26 KB (tensor names and shapes, config,
 * metrics per epoch); 8 MiB is ~300× that, room for thousands of tensors and epochs, yet small enough that parsing
 * it cannot stall or bloat a tab (a hostile server could otherwise stream an endless "manifest").
 */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

/** The default cap for a file of unknown size: 2 GiB is protobuf's limit, so no bigger .onnx can load anyway. */
export const MAX_UNKNOWN_FILE_BYTES = 2 ** 31;

export interface FetchLimits {
  /** Stop reading (and throw) once the body is longer than this. Default: `expected`, or 2 GiB when that is 0. */
  maxBytes?: number;
  /** Where the cap comes from, for the error: e.g. "the manifest declares". */
  limitSource?: string;
  /** Refuse a redirect to another origin than the URL's (default true). */
  sameOrigin?: boolean;
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url, (globalThis as { location?: { href: string } }).location?.href).origin;
  } catch {
    return undefined;
  }
}

/**
 * GETs a URL as bytes, reporting progress while the body streams in. Reads at most `maxBytes` (the declared size
 * `expected` by default): a longer or endless body is cancelled and a ModelLoadError names the URL and both sizes.
 * A redirect to another origin is refused: a bundle's files come from where its manifest came from.
 */
export async function fetchBytes(url: string, onProgress?: ProgressCallback, expected = 0, limits: FetchLimits = {}): Promise<Uint8Array> {
  const max = limits.maxBytes ?? (expected > 0 ? expected : MAX_UNKNOWN_FILE_BYTES);
  const limitSource = limits.limitSource ?? (limits.maxBytes === undefined && expected > 0 ? 'expected' : 'the limit is');
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (e) {
    throw new ModelLoadError(`cannot fetch ${url}: ${(e as Error).message}`);
  }
  const from = originOf(url);
  if ((limits.sameOrigin ?? true) && res.redirected && from !== undefined && originOf(res.url) !== from) {
    await res.body?.cancel().catch(() => undefined);
    throw new ModelLoadError(
      `cannot fetch ${url}: the server redirected to ${res.url}, another origin; a bundle's files must come from ${from}, ` +
        'the origin of its manifest (copy the files there, or load the bundle from the other origin directly)',
    );
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new ModelLoadError(`cannot fetch ${url}: HTTP ${res.status} ${res.statusText}`.trim());
  }
  const tooLong = (received: string) =>
    new ModelLoadError(`${url}: ${limitSource} ${max} bytes, but the server sent ${received}; stopped reading (wrong or hostile server?)`);
  const announced = Number(res.headers.get('content-length') ?? 0);
  if (announced > max) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLong(`Content-Length ${announced}`);
  }
  const total = expected || announced;
  const file = url.split('/').pop() ?? url;
  if (!res.body) {
    const b = new Uint8Array(await res.arrayBuffer());
    if (b.length > max) throw tooLong(`${b.length} bytes`);
    onProgress?.({ file, loaded: b.length, total: total || b.length });
    return b;
  }
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    loaded += value.length;
    if (loaded > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLong(`at least ${loaded} bytes`);
    }
    parts.push(value);
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
  const bytes = await fetchBytes(url, undefined, 0, { maxBytes: MAX_MANIFEST_BYTES, limitSource: 'manifest.json is capped at' });
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
  const declared = manifest.files[file]?.bytes;
  if (declared === undefined) throw new ModelLoadError(`${url}: ${file} is not listed in the manifest`);
  const bytes = await fetchBytes(url, onProgress, declared, { maxBytes: declared, limitSource: 'the manifest declares' });
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
export async function fetchDecoder(
  url: string,
  opts: { sha256?: string; onProgress?: ProgressCallback; maxBytes?: number } = {},
): Promise<Uint8Array> {
  const bytes = await fetchBytes(url, opts.onProgress, 0, { maxBytes: opts.maxBytes });
  if (opts.sha256) {
    const h = await sha256Hex(bytes);
    if (h !== opts.sha256) throw new ModelLoadError(`${url}: sha256 ${h} does not match the expected ${opts.sha256}`);
  }
  return bytes;
}

/**
 * The `--config model.json` file: a partial model config merged over the reference model. Checked here for what JSON
 * can get wrong (not an object, misspelt fields, a string where a number goes); value ranges are checked by core's
 * resolveConfig.
 *
 * @example
 * // model.json: {"hidden": [512, 256], "latent": 32, "optimizer": {"clipNorm": 5}}
 * const partial = readConfigFile('model.json');
 */
import { readFileSync } from 'node:fs';
import { REFERENCE_VAE, type VaeConfig } from '@onnxvae/core';

export class ConfigFileError extends Error {
  override name = 'ConfigFileError';
}

/** Fields each nested object may hold (beyond the reference model's own, which are all allowed). */
const EXTRA_FIELDS: Readonly<Record<string, readonly string[]>> = {
  optimizer: ['clipNorm'],
  likelihood: ['variance', 'sigma'],
};

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function checkObject(value: unknown, reference: Record<string, unknown>, path: string, source: string): void {
  if (kind(value) !== 'object') throw new ConfigFileError(`${source}: ${path || 'the config'} must be a JSON object, got ${kind(value)}`);
  const allowed = [...Object.keys(reference), ...(EXTRA_FIELDS[path] ?? [])];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const at = path ? `${path}.${k}` : k;
    if (!allowed.includes(k)) throw new ConfigFileError(`${source}: unknown field '${at}' (known fields: ${allowed.join(', ')})`);
    const ref = reference[k];
    const want = ref === undefined ? (k === 'variance' ? 'string' : 'number') : kind(ref);
    if (kind(v) !== want)
      throw new ConfigFileError(
        `${source}: '${at}' must be a${want === 'array' || want === 'object' ? 'n' : ''} ${want}, got ${JSON.stringify(v)}`,
      );
    if (want === 'object') checkObject(v, ref as Record<string, unknown>, at, source);
    if (want === 'array' && !(v as unknown[]).every((e) => typeof e === 'number')) {
      throw new ConfigFileError(`${source}: '${at}' must be an array of numbers, got ${JSON.stringify(v)}`);
    }
  }
}

/** Checks parsed JSON as a partial model config; `source` names the file in errors. */
export function parseConfigJson(value: unknown, source: string): Partial<VaeConfig> {
  checkObject(value, REFERENCE_VAE as unknown as Record<string, unknown>, '', source);
  return value as Partial<VaeConfig>;
}

/** Reads and checks a model config file. */
export function readConfigFile(path: string): Partial<VaeConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigFileError(`config file ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigFileError(`config file ${path}: not valid JSON (${(e as Error).message})`);
  }
  return parseConfigJson(value, `config file ${path}`);
}

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
import { parseUntrustedJson } from '@onnxvae/core/internal';

export class ConfigFileError extends Error {
  override name = 'ConfigFileError';
}

/** The JSON kind a field takes: a scalar, an array of numbers, or an object of fields. */
type Kind = 'number' | 'string' | 'boolean' | 'array' | { readonly [field: string]: Kind };

/** VaeConfig's optional fields, which the reference model leaves out. */
type OptionalField = { [K in keyof VaeConfig]-?: undefined extends VaeConfig[K] ? K : never }[keyof VaeConfig];

/** Kinds of the optional fields: typed so that a new optional VaeConfig field fails to compile until it is listed. */
const OPTIONAL_FIELDS: Readonly<Record<OptionalField, Kind>> = {
  conditional: { classes: 'number', prior: 'string' },
  hierarchical: { latent: 'number', hidden: 'array' },
  structured: { observed: 'string', model: 'string' },
  latentType: 'string',
  categories: 'number',
  relaxation: { temperature: 'number' },
  estimator: 'string',
  baseline: 'string',
  baselineDecay: 'number',
  inference: 'string',
  examples: 'number',
  refineSteps: 'number',
  refineLr: 'number',
};

/** Optional fields inside the reference model's nested objects. */
const NESTED_OPTIONAL: Readonly<Record<string, Record<string, Kind>>> = {
  optimizer: { clipNorm: 'number' },
  likelihood: { variance: 'string', sigma: 'number' },
};

/** Largest config file read: a complete config is under 1 kB, so anything near a megabyte is not one. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** A value quoted in a message, cut short (a hostile file can hold a megabyte-long array). */
const brief = (v: unknown): string => {
  const t = JSON.stringify(v) ?? String(v);
  return t.length > 100 ? `${t.slice(0, 100)}…` : t;
};

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** The kind of each field of a reference value (its own fields, recursively), plus `extra`. */
function spec(reference: Record<string, unknown>, extra: Record<string, Kind> = {}): Record<string, Kind> {
  const out: Record<string, Kind> = {};
  for (const [k, v] of Object.entries(reference)) {
    out[k] = kind(v) === 'object' ? spec(v as Record<string, unknown>, NESTED_OPTIONAL[k]) : (kind(v) as Kind);
  }
  return { ...out, ...extra };
}

const CONFIG_SPEC = spec(REFERENCE_VAE as unknown as Record<string, unknown>, OPTIONAL_FIELDS);

function check(value: unknown, want: Kind, at: string, source: string): void {
  if (typeof want === 'object') {
    if (kind(value) !== 'object') throw new ConfigFileError(`${source}: ${at || 'the config'} must be a JSON object, got ${kind(value)}`);
    const known = Object.keys(want);
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const path = at ? `${at}.${k}` : k;
      if (!Object.hasOwn(want, k)) {
        throw new ConfigFileError(
          `${source}: unknown field '${path.length > 100 ? `${path.slice(0, 100)}…` : path}' (known fields: ${known.join(', ')})`,
        );
      }
      check(v, want[k], path, source);
    }
    return;
  }
  if (kind(value) !== want) {
    throw new ConfigFileError(`${source}: '${at}' must be a${want === 'array' ? 'n' : ''} ${want}, got ${brief(value)}`);
  }
  if (want === 'array' && !(value as unknown[]).every((e) => typeof e === 'number')) {
    throw new ConfigFileError(`${source}: '${at}' must be an array of numbers, got ${brief(value)}`);
  }
}

/** Checks parsed JSON as a partial model config; `source` names the file in errors. */
export function parseConfigJson(value: unknown, source: string): Partial<VaeConfig> {
  check(value, CONFIG_SPEC, '', source);
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
  if (text.length > MAX_CONFIG_BYTES) {
    throw new ConfigFileError(`config file ${path}: ${text.length} characters, more than the ${MAX_CONFIG_BYTES} a model config may have`);
  }
  // Deep nesting and repeated fields ({"latent": 2, "latent": 3}) are refused before parsing.
  const value = parseUntrustedJson(text, (why) => {
    throw new ConfigFileError(`config file ${path}: ${why}`);
  });
  return parseConfigJson(value, `config file ${path}`);
}

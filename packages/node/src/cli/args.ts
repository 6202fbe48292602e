/**
 * The command line's vocabulary, shared by every command: the options node:util's parseArgs knows, the numeric
 * bounds (LIMITS), and the checks that turn a bad value into a usage error (exit 2) naming the option.
 */
import type { parseArgs } from 'node:util';
import { BINARIZATIONS, type Binarization } from '../data/binarize.js';
import type { ImageSize } from '../data/image-folder.js';
import { PROVIDERS, type ProviderChoice } from '../session.js';

/**
 * Upper bounds of the numeric options: each is far above any sensible run, and low enough that a typo (`--batch 1e7`,
 * `--epochs 1e9`) stops at once with exit 2 instead of allocating gigabytes or running for years.
 */
export const LIMITS = {
  epochs: 100_000,
  batch: 65_536,
  k: 100_000,
  n: 4096,
  steps: 100_000,
  'interpolate-steps': 1024,
  draws: 100_000,
  samples: 10_000,
  threads: 1024,
  fused: 1024,
  keep: 1000,
  port: 65_535,
} as const;

/** The --provider line of a command's help, with its default. */
export const PROVIDER_HELP = (def = 'auto') =>
  `  --provider P          auto|cpu|cuda|webgpu: auto tries CUDA, then a hardware WebGPU adapter, then the CPU  [${def}]`;

/** A bad command line: main prints the message and the command's usage, and exits with 2. */
export class UsageError extends Error {}

/** Every option of every command (each command reads the ones it takes). */
export const OPTIONS = {
  data: { type: 'string' },
  'test-data': { type: 'string' },
  labels: { type: 'string' },
  'test-labels': { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  provider: { type: 'string' },
  threads: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  config: { type: 'string' },
  resume: { type: 'boolean' },
  grayscale: { type: 'boolean' },
  binarize: { type: 'string' },
  size: { type: 'string' },
  channels: { type: 'string' },
  'eval-k': { type: 'string' },
  limit: { type: 'string' },
  'save-every': { type: 'string' },
  keep: { type: 'string' },
  fused: { type: 'string' },
  'kl-warmup': { type: 'string' },
  beta: { type: 'string' },
  k: { type: 'string' },
  json: { type: 'boolean' },
  fp16: { type: 'boolean' },
  n: { type: 'string' },
  temperature: { type: 'string' },
  steps: { type: 'string' },
  slerp: { type: 'boolean' },
  label: { type: 'string' },
  draws: { type: 'string' },
  samples: { type: 'string' },
  ui: { type: 'string' },
  task: { type: 'string' },
  observed: { type: 'string' },
  'completion-model': { type: 'string' },
  'hybrid-alpha': { type: 'string' },
  input: { type: 'string' },
  examples: { type: 'string' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

/** The parsed options. */
export type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

interface NumberRule {
  int?: boolean;
  /** The smallest allowed value. */
  min?: number;
  /** Values must be greater than this. */
  above?: number;
  /** The largest allowed value (see LIMITS). */
  max?: number;
}

/** What a rule allows, in words: 'a positive integer', 'a number ≥ 0', … */
function kind(r: NumberRule): string {
  if (r.int) {
    if (r.min === 1) return 'a positive integer';
    if (r.min === 0) return 'a non-negative integer';
    return r.min === undefined ? 'an integer' : `an integer ≥ ${r.min}`;
  }
  if (r.above !== undefined) return `a number > ${r.above}`;
  return r.min === undefined ? 'a number' : `a number ≥ ${r.min}`;
}

/** Parses a numeric option; a value outside its rule is a usage error (exit 2) naming the option, the value and the rule. */
export function num(v: string | undefined, name: string, def: number, r: NumberRule = {}): number {
  if (v === undefined) return def;
  const n = v.trim() === '' ? Number.NaN : Number(v);
  const got = `got '${v}'`;
  if (!Number.isFinite(n) || (r.int && !Number.isSafeInteger(n))) throw new UsageError(`--${name} must be ${kind(r)}, ${got}`);
  if (r.int && r.min !== undefined && n < r.min) throw new UsageError(`--${name} must be ${kind(r)}, ${got}`);
  if (!r.int && r.min !== undefined && n < r.min) throw new UsageError(`--${name} must be ≥ ${r.min}, ${got}`);
  if (r.above !== undefined && !(n > r.above)) throw new UsageError(`--${name} must be > ${r.above}, ${got}`);
  if (r.max !== undefined && n > r.max) throw new UsageError(`--${name} must be at most ${r.max}, ${got}`);
  return n;
}

/**
 * node:util's parseArgs reads `--epochs -1` as an option missing its value ("argument is ambiguous"). A token after a
 * string option that starts with '-' but is no option of ours (`-1`, `-1e-3`, `-x`) is that option's value: rewrite
 * the pair as `--epochs=-1`, so the number check can say what is wrong with it. `--out --resume` stays an error.
 */
export function joinDashValues(argv: string[]): string[] {
  const res: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      res.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    // --ui takes an optional port: `--ui 8080` is --ui=8080, a bare `--ui` (or one before another option) is --ui=.
    if (a === '--ui') {
      const port = next !== undefined && /^\d+$/.test(next);
      res.push(`--ui=${port ? next : ''}`);
      if (port) i++;
      continue;
    }
    const opt = a.startsWith('--') ? OPTIONS[a.slice(2) as keyof typeof OPTIONS] : undefined;
    if (opt?.type === 'string' && next !== undefined && next.startsWith('-') && !isOurOption(next)) {
      res.push(`${a}=${next}`);
      i++;
    } else res.push(a);
  }
  return res;
}

function isOurOption(token: string): boolean {
  if (token === '--') return true;
  if (token.startsWith('--')) return Object.hasOwn(OPTIONS, token.slice(2).split('=')[0]);
  return Object.values(OPTIONS).some((o) => 'short' in o && token.slice(1).startsWith(o.short));
}

/** --provider's value, checked against the providers there are. */
export function provider(v: string | undefined): ProviderChoice {
  const p = (v ?? 'auto') as ProviderChoice;
  if (!PROVIDERS.includes(p)) throw new UsageError(`unknown provider '${v}' (choose one of ${PROVIDERS.join(', ')})`);
  return p;
}

/** The --binarize line of a command's help (`def`: its default, in words). */
export const BINARIZE_HELP = (def: string) =>
  `  --binarize B          dynamic|threshold|none: a fresh Bernoulli draw of each pixel every epoch (from the seed; the
                        test set is binarized once, by a draw with seed 0, the same for every run), a threshold at
                        0.5, or grayscale values as they are  [${def}]
  --grayscale           the same as --binarize none`;

/**
 * --binarize (or its alias --grayscale, which is --binarize none); undefined when neither is given, so the data's
 * default (or the model's own) applies.
 */
export function binarization(v: Pick<Values, 'binarize' | 'grayscale'>): Binarization | undefined {
  if (v.binarize === undefined) return v.grayscale ? 'none' : undefined;
  if (!BINARIZATIONS.includes(v.binarize as Binarization)) {
    throw new UsageError(`--binarize must be one of ${BINARIZATIONS.join(', ')}, got '${v.binarize}'`);
  }
  if (v.grayscale && v.binarize !== 'none') {
    throw new UsageError(`--grayscale means --binarize none, but --binarize ${v.binarize} was given too: choose one`);
  }
  return v.binarize as Binarization;
}

/** --size WxH (or N for N×N): an image folder's resize target, each side 1 … 4096 pixels. */
export function imageSize(v: string | undefined): ImageSize | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)(?:x(\d+))?$/i.exec(v.trim());
  const width = m ? Number(m[1]) : Number.NaN;
  const height = m ? Number(m[2] ?? m[1]) : Number.NaN;
  if (!(width >= 1 && width <= 4096 && height >= 1 && height <= 4096)) {
    throw new UsageError(`--size must be WIDTHxHEIGHT (or N for N×N), each 1 … 4096 pixels, e.g. 32x32, got '${v}'`);
  }
  return { width, height };
}

/** --channels 1|3: convert an image folder's images to gray or RGB. */
export function channelCount(v: string | undefined): 1 | 3 | undefined {
  if (v === undefined) return undefined;
  if (v !== '1' && v !== '3') throw new UsageError(`--channels must be 1 (gray) or 3 (RGB), got '${v}'`);
  return v === '1' ? 1 : 3;
}

/** A TCP port for the dashboard (--ui PORT, --port P): 0 … 65535, 0 (or '' for a bare --ui) taking any free one. */
export function portNumber(v: string | undefined, name: string): number {
  return v === undefined || v === '' ? 0 : num(v, name, 0, { int: true, min: 0, max: LIMITS.port });
}

/** The --ui / --port lines of a command's help. */
export const UI_HELP = `                        the page listens on 127.0.0.1 only (this machine), on PORT or, without one (or 0),
                        on a free port; the URL is printed on stderr`;

/** The bundle folder, the command's first positional argument. */
export function bundleDir(pos: string[], cmd: string): string {
  if (!pos[1]) throw new UsageError(`${cmd} needs a bundle folder: onnxvae ${cmd} DIR`);
  return pos[1];
}

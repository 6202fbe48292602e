/**
 * The layering of docs/architecture.md, checked over the import graph of every source file (tests aside): no import
 * circle, and no import from a lower layer to a higher one. Type-only imports count too: a type that a lower layer
 * needs from a higher one is a sign the type lives in the wrong place.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as core from '@onnxvae/core';
import * as internal from '@onnxvae/core/internal';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = join(ROOT, 'packages');

/**
 * Bottom to top. A file may import files of its own layer and of the layers below it. `core/<dir>` is a folder of
 * packages/core/src; node and web are hosts above all of core, and reach it only through its entry points.
 */
const LAYERS = [
  'core/errors',
  'core/random',
  'core/ir',
  'core/ops',
  'core/autodiff',
  'core/nn',
  'core/optim',
  'core/models',
  'core/image',
  'core/artifacts',
  'core/runtime',
  'core/testing',
  'core/entry',
  'web',
  'node',
] as const;

/** Files of packages/core/src that are entry points: the public index and the internal one. */
const ENTRIES = new Set(['index.ts', 'internal.ts']);

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function layerOf(file: string): string {
  const parts = relative(PACKAGES, file).split('/');
  if (parts[0] !== 'core') return parts[0];
  const inSrc = parts.slice(2);
  if (inSrc.length === 1) return ENTRIES.has(inSrc[0]) ? 'core/entry' : `core/${inSrc[0].replace(/\.ts$/, '')}`;
  return `core/${inSrc[0]}`;
}

const IMPORT_RE = /^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;

function importGraph(): { files: string[]; edges: Edge[] } {
  const files = ['core', 'node', 'web'].flatMap((p) => sources(join(PACKAGES, p, 'src')));
  const known = new Set(files);
  const edges: Edge[] = [];
  for (const from of files) {
    const text = readFileSync(from, 'utf8');
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[2];
      let to: string | undefined;
      if (spec.startsWith('.')) to = resolve(dirname(from), spec.replace(/\.js$/, '.ts'));
      else if (spec === '@onnxvae/core') to = join(PACKAGES, 'core/src/index.ts');
      else if (spec.startsWith('@onnxvae/core/')) to = join(PACKAGES, 'core/src', `${spec.slice('@onnxvae/core/'.length)}.ts`);
      else if (spec.startsWith('@onnxvae/')) to = join(PACKAGES, spec.slice('@onnxvae/'.length), 'src/index.ts');
      if (to === undefined) continue;
      if (!known.has(to))
        throw new Error(`${relative(ROOT, from)} imports ${spec}, which resolves to no source file (${relative(ROOT, to)})`);
      edges.push({ from, to, typeOnly: Boolean(m[1]) });
    }
  }
  return { files, edges };
}

/** Strongly connected components with more than one file (Tarjan), each a circle of imports. */
function circles(files: string[], edges: Edge[]): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) next.get(e.from)?.push(e.to);
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1 || (next.get(v) ?? []).includes(v)) out.push(c);
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return out;
}

describe('architecture (docs/architecture.md)', () => {
  const { files, edges } = importGraph();
  const rel = (f: string) => relative(PACKAGES, f);

  it('every source file belongs to a known layer', () => {
    const unknown = files.filter((f) => !(LAYERS as readonly string[]).includes(layerOf(f))).map(rel);
    expect(unknown, 'files outside every layer: add the folder to LAYERS and docs/architecture.md').toEqual([]);
  });

  it('has no import circle', () => {
    const found = circles(files, edges).map((c) => c.map(rel).sort());
    expect(found, 'import circles (files that import each other, directly or around a loop)').toEqual([]);
  });

  it('no layer imports a layer above it', () => {
    const rank = (f: string) => (LAYERS as readonly string[]).indexOf(layerOf(f));
    const upward = edges
      .filter((e) => rank(e.to) > rank(e.from))
      .map((e) => `${rel(e.from)} (${layerOf(e.from)}) imports ${rel(e.to)} (${layerOf(e.to)})${e.typeOnly ? ' [type]' : ''}`);
    expect(upward).toEqual([]);
  });

  it('node and web reach core only through its entry points', () => {
    const reachIn = edges
      .filter((e) => !layerOf(e.from).startsWith('core/') && layerOf(e.to).startsWith('core/') && layerOf(e.to) !== 'core/entry')
      .map((e) => `${rel(e.from)} imports ${rel(e.to)}`);
    expect(reachIn).toEqual([]);
  });

  it('the hosts are independent: node and web never import each other', () => {
    const across = edges
      .filter(
        (e) => ['node', 'web'].includes(layerOf(e.from)) && ['node', 'web'].includes(layerOf(e.to)) && layerOf(e.from) !== layerOf(e.to),
      )
      .map((e) => `${rel(e.from)} imports ${rel(e.to)}`);
    expect(across).toEqual([]);
  });

  it('graph building creates no session: core/src/models never runs ONNX Runtime', () => {
    const running = files
      .filter((f) => layerOf(f) === 'core/models')
      .filter((f) => /\bcreateSession\b|\bInferenceSession\b|\.run\(/.test(readFileSync(f, 'utf8')))
      .map(rel);
    expect(running).toEqual([]);
  });

  it('the checker sees a circle and an upward import when there is one (self-test on a tiny graph)', () => {
    const a = join(PACKAGES, 'core/src/ir/a.ts');
    const b = join(PACKAGES, 'core/src/ops/b.ts');
    expect(
      circles(
        [a, b],
        [
          { from: a, to: b, typeOnly: false },
          { from: b, to: a, typeOnly: true },
        ],
      ),
    ).toHaveLength(1);
    expect(LAYERS.indexOf(layerOf(b) as (typeof LAYERS)[number])).toBeGreaterThan(LAYERS.indexOf(layerOf(a) as (typeof LAYERS)[number]));
  });
});

describe('the public API (packages/core/src/index.ts)', () => {
  it('exports what users call, and keeps internals in @onnxvae/core/internal', () => {
    for (const name of ['Graph', 'gradients', 'serializeModel', 'resolveConfig', 'latentFamily', 'createBundle', 'loadBundle']) {
      expect(core, name).toHaveProperty(name);
    }
    for (const name of ['Trainer', 'Evaluator', 'Sampler', 'Refiner', 'fit', 'openSampler', 'BundleError', 'FeedError', 'GraphError']) {
      expect(core, name).toHaveProperty(name);
    }
    // The examples of internals, and the plumbing the hosts share.
    for (const name of ['Q_MU', 'scoreFunctionEstimator', 'unbroadcast', 'updatedName', 'registerOp', 'namedFeeds', 'oneHot']) {
      expect(core, name).not.toHaveProperty(name);
      expect(internal, name).toHaveProperty(name);
    }
  });

  it('is small enough to read: every value it exports is listed by name in index.ts', () => {
    const index = readFileSync(join(PACKAGES, 'core/src/index.ts'), 'utf8');
    expect(index).not.toMatch(/export \* from/);
    // 211 names before the curation; the public API is a fraction of them.
    expect(Object.keys(core).length).toBeLessThan(80);
  });

  it('builds graphs from the public entry alone (the builder methods are installed by it)', () => {
    const g = new core.Graph('t');
    const x = g.input('x', 'float32', [2, 3]);
    expect(g.ReduceSum(g.Tanh(x)).shape).toEqual([]);
  });
});

/**
 * The manifest is untrusted input (issue 9, item 8): loadBundle returns the validated config, checks every field
 * with a cap, and refuses a config that does not fit the weights, always with a BundleError naming the file and field.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveConfig, type VaeConfig, type VaeConfigInput } from '../models/config.js';
import { BundleError, createBundle, initialState, loadBundle, type Manifest, parseManifest } from './bundle.js';
import { encodeSafetensors, type SafetensorsTensor } from './safetensors.js';
import { sha256Hex } from './sha256.js';

const MODELS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../models');
const SRC = 'mem';
const small = (over: VaeConfigInput = {}): VaeConfig =>
  resolveConfig({ inputShape: [6], hidden: [5], latent: 2, activation: 'tanh', ...over });

type Json = Record<string, unknown>;

async function memBundle(cfg: VaeConfig = small()) {
  const b = await createBundle(cfg, initialState(cfg, 3));
  const files: Record<string, Uint8Array> = { ...b.files, 'manifest.json': new TextEncoder().encode(JSON.stringify(b.manifest)) };
  return { manifest: b.manifest, files };
}

/** Loads the bundle with its manifest edited: `edit` changes a parsed copy in place, or returns the raw text. */
async function loadEdited(edit: (m: Json) => unknown) {
  const { manifest, files } = await memBundle();
  const m = structuredClone(manifest) as unknown as Json;
  const out = edit(m);
  const text = typeof out === 'string' ? out : JSON.stringify(m);
  return loadBundle(async (f) => (f === 'manifest.json' ? new TextEncoder().encode(text) : files[f]), SRC);
}

/** Expects a BundleError whose message names the manifest file and matches every pattern. */
async function expectRefused(edit: (m: Json) => unknown, ...patterns: RegExp[]) {
  const e = await loadEdited(edit).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, `accepted; expected ${patterns.join(' ')}`).toBeInstanceOf(BundleError);
  const msg = (e as Error).message;
  expect(msg).toContain(`${SRC}/manifest.json:`);
  for (const p of patterns) expect(msg).toMatch(p);
}

const cfgOf = (m: Json) => m.config as Json;
const trainingOf = (m: Json) => m.training as Json;

describe('loadBundle accepts what createBundle writes', () => {
  it('the committed bundles in models/ still load', async () => {
    for (const name of ['mnist', 'mnist-2d']) {
      const dir = join(MODELS, name);
      const b = await loadBundle(async (f) => new Uint8Array(readFileSync(join(dir, f))), dir);
      expect(b.manifest.config.hidden).toEqual([128]);
      expect(b.manifest.training.step).toBeGreaterThan(0);
    }
  });

  const variants: [string, VaeConfigInput][] = [
    [
      'float64 gaussian, clipped AdamW',
      { dtype: 'float64', likelihood: { type: 'gaussian', variance: 'feature' }, optimizer: { type: 'adamw', clipNorm: 5 } },
    ],
    ['conditional (prior left out)', { conditional: { classes: 3 } as VaeConfig['conditional'] }],
    ['categorical, score function, moving-average baseline', { latentType: 'categorical', categories: 3, baseline: 'moving-average' }],
    ['SGD with momentum', { optimizer: { type: 'sgd', momentum: 0.9 } }],
    ['conv', { arch: 'conv', inputShape: [1, 4, 4], convChannels: [2], hidden: [3] }],
  ];
  for (const [what, over] of variants) {
    it(what, async () => {
      const { manifest, files } = await memBundle(small(over));
      const b = await loadBundle(async (f) => files[f], SRC);
      // The same bytes JSON.stringify gives: train --resume compares configs this way.
      expect(JSON.stringify(b.manifest.config)).toBe(JSON.stringify(manifest.config));
      expect(JSON.stringify(b.manifest)).toBe(JSON.stringify(manifest));
    });
  }
});

describe('training.data', () => {
  it("records the binarization by name; an older manifest's true / false reads as 'threshold' / 'none'", async () => {
    for (const [written, read] of [
      [true, 'threshold'],
      [false, 'none'],
      ['dynamic', 'dynamic'],
      ['none', 'none'],
    ] as const) {
      const b = await loadEdited((m) => {
        trainingOf(m).data = { source: 'mnist-full', binarize: written, examples: 60000, shape: [28, 28] };
      });
      expect(b.manifest.training.data).toEqual({ source: 'mnist-full', binarize: read, examples: 60000, shape: [28, 28] });
    }
  });
});

describe('loadBundle returns the validated config, not the raw JSON', () => {
  it('a conditional config without its prior comes back resolved (prior: standard)', async () => {
    const { manifest, files } = await memBundle(small({ conditional: { classes: 3, prior: 'standard' } }));
    const raw = structuredClone(manifest) as unknown as Json;
    delete (cfgOf(raw).conditional as Json).prior;
    const c = await loadBundle(async (f) => (f === 'manifest.json' ? new TextEncoder().encode(JSON.stringify(raw)) : files[f]), SRC);
    expect(c.manifest.config.conditional).toEqual({ classes: 3, prior: 'standard' });
  });

  it('the returned manifest is a fresh object: editing the parsed JSON afterwards changes nothing', () => {
    const text = readFileSync(join(MODELS, 'mnist', 'manifest.json'), 'utf8');
    const a = parseManifest(text);
    const b = parseManifest(text);
    expect(a).not.toBe(b);
    expect(a.config).not.toBe(b.config);
  });
});

describe('the model config is checked', () => {
  it('latent: 1e308 and dtype "../../etc/passwd" (both passed before)', async () => {
    await expectRefused((m) => {
      cfgOf(m).latent = 1e308;
    }, /config\.latent must be an integer in \[1, 2147483647\], got 1e\+308/);
    await expectRefused((m) => {
      cfgOf(m).dtype = '../../etc/passwd';
    }, /config\.dtype must be "float32" or "float64", got "\.\.\/\.\.\/etc\/passwd"/);
  });

  it('unknown, missing and mistyped fields', async () => {
    await expectRefused((m) => {
      cfgOf(m).lattent = 2;
    }, /config\.lattent is not a known field/);
    await expectRefused((m) => {
      delete cfgOf(m).hidden;
    }, /config\.hidden is missing/);
    await expectRefused((m) => {
      cfgOf(m).hidden = ['5'];
    }, /config\.hidden\[0\] must be an integer/);
    await expectRefused((m) => {
      (cfgOf(m).optimizer as Json).beta1 = 'x';
    }, /config\.optimizer\.beta1 must be a finite number/);
    await expectRefused((m) => {
      cfgOf(m).activation = 'gelu';
    }, /config activation must be one of/);
    // 65 layers: one more than MAX_LAYERS (64).
    await expectRefused((m) => {
      cfgOf(m).hidden = new Array(65).fill(5);
    }, /config\.hidden must have 0 to 64 entries, got 65/);
  });

  it('a hand-edited latent fails at load, naming the tensor and both shapes', async () => {
    // small(): 6-5-2; encoder.mu.weight is [5, 2]; latent 3 needs [5, 3].
    await expectRefused((m) => {
      cfgOf(m).latent = 3;
    }, /params\[2\] tensor 'encoder\.mu\.weight' is \[5, 2\] in the manifest, but the config \(.*latent 3\) needs \[5, 3\]/);
    await expectRefused((m) => {
      cfgOf(m).hidden = [7];
    }, /tensor 'encoder\.mlp\.fc1\.weight' is \[6, 5\] .* needs \[6, 7\]/);
  });

  it('params and optimizer state must be the tensors the config implies', async () => {
    await expectRefused((m) => {
      (m.params as Json[]).pop();
    }, /params\[\d+\] is missing: the config needs tensor 'decoder\./);
    await expectRefused((m) => {
      (m.params as Json[])[0].name = 'w';
    }, /params\[0\] is tensor 'w', the config's model has 'encoder\.mlp\.fc1\.weight'/);
    await expectRefused((m) => {
      (m.optimizerState as Json[])[0].param = 'x';
    }, /optimizerState\[0\] tensor .* belongs to 'x'/);
    await expectRefused((m) => {
      (m.params as Json[])[0].dtype = 'float64';
    }, /tensor 'encoder\.mlp\.fc1\.weight' is float64, the config's dtype is float32/);
  });
});

describe('training, metrics, graphs and files are checked', () => {
  it('training: step, epoch, seed, PRNG state, lr, batch size, data', async () => {
    await expectRefused((m) => {
      trainingOf(m).step = -1;
    }, /training\.step must be an integer in \[0, /);
    await expectRefused((m) => {
      trainingOf(m).epoch = 1.5;
    }, /training\.epoch must be an integer/);
    await expectRefused((m) => {
      trainingOf(m).seed = '0';
    }, /training\.seed must be an integer/);
    await expectRefused((m) => {
      (trainingOf(m).prngState as Json).s = [0, 0, 0, 0];
    }, /training\.prngState Prng state words are all zero/);
    await expectRefused((m) => {
      (trainingOf(m).prngState as Json).s = [1, 2, 3];
    }, /training\.prngState .*four unsigned 32-bit/);
    await expectRefused((m) => {
      trainingOf(m).lr = 0;
    }, /training\.lr must be > 0/);
    await expectRefused((m) => {
      trainingOf(m).batchSize = 1e10;
    }, /training\.batchSize must be an integer in \[1, 2147483647\]/);
    await expectRefused(
      (m) => {
        trainingOf(m).data = { source: 'x'.repeat(4097), binarize: true, examples: 1 };
      }, // one past PATH_MAX
      /training\.data\.source is 4097 characters long, more than the 4096 allowed/,
    );
    await expectRefused((m) => {
      trainingOf(m).data = { source: 'mnist', binarize: 'yes', examples: 1 };
    }, /training\.data\.binarize must be "dynamic", "threshold", "none" \(or true \/ false\), got "yes"/);
    await expectRefused((m) => {
      trainingOf(m).data = { source: 'mnist', binarize: 'dynamic', examples: 1, shape: [3, 0, 2] };
    }, /training\.data\.shape\[1\] must be an integer in \[1, 2147483647\]/);
    await expectRefused((m) => {
      trainingOf(m).resumedFrom = 'x';
    }, /training\.resumedFrom is not a known field/);
  });

  it('metrics: a list of at most 100,000 objects of numbers', async () => {
    await expectRefused((m) => {
      m.metrics = {};
    }, /metrics must be a list/);
    await expectRefused((m) => {
      m.metrics = [{ epoch: '1' }];
    }, /metrics\[0\]\.epoch must be a number, got "1"/);
    await expectRefused((m) => {
      m.metrics = [{ ['x'.repeat(300)]: 1 }];
    }, /field name of 300 characters/);
    await expectRefused((m) => {
      m.metrics = new Array(100_001).fill({});
    }, /metrics must have 0 to 100000 entries, got 100001/);
    const ok = await loadEdited((m) => {
      m.metrics = [{ epoch: 1, train_elbo: null }];
    }); // a NaN is written as null
    expect(ok.manifest.metrics).toEqual([{ epoch: 1, train_elbo: null }]);
  });

  it('graphs: each names its own file; signatures have capped names and shapes', async () => {
    const graphs = (m: Json) => m.graphs as Record<string, Json>;
    await expectRefused((m) => {
      graphs(m).decoder.file = '../../etc/passwd';
    }, /graphs\.decoder\.file must be "decoder\.onnx", got "\.\.\/\.\.\/etc\/passwd"/);
    await expectRefused((m) => {
      delete graphs(m).eval;
    }, /graphs\.eval is missing/);
    await expectRefused((m) => {
      (graphs(m).encoder.inputs as Json[])[0].shape = new Array(9).fill(1);
    }, /graphs\.encoder\.inputs\[0\]\.shape must have 0 to 8 entries/);
    await expectRefused((m) => {
      (graphs(m).encoder.outputs as Json[])[0].name = 'n'.repeat(257);
    }, /graphs\.encoder\.outputs\[0\]\.name is 257 characters long/);
    await expectRefused((m) => {
      (graphs(m).encoder.outputs as Json[])[0].dtype = 'complex';
    }, /outputs\[0\]\.dtype must be one of/);
  });

  it('files, fusedSteps, evalSamples, createdBy, opset', async () => {
    const files = (m: Json) => m.files as Record<string, Json>;
    await expectRefused((m) => {
      files(m)['../x'] = files(m)['eval.onnx'];
    }, /files\.\.\.\/x is not a known field/);
    await expectRefused((m) => {
      files(m)['eval.onnx'].bytes = -1;
    }, /files\['eval\.onnx'\]\.bytes must be an integer/);
    await expectRefused((m) => {
      m.fusedSteps = 0;
    }, /fusedSteps must be an integer in \[1, 65536\]/);
    await expectRefused((m) => {
      m.evalSamples = 's'.repeat(257);
    }, /evalSamples is 257 characters/);
    await expectRefused((m) => {
      m.createdBy = 7;
    }, /createdBy must be a string/);
    await expectRefused((m) => {
      m.opset = 1e9;
    }, /opset must be an integer in \[1, 1000\]/);
    await expectRefused((m) => {
      m.extra = 1;
    }, /extra is not a known field/);
  });

  it('deploy (export --fp16) is optional, and checked when present', async () => {
    const ok = {
      weights: 'float16',
      fullPrecisionBytes: { decoder: 10, encoder: 12 },
      pixelError: { samples: 1000, max: 5e-4, mean: 2e-5 },
    };
    const b = await loadEdited((m) => {
      m.deploy = ok;
    });
    expect(b.manifest.deploy).toEqual(ok);
    expect((await loadEdited(() => undefined)).manifest.deploy).toBeUndefined();
    await expectRefused((m) => {
      m.deploy = { weights: 'int4' };
    }, /deploy\.weights must be "float16", got "int4"/);
    await expectRefused((m) => {
      m.deploy = { ...ok, pixelError: { samples: 1000, max: -1, mean: 0 } };
    }, /deploy\.pixelError\.max must be ≥ 0, got -1/);
    await expectRefused((m) => {
      m.deploy = { ...ok, pixelError: { samples: 1000, max: null, mean: 0 } };
    }, /deploy\.pixelError\.max must be a finite number/);
    await expectRefused((m) => {
      m.deploy = { ...ok, quantized: true };
    }, /deploy\.quantized is not a known field/);
    await expectRefused((m) => {
      m.deploy = { fullPrecisionBytes: { decoder: 1, encoder: 2 } };
    }, /deploy\.weights is missing/);
  });
});

describe('manifest JSON itself', () => {
  it('deep nesting is an error naming the file, never a stack overflow', async () => {
    const deep = '['.repeat(1e6) + ']'.repeat(1e6); // parses fine, but every recursive walk after it overflows
    await expectRefused((m) => JSON.stringify(m).replace('"metrics":[]', `"metrics":${deep}`), /nesting deeper than 64 levels/);
    await expectRefused(() => '['.repeat(1e6), /nesting deeper than 64 levels/);
    expect(() => parseManifest('{"a":'.repeat(1e5), 'x/manifest.json')).toThrow(/^x\/manifest\.json: nesting deeper/);
  });

  it('a repeated key is refused (JSON.parse would keep the last silently)', async () => {
    await expectRefused((m) => JSON.stringify(m).replace('"latent":2', '"latent":2,"latent":3'), /duplicate key "latent"/);
  });
});

describe('the checkpoint against the manifest', () => {
  it('a tensor the manifest does not list is refused; safetensors errors come back as BundleError', async () => {
    const { manifest, files } = await memBundle();
    const extra: Record<string, SafetensorsTensor> = { 'x.stowaway': { dtype: 'float32', shape: [1], data: new Float32Array(1) } };
    const ck = encodeSafetensors(extra);
    const m: Manifest = structuredClone(manifest);
    // A full, consistent checkpoint plus one tensor, with the hashes updated so only the content is wrong.
    const st = initialState(small(), 3);
    const all: Record<string, SafetensorsTensor> = { ...extra };
    for (const [k, t] of [...Object.entries(st.params), ...Object.entries(st.optState)])
      all[k] = { dtype: 'float32', shape: [...t.shape], data: t.data as Float32Array };
    const withExtra = encodeSafetensors(all, { step: '0' });
    for (const [name, bytes] of [['checkpoint.safetensors', withExtra]] as const)
      m.files[name] = { sha256: await sha256Hex(bytes), bytes: bytes.length };
    const read = (ckBytes: Uint8Array, man: Manifest) => async (f: string) =>
      f === 'manifest.json' ? new TextEncoder().encode(JSON.stringify(man)) : f === 'checkpoint.safetensors' ? ckBytes : files[f];
    await expect(loadBundle(read(withExtra, m), SRC)).rejects.toThrow(
      /mem\/checkpoint\.safetensors: tensor "x\.stowaway" is not in the manifest/,
    );

    const bad = ck.slice(0, 12); // a header length that runs past the file
    m.files['checkpoint.safetensors'] = { sha256: await sha256Hex(bad), bytes: bad.length };
    const e = await loadBundle(read(bad, m), SRC).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(BundleError);
    expect((e as Error).message).toMatch(/^mem\/checkpoint\.safetensors: header length/);
  });
});

/**
 * The shipped presets of Burda et al. 2016 (models/presets/): each reads as a `--config` file, resolves, builds a
 * bundle, and has the paper's shapes (§5; the authors' code, github.com/yburda/iwae experiments.py).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createBundle, initialState } from '../packages/core/src/artifacts/bundle.js';
import { resolveConfig } from '../packages/core/src/models/config.js';
import { latentFamily } from '../packages/core/src/models/families/index.js';
import { parameterSpecs } from '../packages/core/src/models/graphs.js';
import { readConfigFile } from '../packages/node/src/config-file.js';

const PRESETS = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'models/presets');

/** Parameter shapes by name. */
const shapes = (cfg: ReturnType<typeof resolveConfig>) => Object.fromEntries(parameterSpecs(cfg).map((s) => [s.name, s.shape]));

describe('models/presets', () => {
  it('burda-1layer: 784-200-200-50 tanh encoder, 50-200-200-784 decoder, Bernoulli, Adam ε = 1e-4', async () => {
    const cfg = resolveConfig(readConfigFile(join(PRESETS, 'burda-1layer.json')));
    expect(latentFamily(cfg).name).toBe('gaussian');
    expect(cfg).toMatchObject({ hidden: [200, 200], latent: 50, activation: 'tanh', likelihood: { type: 'bernoulli' } });
    expect(cfg.optimizer).toMatchObject({ type: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-4 });
    const s = shapes(cfg);
    expect(s['encoder.mlp.fc1.weight']).toEqual([784, 200]);
    expect(s['encoder.mlp.fc2.weight']).toEqual([200, 200]);
    expect(s['encoder.mu.weight']).toEqual([200, 50]);
    expect(s['decoder.mlp.fc1.weight']).toEqual([50, 200]);
    expect(s['decoder.mlp.fc3.weight']).toEqual([200, 784]);
    const b = await createBundle(cfg, initialState(cfg, 0));
    expect(Object.keys(b.files).sort()).toEqual(['checkpoint.safetensors', 'decoder.onnx', 'encoder.onnx', 'eval.onnx', 'train_step.onnx']);
  });

  it('burda-2layer: stochastic layers of 100 and 50 units, 2×200 tanh between x and z₁, 2×100 tanh between z₁ and z₂', async () => {
    const cfg = resolveConfig(readConfigFile(join(PRESETS, 'burda-2layer.json')));
    expect(latentFamily(cfg).name).toBe('hierarchical');
    expect(cfg).toMatchObject({ hidden: [200, 200], latent: 100, hierarchical: { latent: 50, hidden: [100, 100] }, activation: 'tanh' });
    const s = shapes(cfg);
    // q(z₁|x): 784-200-200-100; q(z₂|z₁): 100-100-100-50; p(z₁|z₂): 50-100-100-100; p(x|z₁): 100-200-200-784.
    expect(s['encoder.mlp.fc1.weight']).toEqual([784, 200]);
    expect(s['encoder.mu.weight']).toEqual([200, 100]);
    expect(s['encoder.z2.mlp.fc1.weight']).toEqual([100, 100]);
    expect(s['encoder.z2.mlp.fc2.weight']).toEqual([100, 100]);
    expect(s['encoder.z2.mu.weight']).toEqual([100, 50]);
    expect(s['prior.mlp.fc1.weight']).toEqual([50, 100]);
    expect(s['prior.mu.weight']).toEqual([100, 100]);
    expect(s['decoder.mlp.fc1.weight']).toEqual([100, 200]);
    expect(s['decoder.mlp.fc3.weight']).toEqual([200, 784]);
    const b = await createBundle(cfg, initialState(cfg, 0));
    expect(b.manifest.graphs.decoder.inputs.find((i) => i.name === 'z')?.shape).toEqual(['batch', 150]);
  });

  it('both are plain JSON config files (no field the CLI would refuse) with a README citing the paper', () => {
    for (const f of ['burda-1layer.json', 'burda-2layer.json'])
      expect(() => JSON.parse(readFileSync(join(PRESETS, f), 'utf8'))).not.toThrow();
    expect(readFileSync(join(PRESETS, 'README.md'), 'utf8')).toMatch(/Burda.*Grosse.*Salakhutdinov/s);
  });
});

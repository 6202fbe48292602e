/**
 * `onnxvae export --fp16`: float16 weights in decoder.onnx and encoder.onnx, half the bytes, the pixel error against
 * float32 measured and recorded, every latent family, and a weight float16 cannot hold refused before anything is
 * written.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBundle, initialState, parseModel, resolveConfig, tensorData, type VaeConfigInput, withFloat16Weights } from '@onnxvae/core';
import { afterAll, describe, expect, it } from 'vitest';
import { readBundleDir, writeBundle } from './bundle-io.js';
import { pixelError } from './cli/commands/export.js';
import { cli } from './testing/cli-run.js';

const root = mkdtempSync(join(tmpdir(), 'onnxvae-fp16-'));
const MNIST = resolve(__dirname, '../../../models/mnist');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('export --fp16', () => {
  it('halves decoder.onnx and encoder.onnx, measures the pixel error on 1000 samples and records it', async () => {
    const out = join(root, 'web16');
    const r = await cli('export', MNIST, '--out', out, '--fp16');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/decoder\.onnx {2}407 KiB → 20\d KiB \(50\.\d%\)/);
    expect(r.stdout).toMatch(/pixel error against float32 on 1000 prior samples: max \d\.\d\de-\d+, mean \d\.\d\de-\d+/);
    const b = await readBundleDir(out); // every file's size and sha256 against the new manifest
    const full = await readBundleDir(MNIST);
    const d = b.manifest.deploy;
    expect(d?.weights).toBe('float16');
    expect(d?.fullPrecisionBytes).toEqual({ decoder: full.files['decoder.onnx'].length, encoder: full.files['encoder.onnx'].length });
    expect(b.files['decoder.onnx'].length / full.files['decoder.onnx'].length).toBeLessThan(0.52);
    // float16 keeps 11 significant bits: each weight moves by ≤ 2^-11 relative. Through two layers and a sigmoid
    // (slope ≤ 1/4) that is ~1e-3 at most per pixel; measured 5.9e-4 max, 1.7e-5 mean. Zero would mean nothing changed.
    expect(d?.pixelError?.samples).toBe(1000);
    expect(d?.pixelError?.max).toBeGreaterThan(0);
    expect(d?.pixelError?.max).toBeLessThan(3e-3);
    expect(d?.pixelError?.mean).toBeLessThan(1e-4);
    // Every weight is a float16 initializer cast to float32; no float32 weight is left.
    const g = parseModel(b.files['decoder.onnx']).graph;
    const kinds = g.initializers.map((v) => v.dtype);
    expect(kinds.filter((k) => k === 'float16')).toHaveLength(full.manifest.params.filter((p) => p.name.startsWith('decoder.')).length);
    expect(g.initializers.filter((v) => v.dtype === 'float32' && (v.constValue?.data.length ?? 0) > 16)).toHaveLength(0);
    // The checkpoint and the training graphs are untouched (fine-tuning stays at full precision).
    expect(b.files['checkpoint.safetensors']).toEqual(full.files['checkpoint.safetensors']);
    expect(b.files['train_step.onnx']).toEqual(full.files['train_step.onnx']);
    const info = await cli('info', out);
    expect(info.stdout).toMatch(
      /deploy: decoder\.onnx and encoder\.onnx store float16 weights \(\d+ bytes, 416384 at full precision\); pixel error/,
    );
    const s = await cli('sample', out, '--n', '4', '--out', join(root, 'fp16-samples.png'));
    expect(s.code, s.stderr).toBe(0);
    // Exporting the float16 bundle again still measures against float32 (rebuilt from the checkpoint), not itself.
    const again = await cli('export', out, '--out', join(root, 'web16b'), '--fp16', '--samples', '200');
    expect(again.code, again.stderr).toBe(0);
    expect((await readBundleDir(join(root, 'web16b'))).manifest.deploy?.pixelError?.max).toBeGreaterThan(0);
  });

  it('works for every latent family (Gaussian, conditional, two layers, discrete)', async () => {
    const configs: VaeConfigInput[] = [
      { inputShape: [784], hidden: [32], latent: 4, conditional: { classes: 10, prior: 'learned' } },
      { inputShape: [784], hidden: [32], latent: 4, hierarchical: { latent: 2, hidden: [8] } },
      { inputShape: [784], hidden: [32], latent: 6, latentType: 'bernoulli' },
      { inputShape: [784], hidden: [32], latent: 3, latentType: 'categorical', categories: 4 },
    ];
    for (const c of configs) {
      const cfg = resolveConfig(c);
      const dir = join(root, `fam-${Object.keys(c).slice(-1)[0]}-${cfg.latentType}`);
      writeBundle(dir, await createBundle(cfg, initialState(cfg, 3)));
      const b = await readBundleDir(dir);
      const half = await withFloat16Weights(b);
      const e = await pixelError(b, half, 64);
      expect(e.max, JSON.stringify(c)).toBeGreaterThan(0);
      expect(e.max, JSON.stringify(c)).toBeLessThan(3e-3);
    }
  });

  it('refuses a weight beyond float16 (naming the parameter and the value) and writes nothing', async () => {
    const cfg = resolveConfig({ inputShape: [16], hidden: [8], latent: 2 });
    const st = initialState(cfg, 1);
    const w = st.params['decoder.mlp.fc1.weight'] ?? Object.values(st.params)[0];
    const name = Object.keys(st.params).find((k) => st.params[k] === w) as string;
    const data = Float32Array.from(w.data as Float32Array);
    data[5] = 1e5;
    st.params[name] = tensorData('float32', w.shape, data);
    const dir = join(root, 'huge');
    writeBundle(dir, await createBundle(cfg, st));
    const out = join(root, 'huge-web');
    const r = await cli('export', dir, '--out', out, '--fp16');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`parameter '${name}': element 5 is 100000, which float16 cannot hold`);
    expect(existsSync(out)).toBe(false);
    expect((await cli('export', dir, '--out', out, '--samples', '5')).stderr).toMatch(/--samples is for --fp16/);
  });
});

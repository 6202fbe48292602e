import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBundle, initialState, resolveConfig } from '@onnxvae/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  assertCreatableDir,
  clearRunOutputs,
  latestValidCheckpoint,
  listCheckpoints,
  RUN_OUTPUTS,
  readBundleDir,
  writeBundle,
  writeCheckpoint,
} from './bundle-io.js';

const root = mkdtempSync(join(tmpdir(), 'onnxvae-bundle-io-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cfg = resolveConfig({ inputShape: [16], hidden: [8], latent: 2 });
async function bundleAt(step: number) {
  const st = initialState(cfg, 0);
  st.training.step = step;
  return createBundle(cfg, st);
}

describe('output folders', () => {
  it('assertCreatableDir accepts a new nested path and creates nothing', () => {
    const p = join(root, 'a', 'b', 'c');
    assertCreatableDir(p);
    expect(existsSync(join(root, 'a'))).toBe(false);
  });

  it('assertCreatableDir rejects a path under a regular file, naming the file', () => {
    writeFileSync(join(root, 'file'), '');
    expect(() => assertCreatableDir(join(root, 'file', 'sub', 'x'))).toThrow(/cannot be created: .*file is a file, not a folder/);
  });

  it.skipIf(process.getuid?.() === 0)('assertCreatableDir rejects a read-only folder (root writes anywhere, so not as root)', () => {
    const ro = join(root, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    expect(() => assertCreatableDir(join(ro, 'x'))).toThrow(/not writable: .*ro refuses writes \(EACCES\)/);
    chmodSync(ro, 0o755);
  });

  it('clearRunOutputs removes a run (manifest first) and checkpoints, and nothing else', async () => {
    const dir = join(root, 'run');
    writeBundle(dir, await bundleAt(1));
    writeCheckpoint(dir, await bundleAt(1));
    for (const f of RUN_OUTPUTS) if (!existsSync(join(dir, f))) writeFileSync(join(dir, f), '');
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    expect(clearRunOutputs(dir)).toBe(true);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
    expect(clearRunOutputs(dir)).toBe(false);
  });
});

describe('checkpoints', () => {
  it('are written atomically, keep the newest N, and the newest valid one is found past corrupt ones', async () => {
    const dir = join(root, 'ck');
    for (const step of [1, 2, 3, 4]) writeCheckpoint(dir, await bundleAt(step), 3);
    expect(listCheckpoints(dir).map((d) => d.slice(-14))).toEqual(['step-000000002', 'step-000000003', 'step-000000004']);
    expect(readdirSync(join(dir, 'checkpoints')).filter((f) => !f.startsWith('step-'))).toEqual([]);
    writeFileSync(join(dir, 'checkpoints', 'step-000000004', 'decoder.onnx'), 'garbage');
    rmSync(join(dir, 'checkpoints', 'step-000000003', 'checkpoint.safetensors'));
    const skipped: string[] = [];
    const found = await latestValidCheckpoint(dir, (why) => skipped.push(why));
    expect(found?.dir).toMatch(/step-000000002$/);
    expect(found?.bundle.manifest.training.step).toBe(2);
    expect(skipped).toHaveLength(2);
    expect(skipped[0]).toMatch(/step-000000004: .*decoder\.onnx/);
    expect(skipped[1]).toMatch(/step-000000003: .*checkpoint\.safetensors: cannot read \(ENOENT\)/);
    expect(found?.skipped).toEqual(skipped);
  });

  it('a folder that is not a bundle says so', async () => {
    await expect(readBundleDir(root)).rejects.toThrow(/no manifest\.json here; is it an onnxvae bundle folder\?/);
  });
});

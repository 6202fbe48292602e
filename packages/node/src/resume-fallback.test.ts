/**
 * `train --resume` over a newest checkpoint whose manifest.json was edited (issue 9, item 8): the manifest is not
 * hashed, so only validation catches it. The run skips that checkpoint, prints why, and resumes from the one before.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './testing/cli-run.js';

let root = '';
let small = '';
/** 256 MNIST digits at batch 64: 4 steps an epoch, a checkpoint after each epoch (step-4, step-8). */
const RUN = ['--data', 'mnist', '--limit', '256', '--batch', '64', '--provider', 'cpu'];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'onnxvae-resume-fallback-'));
  small = join(root, 'small.json');
  writeFileSync(small, JSON.stringify({ hidden: [16], latent: 4 })); // tiny: each epoch takes well under a second
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Trains 2 epochs into a fresh folder, edits the newest checkpoint's manifest, and resumes to 3 epochs. */
async function resumeAfterEdit(name: string, edit: (m: Record<string, Record<string, unknown>>) => void) {
  const dir = join(root, name);
  const a = await cli('train', ...RUN, '--epochs', '2', '--config', small, '--out', dir);
  expect(a.code, a.stderr).toBe(0);
  const newest = join(dir, 'checkpoints', 'step-000000008', 'manifest.json');
  const m = JSON.parse(readFileSync(newest, 'utf8'));
  edit(m);
  writeFileSync(newest, JSON.stringify(m, null, 2));
  return cli('train', '--resume', '--epochs', '3', '--limit', '256', '--config', small, '--provider', 'cpu', '--out', dir);
}

describe('train --resume skips a newest checkpoint whose manifest fails validation', () => {
  it('a hand-edited latent (the tensors no longer fit the config): resumes from the checkpoint before, saying why', async () => {
    const r = await resumeAfterEdit('latent', (m) => {
      m.config.latent = 5;
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /skipped a corrupt checkpoint: .*step-000000008.*manifest\.json: params\[2\] tensor 'encoder\.mu\.weight' is \[16, 4\] in the manifest, but the config \(.*latent 5\) needs \[16, 5\]/,
    );
    expect(r.stderr).toMatch(/resuming from .*step-000000004 \(epoch 1, step 4\)/);
  }, 60_000);

  it('a graph file pointing outside the bundle', async () => {
    const r = await resumeAfterEdit('graph-file', (m) => {
      (m.graphs.decoder as Record<string, unknown>).file = '../../etc/passwd';
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/skipped a corrupt checkpoint: .*step-000000008.*graphs\.decoder\.file must be "decoder\.onnx"/);
    expect(r.stderr).toMatch(/resuming from .*step-000000004 \(epoch 1, step 4\)/);
  }, 60_000);
});

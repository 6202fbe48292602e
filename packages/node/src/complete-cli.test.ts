/**
 * Image completion from the CLI: train --task complete (a structured-output model), eval's conditional
 * log-likelihood, onnxvae complete on the test digits and on a PNG, and the errors a user meets.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readBundleDir } from './bundle-io.js';
import { loadData } from './data/source.js';
import { encodePng } from './report/png-codec.js';
import { cli } from './testing/cli-run.js';

const root = mkdtempSync(join(tmpdir(), 'onnxvae-complete-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const RUN = ['--data', 'mnist', '--limit', '512', '--batch', '64', '--provider', 'cpu'];
const cfg = join(root, 'small.json');
writeFileSync(cfg, JSON.stringify({ hidden: [64], latent: 4 }));
const size = (path: string) => {
  const b = readFileSync(path);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
};
/** A drawImages/writeImageGrid grid of 28×28 images at scale 2 with 2-pixel gaps. */
const grid = (cols: number, rows: number) => ({ width: 2 + cols * 58, height: 2 + rows * 58 });

describe('image completion (train --task complete, onnxvae complete)', () => {
  it('trains a CVAE on the top half, scores log p(y|x) and completes test digits and a PNG', async () => {
    const dir = join(root, 'cvae');
    const t = await cli('train', ...RUN, '--epochs', '2', '--config', cfg, '--task', 'complete', '--observed', 'top-half', '--out', dir);
    expect(t.code, t.stderr).toBe(0);
    const b = await readBundleDir(dir);
    expect(b.manifest.config.structured).toEqual({ observed: 'top-half', model: 'cvae' });
    expect(b.manifest.params.some((p) => p.name.startsWith('prior.'))).toBe(true);
    // The epoch pictures are completions: 8 rows of [given | 6 completions | original].
    expect(size(join(dir, 'samples.png'))).toEqual(grid(8, 8));
    // eval's IWAE is the conditional log-likelihood estimate: above the conditional ELBO.
    const e = await cli('eval', dir, '--k', '20', '--json');
    expect(e.code, e.stderr).toBe(0);
    const r = JSON.parse(e.stdout);
    expect(r.iwae).toBeGreaterThanOrEqual(r.elbo);
    // Completions of the test digits: rows of given + 5 + original.
    const c = await cli('complete', dir, '--n', '5', '--examples', '3');
    expect(c.code, c.stderr).toBe(0);
    const file = join(dir, 'completions-seed0-n5.png');
    expect(c.stdout).toContain(`wrote ${file} (3 images × 5 completions of the top-half given)`);
    expect(size(file)).toEqual(grid(7, 3));
    // A PNG of a digit (any size: resized): one row, no original column.
    const { test } = await loadData({ data: 'mnist', limit: 512, seed: 0 });
    const px = Uint8Array.from(test.x.subarray(0, 784), (v) => Math.round(v * 255));
    const png = join(root, 'digit.png');
    writeFileSync(png, encodePng(28, 28, 1, px));
    const out = join(root, 'digit-completions.png');
    const d = await cli('complete', dir, '--input', png, '--n', '4', '--out', out);
    expect(d.code, d.stderr).toBe(0);
    expect(size(out)).toEqual(grid(5, 1));
    // What does not apply says so.
    const s = await cli('sample', dir, '--n', '4', '--out', join(root, 'never.png'));
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/sample does not apply to an image-completion model .*: use onnxvae complete /);
    const rc = await cli('reconstruct', dir);
    expect(rc.code).toBe(1);
    expect(rc.stderr).toMatch(/reconstruct does not apply to an image-completion model/);
    expect(existsSync(join(root, 'never.png'))).toBe(false);
    const plain = join(root, 'plain');
    expect((await cli('train', ...RUN, '--epochs', '1', '--config', cfg, '--out', plain)).code).toBe(0);
    const p = await cli('complete', plain);
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/complete needs a structured-output model \(train --task complete --observed PART\)/);
    expect((await cli('complete', dir, '--input', join(root, 'missing.png'))).stderr).toMatch(/--input .*missing\.png: no such file/);
  });

  it('trains the GSNN, the hybrid and the deterministic baseline; bad task options exit 2 naming them', async () => {
    for (const model of ['gsnn', 'hybrid', 'baseline']) {
      const dir = join(root, model);
      const t = await cli(
        'train',
        ...RUN,
        '--epochs',
        '1',
        '--config',
        cfg,
        '--task',
        'complete',
        '--observed',
        'quadrant',
        '--completion-model',
        model,
        ...(model === 'hybrid' ? ['--hybrid-alpha', '0.25'] : []),
        '--out',
        dir,
      );
      expect(t.code, t.stderr).toBe(0);
      const e = await cli('eval', dir, '--k', '10', '--json');
      const r = JSON.parse(e.stdout);
      if (model === 'hybrid') {
        // Evaluated as a CVAE (q is the recognition network); α is recorded in the bundle's config.
        expect(r.kl).toBeGreaterThan(0);
        expect(r.iwae).toBeGreaterThanOrEqual(r.elbo - 1e-3);
        expect((await readBundleDir(dir)).manifest.config.structured).toEqual({ observed: 'quadrant', model: 'hybrid', alpha: 0.25 });
      } else expect(r.kl, model).toBe(0); // q is the prior network
    }
    const bad = [
      [['--task', 'complete'], /--task complete needs --observed/],
      [['--task', 'complete', '--observed', 'middle'], /--observed must be one of top-half, left-half, quadrant, three-quadrants/],
      [['--observed', 'top-half'], /--observed, --completion-model and --hybrid-alpha go with --task complete/],
      [['--task', 'paint', '--observed', 'top-half'], /--task must be 'complete'/],
      [
        ['--task', 'complete', '--observed', 'top-half', '--completion-model', 'gan'],
        /--completion-model must be cvae, gsnn, hybrid or baseline/,
      ],
      [['--task', 'complete', '--observed', 'top-half', '--hybrid-alpha', '0.5'], /--hybrid-alpha goes with --completion-model hybrid/],
      [['--task', 'complete', '--observed', 'top-half', '--completion-model', 'hybrid', '--hybrid-alpha', '2'], /--hybrid-alpha/],
      [['--hybrid-alpha', '0.5'], /--hybrid-alpha go with --task complete/],
    ] as const;
    for (const [args, msg] of bad) {
      const r = await cli('train', ...RUN, '--epochs', '1', ...args, '--out', join(root, 'bad'));
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });
});

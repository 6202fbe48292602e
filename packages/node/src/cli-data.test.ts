/**
 * The data options end to end through the CLI: --data mnist-full, --binarize (recorded in the manifest, honoured by
 * eval, resumable bit for bit under dynamic binarization), image folders (labels from subfolders, colour data, a
 * colour samples.png), clear errors for bad folders, and eval's progress line with its ETA.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundleDir } from './bundle-io.js';
import { cli } from './testing/cli-run.js';
import { writeImage, writeShapeFolder } from './testing/image-fixtures.js';
import { decodePng } from './testing/png-decode.js';

let root = '';
/** A small model so each run takes a second or two. */
let small = '';

const readMetrics = (dir: string): Record<string, number>[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);
const deterministic = (ms: Record<string, number>[]) => ms.map(({ seconds: _s, samples_per_s: _r, test_seconds: _t, ...m }) => m);

const FULL_RUN = ['--data', 'mnist-full', '--limit', '256', '--batch', '64', '--provider', 'cpu'];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'onnxvae-cli-data-'));
  small = join(root, 'small.json');
  writeFileSync(small, JSON.stringify({ hidden: [64], latent: 4 }));
});
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('--data mnist-full and --binarize', () => {
  it('trains with dynamic binarization by default, records it, and eval scores the official test set as trained', async () => {
    const dir = join(root, 'full');
    const r = await cli('train', ...FULL_RUN, '--epochs', '2', '--config', small, '--out', dir, '--eval-k', '8');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /256 training examples of mnist-full-train, 64 test examples of mnist-full-test, shape \[28,28\]; binarization: dynamic/,
    );
    const b = await readBundleDir(dir);
    expect(b.manifest.training.data).toEqual({ source: 'mnist-full', limit: 256, binarize: 'dynamic', examples: 256, shape: [28, 28] });
    // --eval-k: the last epoch carries the IWAE estimate, which bounds log p(x) above the ELBO (up to MC noise).
    const ms = readMetrics(dir);
    expect(ms[1].iwae_k).toBe(8);
    expect(ms[1].test_iwae).toBeGreaterThan(ms[1].test_elbo - 0.5);
    expect(ms[0].test_iwae).toBeUndefined();
    expect(r.stdout).toMatch(/log p\(x\) ≈ -\d+\.\d\d nats \(IWAE, K=8\) \(mnist-full-test: 64 examples\)/);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toMatch(/test log p\(x\) ≈ <b>-\d+\.\d\d nats<\/b> \(IWAE, K = 8\)/);

    // eval without --data or --binarize: the model's own (mnist-full, the fixed binarized test set). With the noise
    // seed training used, one draw gives the last epoch's test ELBO again (same data, parameters and noise).
    const e = await cli('eval', dir, '--k', '1', '--seed', '12345', '--limit', '256', '--json', '--provider', 'cpu');
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toMatch(
      /scoring the official MNIST test set: 10000 digits \(t10k.*the first 64 of them.*; binarized once by a Bernoulli draw with seed 0/,
    );
    const res = JSON.parse(e.stdout) as { elbo: number; n: number; data: string };
    expect(res.n).toBe(64);
    expect(res.data).toBe('mnist-full-test');
    expect(res.elbo).toBeCloseTo(ms[1].test_elbo, 3);
    // --binarize threshold scores other data: another number.
    const t = await cli(
      'eval',
      dir,
      '--k',
      '1',
      '--seed',
      '12345',
      '--limit',
      '256',
      '--json',
      '--binarize',
      'threshold',
      '--provider',
      'cpu',
    );
    expect(t.code, t.stderr).toBe(0);
    expect(Math.abs((JSON.parse(t.stdout) as { elbo: number }).elbo - res.elbo)).toBeGreaterThan(0.01);
  });

  it('dynamic binarization resumes bit for bit: 1 epoch, then --resume --epochs 2, equals 2 uninterrupted epochs', async () => {
    const whole = join(root, 'full-whole');
    const parts = join(root, 'full-parts');
    expect((await cli('train', ...FULL_RUN, '--epochs', '2', '--config', small, '--out', whole)).code).toBe(0);
    expect((await cli('train', ...FULL_RUN, '--epochs', '1', '--config', small, '--out', parts)).code).toBe(0);
    // No --data and no --binarize: a resumed run takes both from the checkpoint.
    const r = await cli('train', '--resume', '--limit', '256', '--epochs', '2', '--config', small, '--provider', 'cpu', '--out', parts);
    expect(r.code, r.stderr).toBe(0);
    expect(deterministic(readMetrics(parts))).toEqual(deterministic(readMetrics(whole)));
    expect(readFileSync(join(parts, 'checkpoint.safetensors')).equals(readFileSync(join(whole, 'checkpoint.safetensors')))).toBe(true);
    // Another binarization on resume is refused, naming the option.
    const other = await cli(
      'train',
      '--resume',
      '--limit',
      '256',
      '--epochs',
      '3',
      '--config',
      small,
      '--binarize',
      'threshold',
      '--out',
      parts,
    );
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/trained on other data \(binarize: "dynamic", now "threshold"\); resume with the same --binarize/);
  });

  it('records threshold and none (--grayscale is --binarize none), and eval honours each', async () => {
    for (const [flags, mode] of [
      [['--binarize', 'threshold'], 'threshold'],
      [['--grayscale'], 'none'],
      [['--binarize', 'none'], 'none'],
    ] as const) {
      const dir = join(root, `full-${flags.join('')}`);
      const r = await cli('train', ...FULL_RUN, '--limit', '128', '--epochs', '1', '--config', small, '--out', dir, ...flags);
      expect(r.code, r.stderr).toBe(0);
      expect((await readBundleDir(dir)).manifest.training.data?.binarize).toBe(mode);
      const e = await cli('eval', dir, '--k', '1', '--seed', '12345', '--limit', '128', '--json', '--provider', 'cpu');
      expect(e.stderr).toContain(mode === 'threshold' ? 'binarized at 0.5' : 'not binarized');
      expect((JSON.parse(e.stdout) as { elbo: number }).elbo).toBeCloseTo(readMetrics(dir)[0].test_elbo, 3);
    }
  });

  it('usage errors: an unknown mode, --grayscale with another mode, --size on digits', async () => {
    const bad = await cli('train', ...FULL_RUN, '--binarize', 'random', '--out', join(root, 'x'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--binarize must be one of dynamic, threshold, none, got 'random'/);
    const both = await cli('train', ...FULL_RUN, '--binarize', 'dynamic', '--grayscale', '--out', join(root, 'x'));
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--grayscale means --binarize none, but --binarize dynamic was given too/);
    const size = await cli('train', ...FULL_RUN, '--size', '14x14', '--out', join(root, 'x'));
    expect(size.code).toBe(1);
    expect(size.stderr).toMatch(/--size and --channels resize and convert image folders; --data mnist-full is 28×28 gray digits/);
    expect((await cli('train', '--data', 'x', '--size', '0x3')).stderr).toMatch(/--size must be WIDTHxHEIGHT/);
    expect((await cli('train', '--data', 'x', '--channels', '2')).stderr).toMatch(/--channels must be 1 \(gray\) or 3 \(RGB\), got '2'/);
  });
});

describe('image folders through the CLI', () => {
  let shapes = '';
  beforeAll(async () => {
    shapes = join(root, 'shapes');
    await writeShapeFolder(shapes, 8, 16); // 24 colour images of 16×16 in 3 classes
  });

  it('trains on colour images for 2 epochs: Gaussian likelihood, labels from subfolders, colour samples.png', async () => {
    const dir = join(root, 'rgb');
    const r = await cli('train', '--data', shapes, '--epochs', '2', '--batch', '8', '--config', small, '--provider', 'cpu', '--out', dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/colour images: Gaussian likelihood with a learned variance per feature/);
    expect(r.stderr).toMatch(
      /19 training examples of shapes \(train\), 5 test examples .*shape \[3,16,16\], 3 classes \(circle, square, triangle\); binarization: none/,
    );
    const b = await readBundleDir(dir);
    expect(b.manifest.config.likelihood).toEqual({ type: 'gaussian', variance: 'feature' });
    expect(b.manifest.config.inputShape).toEqual([3 * 16 * 16]);
    expect(b.manifest.training.data).toEqual({ source: shapes, binarize: 'none', examples: 19, shape: [3, 16, 16] });
    for (const f of ['samples.png', 'reconstructions.png']) {
      const png = decodePng(readFileSync(join(dir, f)));
      expect(png.colorType, f).toBe(2); // RGB
      // 16×16 tiles at scale 2 with 2 px padding: 8 per row.
      expect(png.width, f).toBe(2 + 8 * (32 + 2));
      // Colour, not gray written three times: some pixel has R ≠ G or G ≠ B.
      let coloured = 0;
      for (let i = 0; i < png.pixels.length; i += 3)
        if (png.pixels[i] !== png.pixels[i + 1] || png.pixels[i + 1] !== png.pixels[i + 2]) coloured++;
      expect(coloured, f).toBeGreaterThan(100);
    }
    // eval and sample use the model's own data and picture shape.
    const e = await cli('eval', dir, '--k', '4', '--json', '--provider', 'cpu');
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toMatch(/the test split of .*shapes that training held out: 5 examples/);
    expect(Number.isFinite((JSON.parse(e.stdout) as { elbo: number }).elbo)).toBe(true);
    const s = await cli('sample', dir, '--n', '4', '--out', join(root, 'rgb-s.png'), '--provider', 'cpu');
    expect(s.code, s.stderr).toBe(0);
    expect(decodePng(readFileSync(join(root, 'rgb-s.png'))).colorType).toBe(2);
    const rec = await cli('reconstruct', dir, '--n', '2', '--out', join(root, 'rgb-r.png'), '--provider', 'cpu');
    expect(rec.code, rec.stderr).toBe(0);
    expect(decodePng(readFileSync(join(root, 'rgb-r.png'))).colorType).toBe(2);
  });

  it('--size resizes and --channels converts, recorded in the shape; eval resizes the same way', async () => {
    const mixed = join(root, 'mixed-sizes');
    cpSync(shapes, mixed, { recursive: true });
    await writeImage(join(mixed, 'circle', 'zz-big.png'), new Uint8Array(20 * 20 * 3).fill(90), 20, 20, 3);
    const no = await cli('train', '--data', mixed, '--epochs', '1', '--config', small, '--provider', 'cpu', '--out', join(root, 'mx'));
    expect(no.code).toBe(1);
    expect(no.stderr).toMatch(/circle\/zz-big\.png: is 20×20 pixels but .*circle-000\.png is 16×16: .*pass --size WxH/);
    const dir = join(root, 'gray8');
    const r = await cli(
      'train',
      '--data',
      mixed,
      '--size',
      '8x8',
      '--channels',
      '1',
      '--epochs',
      '1',
      '--batch',
      '8',
      '--config',
      small,
      '--provider',
      'cpu',
      '--out',
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    const b = await readBundleDir(dir);
    expect(b.manifest.training.data?.shape).toEqual([8, 8]);
    expect(b.manifest.config.likelihood.type).toBe('bernoulli'); // gray data keep the default
    expect(decodePng(readFileSync(join(dir, 'samples.png'))).colorType).toBe(0); // gray
    const e = await cli('eval', dir, '--k', '2', '--json', '--provider', 'cpu');
    expect(e.code, e.stderr).toBe(0);
  });

  it('a corrupt image and an empty folder fail with exit 1 naming the file or folder, and write nothing', async () => {
    const bad = join(root, 'bad');
    cpSync(shapes, bad, { recursive: true });
    writeFileSync(join(bad, 'square', 'square-003.jpg'), readFileSync(join(bad, 'square', 'square-003.jpg')).subarray(0, 100));
    const out = join(root, 'bad-out');
    const r = await cli('train', '--data', bad, '--epochs', '1', '--provider', 'cpu', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(bad, 'square', 'square-003.jpg')}: cannot decode the image`);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    const e = await cli('train', '--data', empty, '--epochs', '1', '--provider', 'cpu', '--out', out);
    expect(e.code).toBe(1);
    expect(e.stderr).toContain(`image folder ${empty} holds no images (.png, .jpg, .jpeg)`);
    expect(() => readFileSync(join(out, 'manifest.json'))).toThrow();
  });
});

describe('eval progress', () => {
  it('prints the examples done, their rate and an ETA, then the elapsed time', async () => {
    const dir = join(root, 'full');
    const r = await cli('eval', dir, '--k', '3', '--limit', '1600', '--provider', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    // 400 test digits in ≥ 20 runs: a line per 10% at least, each with the rate and the time left.
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('eval K=3'));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines[0]).toMatch(/^eval K=3 +\d+% \d+\/400 [\d.k]+ examples\/s ETA \d+:\d\d$/);
    expect(lines.at(-1)).toMatch(/^eval K=3 100% 400\/400 [\d.k]+ examples\/s in \d+:\d\d$/);
  });
});

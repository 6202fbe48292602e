/**
 * bench/paper/run.mjs, the Burda et al. 2016 reference table: the compressed schedule (--dry-run) and a tiny run on a
 * little of the small MNIST set whose table.md and results.json are checked. Needs the built CLI (npm run build).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(ROOT, 'bench/paper/run.mjs');
const root = mkdtempSync(join(tmpdir(), 'onnxvae-paper-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function paper(...argv: string[]) {
  if (!existsSync(join(ROOT, 'packages/node/dist/cli.js'))) throw new Error('packages/node/dist/cli.js is missing: npm run build first');
  const r = spawnSync(process.execPath, [SCRIPT, ...argv], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface Plan {
  budget: number;
  schedule: { stage: number; epochs: number; lr: number }[];
  runs: { name: string; config: { objective: string; samples: number }; train: string[]; eval: string }[];
}
const plan = (...argv: string[]): Plan => {
  const r = paper('--data', 'mnist', '--dry-run', ...argv);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};

describe('bench/paper/run.mjs', () => {
  it("--budget 3280 is the paper's schedule; shorter budgets compress it to exactly that many epochs", () => {
    const full = plan();
    expect(full.schedule.map((s) => s.epochs)).toEqual([1, 3, 9, 27, 81, 243, 729, 2187]);
    for (const [i, s] of full.schedule.entries()) expect(s.lr).toBeCloseTo(1e-3 * 10 ** (-i / 7), 15);
    for (const b of [8, 13, 100, 1000]) {
      const s = plan('--budget', String(b)).schedule;
      // Every stage keeps at least one epoch, the total is the budget, and the longest stage is the last.
      expect(s.map((x) => x.stage)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(s.every((x) => x.epochs >= 1)).toBe(true);
      expect(s.reduce((a, x) => a + x.epochs, 0)).toBe(b);
    }
    expect(plan('--budget', '100').schedule.map((s) => s.epochs)).toEqual([1, 1, 1, 1, 2, 7, 22, 65]);
    // Fewer epochs than stages: stages spread over i = 0…7, one epoch each.
    expect(plan('--budget', '2').schedule.map((s) => [s.stage, s.epochs])).toEqual([
      [0, 1],
      [7, 1],
    ]);
    expect(plan('--budget', '1').schedule.map((s) => s.stage)).toEqual([0]);

    const p = plan('--budget', '2', '--runs', 'vae-k1,iwae-k50', '--presets', 'burda-2layer', '--eval-limit', '100');
    expect(p.runs.map((r) => [r.name, r.config.objective, r.config.samples])).toEqual([
      ['burda-2layer-vae-k1', 'kl', 1],
      ['burda-2layer-iwae-k50', 'iwae', 50],
    ]);
    // One `train` per stage: the first starts the run, the next resume it with the stage's learning rate.
    const [first, second] = p.runs[1].train;
    expect(first).toMatch(/--epochs 1 .*--lr 0\.001 /);
    expect(first).not.toMatch(/--resume/);
    expect(second).toMatch(/--epochs 2 .*--lr 0\.0001\d* .*--resume/);
    // eval --limit N scores ⌈N/4⌉ test digits: 4 × --eval-limit.
    expect(p.runs[1].eval).toMatch(/eval .* --k 5000 .*--limit 400/);
  });

  it('refuses what it cannot run, naming the option', () => {
    expect(paper('--data', 'mnist', '--budget', '0').stderr).toMatch(/--budget must be a positive integer/);
    expect(paper('--data', 'mnist', '--runs', 'vae-1').stderr).toMatch(/--runs: 'vae-1' is not vae-kK or iwae-kK/);
    expect(paper('--data', 'mnist', '--presets', 'nope').stderr).toMatch(/no preset nope/);
  });

  it('trains both presets (IWAE, k = 2) over two stages, evaluates them and writes the table beside the paper’s', () => {
    const out = join(root, 'run');
    const r = paper(
      ...['--data', 'mnist', '--limit', '64', '--budget', '2', '--runs', 'iwae-k2', '--batch', '16'],
      ...['--eval-k', '8', '--eval-limit', '8', '--out', out, '--date', '2026-12-03'],
    );
    expect(r.code, r.stderr).toBe(0);
    const table = readFileSync(join(out, 'table.md'), 'utf8');
    expect(r.stdout).toBe(table);
    expect(table).toMatch(/^Measured 2026-12-03 on .*wall time/);
    expect(table).toContain('k = 8 importance samples (the paper: 5000) on the first 8 test digits');
    expect(table).toContain('2 epochs per run (the paper: 3280), batch 16');
    const rows = table.split('\n').filter((l) => /^\| [12] \|/.test(l));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^\| 1 \| burda-1layer \| IWAE \| 2 \| 2 \| -\d+\.\d\d \| -\d+\.\d\d \| — \|/); // the paper has no k = 2
    expect(rows[1]).toMatch(/^\| 2 \| burda-2layer \| IWAE \| 2 \| 2 \|/);
    const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    for (const row of res.rows) {
      expect(row).toMatchObject({ epochs: 2, evalK: 8, evalN: 8 });
      expect(row.logpx).toBeLessThan(0);
      expect(Number.isFinite(row.testElbo)).toBe(true);
    }
    // The second stage resumed the first with the last learning rate of the schedule.
    const m = JSON.parse(readFileSync(join(out, 'burda-2layer-iwae-k2', 'manifest.json'), 'utf8'));
    expect(m.training.epoch).toBe(2);
    expect(m.training.lr).toBeCloseTo(1e-4, 12);
    expect(m.config.hierarchical).toEqual({ latent: 50, hidden: [100, 100] });

    // The same command again trains and scores nothing: every stage and eval is kept, and the table is the same
    // (an interrupted multi-day run is resumed by rerunning its command).
    const again = paper(
      ...['--data', 'mnist', '--limit', '64', '--budget', '2', '--runs', 'iwae-k2', '--batch', '16'],
      ...['--eval-k', '8', '--eval-limit', '8', '--out', out, '--date', '2026-12-03'],
    );
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('paper: burda-1layer-iwae-k2: stage 7 (to epoch 2) already trained, kept');
    expect(again.stderr).toContain('paper: burda-2layer-iwae-k2: eval already done');
    expect(again.stderr).not.toMatch(/epoch \d+: train ELBO/);
    const rowsAgain = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).rows;
    expect(rowsAgain.map((x: { logpx: number }) => x.logpx)).toEqual(res.rows.map((x: { logpx: number }) => x.logpx));
    // Another budget is another schedule: the epochs in the folder were trained at other learning rates, so the run
    // is trained again from the start rather than continued.
    const more = paper(
      ...['--data', 'mnist', '--limit', '64', '--budget', '3', '--runs', 'iwae-k2', '--batch', '16', '--presets', 'burda-1layer'],
      ...['--eval-k', '8', '--eval-limit', '8', '--out', out, '--date', '2026-12-03'],
    );
    expect(more.code, more.stderr).toBe(0);
    expect(more.stderr).toContain('was trained on another schedule; training this run from the start');
    expect(more.stderr).toMatch(/epoch 1: train ELBO/);
    expect(more.stderr).toMatch(/epoch 3: train ELBO/);
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).rows[0].epochs).toBe(3);
  });
});

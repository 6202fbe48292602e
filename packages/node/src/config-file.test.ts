import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '@onnxvae/core';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigJson, readConfigFile } from './config-file.js';

const dir = mkdtempSync(join(tmpdir(), 'onnxvae-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('model config files', () => {
  it('accepts partial configs, nested ones included, that core then resolves', () => {
    const path = join(dir, 'ok.json');
    writeFileSync(
      path,
      JSON.stringify({
        hidden: [512, 256],
        latent: 32,
        likelihood: { type: 'gaussian', variance: 'fixed', sigma: 0.1 },
        optimizer: { type: 'adamw', weightDecay: 0.01, clipNorm: 5 },
      }),
    );
    const cfg = resolveConfig(readConfigFile(path));
    expect(cfg.hidden).toEqual([512, 256]);
    expect(cfg.likelihood).toEqual({ type: 'gaussian', variance: 'fixed', sigma: 0.1 });
    expect(cfg.optimizer).toMatchObject({ type: 'adamw', weightDecay: 0.01, clipNorm: 5, beta1: 0.9 });
    expect(parseConfigJson({}, 'x')).toEqual({});
    // Optional fields the reference model leaves out are known too.
    const cond = { conditional: { classes: 10 }, latentType: 'gaussian' };
    expect(parseConfigJson(cond, 'x')).toEqual(cond);
  });

  it.each([
    [[64], /x: the config must be a JSON object, got array/],
    [null, /x: the config must be a JSON object, got null/],
    ['mlp', /x: the config must be a JSON object, got string/],
    [{ hiden: [64] }, /x: unknown field 'hiden' \(known fields: arch, inputShape, hidden, latent/],
    [{ latent: '20' }, /x: 'latent' must be a number, got "20"/],
    [{ hidden: 64 }, /x: 'hidden' must be an array, got 64/],
    [{ hidden: ['64'] }, /x: 'hidden' must be an array of numbers, got \["64"\]/],
    [{ optimizer: 'adam' }, /x: optimizer must be a JSON object, got string/],
    [{ conditional: { clases: 10 } }, /x: unknown field 'conditional.clases' \(known fields: classes, prior\)/],
    [
      { optimizer: { lr: 0.1 } },
      /x: unknown field 'optimizer.lr' \(known fields: type, beta1, beta2, eps, weightDecay, momentum, clipNorm\)/,
    ],
    [{ likelihood: { type: 'gaussian', sigma: '1' } }, /x: 'likelihood.sigma' must be a number, got "1"/],
  ])('rejects %j', (value, message) => {
    expect(() => parseConfigJson(value, 'x')).toThrow(message);
  });

  it('names the file when it cannot be read or parsed', () => {
    expect(() => readConfigFile(join(dir, 'absent.json'))).toThrow(/config file .*absent\.json: cannot read \(ENOENT\)/);
    writeFileSync(join(dir, 'bad.json'), '{"latent": 20,}');
    expect(() => readConfigFile(join(dir, 'bad.json'))).toThrow(/config file .*bad\.json: not valid JSON \(/);
  });
});

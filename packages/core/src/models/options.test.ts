/** Model options: likelihoods, β, free bits, the conv architecture, config validation. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle, initialState } from '../artifacts/bundle.js';
import { tensorData } from '../ir/tensor.js';
import { Prng } from '../random/prng.js';
import { Trainer } from '../runtime/trainer.js';
import { runGraph } from '../testing/run-graph.js';
import { synthBinary } from '../testing/synthetic.js';
import { resolveConfig, type VaeConfig } from './config.js';
import { buildEval, buildTrainStep, parameterSpecs } from './graphs.js';

const small = (over: Partial<VaeConfig> = {}) =>
  resolveConfig({ inputShape: [6], hidden: [5], latent: 2, activation: 'tanh', dtype: 'float64', ...over });

async function stepOutputs(cfg: VaeConfig, beta: number) {
  const st = initialState(cfg, 7);
  const B = 4;
  const x = tensorData('float64', [B, 6], Float64Array.from(synthBinary(B, 6, 1)));
  const e = new Float64Array(cfg.samples * B * cfg.latent);
  new Prng(5).fillNormal(e);
  const eps = tensorData('float64', [cfg.samples, B, cfg.latent], e);
  const s = (v: number) => tensorData('float64', [], [v]);
  const train = await runGraph(ort, buildTrainStep(cfg), { x, eps, step: s(1), lr: s(0), beta: s(beta), ...st.params, ...st.optState });
  const ev = await runGraph(ort, buildEval(cfg), { x, eps, ...st.params });
  const mean = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
  return { train, ev, mean, st };
}

describe('objective options', () => {
  it('β weights the KL term: loss = −E[rec] + β·E[KL]', async () => {
    const { train, ev, mean } = await stepOutputs(small(), 0.3);
    // Same float64 graph terms on both sides: agreement to rounding.
    expect(Math.abs(train.loss[0] - (-mean(ev.rec) + 0.3 * mean(ev.kl)))).toBeLessThan(1e-12);
    expect(Math.abs(train.elbo[0] - mean(ev.elbo))).toBeLessThan(1e-12);
  });

  it('free bits: each latent dim counts at least λ nats of KL', async () => {
    // λ far above any dim's KL: the KL term becomes exactly L·λ.
    const { train, ev, mean } = await stepOutputs(small({ freeBits: 50 }), 1);
    expect(Math.abs(train.loss[0] - (-mean(ev.rec) + 2 * 50))).toBeLessThan(1e-10);
    // λ = 0 is the plain bound.
    const plain = await stepOutputs(small({ freeBits: 0 }), 1);
    expect(Math.abs(plain.train.loss[0] - (-plain.mean(plain.ev.rec) + plain.mean(plain.ev.kl)))).toBeLessThan(1e-12);
  });

  it('Gaussian likelihoods (fixed, learned scalar, learned per feature) add the right parameters and train', async () => {
    for (const likelihood of [
      { type: 'gaussian', variance: 'fixed', sigma: 0.5 },
      { type: 'gaussian', variance: 'scalar' },
      { type: 'gaussian', variance: 'feature' },
    ] as const) {
      const cfg = small({ likelihood, dtype: 'float32' });
      const names = parameterSpecs(cfg).map((p) => p.name);
      const lv = parameterSpecs(cfg).find((p) => p.name === 'likelihood.logvar');
      if (likelihood.variance === 'fixed') expect(lv).toBeUndefined();
      else expect(lv?.shape).toEqual(likelihood.variance === 'scalar' ? [1] : [6]);
      expect(names).toContain('decoder.mlp.fc2.weight');
      const st = initialState(cfg, 1);
      const b = await createBundle(cfg, st);
      const t = new Trainer(ort, await ort.InferenceSession.create(b.files['train_step.onnx']), b.manifest, st, { lr: 1e-2 });
      const x = synthBinary(64, 6, 2);
      const losses = [];
      for (let i = 0; i < 60; i++) losses.push((await t.trainStep(x, 64)).loss);
      expect(losses[59]).toBeLessThan(losses[0]);
    }
  });

  it('a convolutional VAE builds, exports and trains', async () => {
    const cfg = resolveConfig({ arch: 'conv', inputShape: [1, 8, 8], convChannels: [4, 8], hidden: [16], latent: 3, samples: 2 });
    const st = initialState(cfg, 3);
    const b = await createBundle(cfg, st, { evalSamples: 4 });
    expect(Object.keys(st.params)).toContain('encoder.conv1.weight');
    expect(st.params['decoder.deconv2.weight'].shape).toEqual([4, 1, 4, 4]);
    const t = new Trainer(ort, await ort.InferenceSession.create(b.files['train_step.onnx']), b.manifest, st, { lr: 3e-3 });
    const x = synthBinary(32, 64, 5);
    const losses = [];
    for (let i = 0; i < 40; i++) losses.push((await t.trainStep(x, 32)).loss);
    expect(losses.slice(-5).reduce((p, q) => p + q) / 5).toBeLessThan(losses.slice(0, 5).reduce((p, q) => p + q) / 5);
    const dec = await ort.InferenceSession.create(b.files['decoder.onnx']);
    const out = await dec.run({ z: new ort.Tensor('float32', new Float32Array(6), [2, 3]) });
    expect(out.x_mean.dims).toEqual([2, 64]);
  });
});

describe('config validation', () => {
  it.each([
    [{ latent: 0 }, /latent must be a positive integer, got 0/],
    [{ activation: 'gelu' }, /activation must be one of .*got "gelu"/],
    [{ arch: 'conv', inputShape: [784] }, /inputShape must be \[channels, height, width\]/],
    [{ arch: 'conv', inputShape: [1, 30, 30] }, /divisible by 4/],
    [{ likelihood: { type: 'gaussian', variance: 'fixed', sigma: -1 } }, /likelihood.sigma must be > 0/],
    [{ optimizer: { type: 'rmsprop' } }, /optimizer.type must be 'adam', 'adamw' or 'sgd'/],
    [{ optimizer: { beta2: 1 } }, /optimizer.beta2 must be in \[0, 1\), got 1/],
    [{ optimizer: { eps: -1 } }, /optimizer.eps must be ≥ 0/],
    [{ optimizer: { weightDecay: -0.1 } }, /optimizer.weightDecay must be ≥ 0, got -0.1/],
    [{ optimizer: { weightDecay: '0.1' } }, /optimizer.weightDecay must be ≥ 0, got "0.1"/],
    [{ optimizer: { type: 'sgd', momentum: Number.NaN } }, /optimizer.momentum must be ≥ 0, got NaN/],
    [{ optimizer: { clipNorm: -5 } }, /optimizer.clipNorm must be ≥ 0/],
    [{ samples: 1.5 }, /samples must be a positive integer/],
  ])('%j is rejected', (over, msg) => {
    expect(() => resolveConfig(over as Partial<VaeConfig>)).toThrow(msg);
  });
});

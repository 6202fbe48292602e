import * as ort from 'onnxruntime-node';
import { it } from 'vitest';
import { createBundle, initialState } from '../artifacts/bundle.js';
import { Trainer } from '../runtime/trainer.js';
import { synthBinary } from '../testing/synthetic.js';
import { resolveConfig } from './config.js';

it('scratch', async () => {
  for (const [latentType, over] of [['bernoulli', { latent: 4 }], ['categorical', { latent: 2, categories: 4 }], ['gaussian', {latent: 2, estimator: 'score'}]] as const) {
    for (const lr of [1e-2, 3e-2]) {
    const cfg = resolveConfig({ inputShape: [16], hidden: [32], latentType, samples: 4, baseline: 'leave-one-out', ...over });
    const st = initialState(cfg, 1);
    const b = await createBundle(cfg, st);
    const t = new Trainer(ort, await ort.InferenceSession.create(b.files['train_step.onnx']), b.manifest, st, { lr });
    const data = synthBinary(256, 16, 4);
    const losses: number[] = [];
    const t0 = Date.now();
    for (let epoch = 0; epoch < 12; epoch++) {
      for (let i = 0; i < 256; i += 32) losses.push((await t.trainStep(data.subarray(i * 16, (i + 32) * 16), 32)).loss);
    }
    const avg = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
    const kls = [];
    console.log(latentType, lr, Date.now() - t0, 'ms', Array.from({ length: 12 }, (_, e) => avg(losses.slice(e * 8, e * 8 + 8)).toFixed(2)).join(' '));
    }
  }
});
it('h', () => {
  const data = synthBinary(256, 16, 4);
  let ignoreZ = 0;
  for (let j = 0; j < 16; j++) {
    let mean = 0;
    for (let i = 0; i < 256; i++) mean += data[i * 16 + j] / 256;
    if (mean > 0 && mean < 1) ignoreZ -= mean * Math.log(mean) + (1 - mean) * Math.log(1 - mean);
  }
  console.log('HMARG', ignoreZ);
});

/**
 * `onnxvae export DIR --out WEBDIR [--fp16]`: copies what a browser needs from a bundle into a folder; with --fp16 the
 * decoder and encoder store float16 weights, and the export measures what that costs in pixels.
 */
import { type Bundle, buildDecoder, type LoadedBundle, openSampler, Prng, serializeModel, withFloat16Weights } from '@onnxvae/core';
import { readBundleDir, writeBundle } from '../../bundle-io.js';
import { gridLabels } from '../../conditional.js';
import { createNodeRuntime } from '../../session.js';
import { bundleDir, num, UsageError } from '../args.js';
import type { Command, CommandContext } from '../context.js';

/** Prior draws decoded by both decoders to measure the float16 error. */
const CHECK_SAMPLES = 1000;

export interface PixelError {
  samples: number;
  max: number;
  mean: number;
}

/**
 * Decodes the same `n` prior draws (fixed seed; a conditional model one class per draw, in turn) with the full-
 * precision decoder of `full`'s checkpoint and the decoder of `other`, on onnxruntime-node's CPU, and compares the pixel means.
 */
export async function pixelError(full: LoadedBundle, other: Bundle, n = CHECK_SAMPLES): Promise<PixelError> {
  const rt = await createNodeRuntime({ provider: 'cpu' });
  const opts = { encoder: false, params: full.state.params } as const;
  // The reference is rebuilt from the checkpoint, so a bundle exported with --fp16 before is still compared with float32.
  const reference = serializeModel(buildDecoder(full.manifest.config, full.state.params));
  const a = await openSampler(rt, { manifest: full.manifest, files: { 'decoder.onnx': reference } }, opts);
  const b = await openSampler(rt, other, opts);
  const { labels } = gridLabels(full.manifest.config, n);
  let max = 0;
  let sum = 0;
  const chunk = 250;
  const prng = new Prng(20261203);
  try {
    for (let i = 0; i < n; i += chunk) {
      const m = Math.min(chunk, n - i);
      const s = await a.sample(m, { prng, label: labels?.slice(i, i + m) });
      const x = await b.decode(s.z, m, labels?.slice(i, i + m));
      for (let j = 0; j < s.x.length; j++) {
        const d = Math.abs(s.x[j] - x[j]);
        if (!(d <= max)) max = d; // a NaN makes max NaN, and the caller refuses it
        sum += d;
      }
    }
  } finally {
    await a.release();
    await b.release();
  }
  return { samples: n, max, mean: sum / (n * full.manifest.config.inputShape.reduce((p, c) => p * c, 1)) };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

async function run({ cmd, v, pos, out, note }: CommandContext): Promise<number> {
  const dir = bundleDir(pos, cmd);
  if (!v.out) throw new UsageError('export needs --out WEBDIR');
  if (v.samples !== undefined && !v.fp16) throw new UsageError('--samples is for --fp16 (the prior draws its error is measured on)');
  // Every file validated, then written (atomically) from what was read: a folder without manifest.json
  // (an interrupted run) exports its newest checkpoint.
  const b = await readBundleDir(dir, { log: note });
  if (!v.fp16) {
    writeBundle(v.out, b);
    out(`exported ${dir} to ${v.out}\n`);
    return 0;
  }
  const n = num(v.samples, 'samples', CHECK_SAMPLES, { int: true, min: 1, max: 1_000_000 });
  const half = await withFloat16Weights(b);
  const err = await pixelError(b, half, n);
  if (!Number.isFinite(err.max)) {
    throw new Error(`${dir}: the float16 decoder gives non-finite pixels (max error ${err.max}); nothing was written to ${v.out}`);
  }
  half.manifest.deploy = { ...half.manifest.deploy, weights: 'float16', pixelError: err };
  writeBundle(v.out, half);
  const full = half.manifest.deploy.fullPrecisionBytes;
  const size = (f: 'decoder' | 'encoder') => {
    const now = half.manifest.files[`${f}.onnx`].bytes;
    const was = full?.[f] ?? now;
    return `  ${f}.onnx  ${kb(was)} → ${kb(now)} (${((100 * now) / was).toFixed(1)}%)\n`;
  };
  out(
    `exported ${dir} to ${v.out} with float16 weights\n${size('decoder')}${size('encoder')}` +
      `  pixel error against float32 on ${n} prior samples: max ${err.max.toExponential(2)}, mean ${err.mean.toExponential(2)}\n`,
  );
  return 0;
}

export const exportCommand: Command = {
  summary: 'copy what a browser needs into a folder (--fp16: half-size decoder and encoder)',
  usage: 'onnxvae export DIR --out WEBDIR [--fp16 [--samples 1000]]',
  help: `Validates the bundle in DIR and copies manifest.json, decoder.onnx, encoder.onnx, train_step.onnx, eval.onnx and
checkpoint.safetensors into WEBDIR.

  --out WEBDIR          the folder to write (made if missing; written atomically)
  --fp16                decoder.onnx and encoder.onnx store their weights as float16 (about half the download;
                        inputs, outputs and arithmetic stay float32). Decodes --samples prior draws with both decoders
                        and prints the size and the max/mean pixel error, also recorded in manifest.json (deploy).
                        The checkpoint, train_step.onnx and eval.onnx stay at full precision.
  --samples N           prior draws for the error check  [${CHECK_SAMPLES}]`,
  run,
};

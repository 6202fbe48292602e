/**
 * `onnxvae info DIR`: what a bundle holds.
 */
import { readBundleDir } from '../../bundle-io.js';
import { bundleDir } from '../args.js';
import type { Command, CommandContext } from '../context.js';

async function run({ cmd, v, pos, out, note }: CommandContext): Promise<number> {
  const dir = bundleDir(pos, cmd);
  const { manifest: m } = await readBundleDir(dir, { log: note });
  const nParams = m.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
  const last = m.metrics[m.metrics.length - 1];
  const info = {
    format: `${m.format} v${m.formatVersion}`,
    model: `${m.config.arch} [${m.config.inputShape}] hidden [${m.config.hidden}] latent ${m.config.latent}, ${m.config.likelihood.type}, ${m.config.optimizer.type}`,
    parameters: nParams,
    tensors: m.params.length,
    training: `epoch ${m.training.epoch}, step ${m.training.step}, seed ${m.training.seed}`,
    last: last ?? null,
    ...(m.deploy
      ? {
          deploy:
            `decoder.onnx and encoder.onnx store float16 weights` +
            (m.deploy.fullPrecisionBytes
              ? ` (${m.files['decoder.onnx'].bytes} bytes, ${m.deploy.fullPrecisionBytes.decoder} at full precision)`
              : '') +
            (m.deploy.pixelError
              ? `; pixel error against float32 on ${m.deploy.pixelError.samples} prior samples: max ${m.deploy.pixelError.max.toExponential(2)}, mean ${m.deploy.pixelError.mean.toExponential(2)}`
              : ''),
        }
      : {}),
    files: Object.fromEntries(Object.entries(m.files).map(([f, e]) => [f, `${e.bytes} bytes, sha256 ${e.sha256.slice(0, 12)}…`])),
  };
  out(
    v.json
      ? `${JSON.stringify(m, null, 2)}\n`
      : `${Object.entries(info)
          .map(([k, val]) => `${k}: ${typeof val === 'object' ? JSON.stringify(val) : val}`)
          .join('\n')}\n`,
  );
  return 0;
}

export const infoCommand: Command = {
  summary: 'what a bundle holds',
  usage: 'onnxvae info DIR [--json]',
  help: `Prints the bundle's format, model, parameter count, training state, last metrics and files.

  --json                print the whole manifest`,
  run,
};

/**
 * `onnxvae export DIR --out WEBDIR`: copies what a browser needs from a bundle into a folder.
 */
import { readBundleDir, writeBundle } from '../../bundle-io.js';
import { bundleDir, UsageError } from '../args.js';
import type { Command, CommandContext } from '../context.js';

async function run({ cmd, v, pos, out, note }: CommandContext): Promise<number> {
  const dir = bundleDir(pos, cmd);
  if (!v.out) throw new UsageError('export needs --out WEBDIR');
  // Every file validated, then written (atomically) from what was read: a folder without manifest.json
  // (an interrupted run) exports its newest checkpoint.
  writeBundle(v.out, await readBundleDir(dir, { log: note }));
  out(`exported ${dir} to ${v.out}\n`);
  return 0;
}

export const exportCommand: Command = {
  summary: 'copy what a browser needs into a folder',
  usage: 'onnxvae export DIR --out WEBDIR',
  help: `Validates the bundle in DIR and copies manifest.json, decoder.onnx, encoder.onnx, train_step.onnx, eval.onnx and
checkpoint.safetensors into WEBDIR.

  --out WEBDIR          the folder to write (made if missing)`,
  run,
};

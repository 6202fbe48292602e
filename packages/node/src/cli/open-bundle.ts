/** What the bundle commands open: a bundle folder with a runtime for its provider, and a sampler over its graphs. */
import { imageDims, openSampler } from '@onnxvae/core';
import { readBundleDir } from '../bundle-io.js';
import { createNodeRuntime, type ProviderChoice } from '../session.js';

/** `note`: where readBundleDir says it reads a checkpoint of an interrupted run (a folder without manifest.json). */
export async function sessionsFor(dir: string, p: ProviderChoice, note: (line: string) => void) {
  const b = await readBundleDir(dir, { log: note });
  const rt = await createNodeRuntime({ provider: p });
  return { b, rt };
}

/** The bundle in `dir`, its sampler, and the [height, width] its examples are drawn at. */
export async function makeSampler(dir: string, p: ProviderChoice, note: (line: string) => void) {
  const { b, rt } = await sessionsFor(dir, p, note);
  const cfg = b.manifest.config;
  const sampler = await openSampler(rt, b);
  const hw = imageDims(cfg);
  if (!hw) throw new Error(`${dir}: examples of shape [${cfg.inputShape}] cannot be drawn as images`);
  return { b, sampler, hw, cfg };
}

/** What the bundle commands open: a bundle folder with a runtime for its provider, and a sampler over its graphs. */
import { openSampler } from '@onnxvae/core';
import { readBundleDir } from '../bundle-io.js';
import { imageShape } from '../report/image-shape.js';
import { createNodeRuntime, type ProviderChoice } from '../session.js';

/** `note`: where readBundleDir says it reads a checkpoint of an interrupted run (a folder without manifest.json). */
export async function sessionsFor(dir: string, p: ProviderChoice, note: (line: string) => void) {
  const b = await readBundleDir(dir, { log: note });
  const rt = await createNodeRuntime({ provider: p });
  return { b, rt };
}

/** The bundle in `dir`, its sampler, and the [height, width] and channels (1 gray, 3 RGB) its examples are drawn at. */
export async function makeSampler(dir: string, p: ProviderChoice, note: (line: string) => void) {
  const { b, rt } = await sessionsFor(dir, p, note);
  const cfg = b.manifest.config;
  const sampler = await openSampler(rt, b);
  const shape = imageShape(b.manifest);
  if (!shape) throw new Error(`${dir}: examples of shape [${cfg.inputShape}] cannot be drawn as images`);
  return { b, sampler, hw: [shape.height, shape.width] as [number, number], channels: shape.channels, cfg };
}

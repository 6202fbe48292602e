/**
 * `onnxvae ui DIR`: the dashboard of a run folder (finished, interrupted, or still training in another process),
 * served on 127.0.0.1 until Ctrl-C.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startDashboard } from '../../ui/server.js';
import { bundleDir, portNumber, UI_HELP } from '../args.js';
import type { Command, CommandContext } from '../context.js';

/** Waits for the first SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

async function run({ cmd, v, pos, out, note }: CommandContext): Promise<number> {
  const dir = bundleDir(pos, cmd);
  const port = portNumber(v.port, 'port');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir} is not a folder`);
  if (!['metrics.jsonl', 'run.json', 'manifest.json'].some((f) => existsSync(join(dir, f))))
    throw new Error(`${dir} holds no training run (no metrics.jsonl, run.json or manifest.json)`);
  const d = await startDashboard({ dir, port, follow: true });
  out(`${d.url}\n`);
  note(`serving the run in ${dir} at ${d.url} (Ctrl-C stops)`);
  const sig = await untilSignal();
  await d.close();
  note(`${sig}: dashboard stopped`);
  return 0;
}

export const uiCommand: Command = {
  summary: 'the dashboard of a run folder (curves, pictures every epoch, config), on 127.0.0.1',
  usage: 'onnxvae ui DIR [--port P]',
  help: `Serves the run page of DIR (what train --ui shows live): loss and ELBO per step and per epoch, the samples and
reconstructions after every epoch, the run's settings, command line and config. The page follows the folder:
a run still training there (in another process) updates it as it goes. Stops with Ctrl-C.

  --port P              0 … 65535  [0: a free port]
${UI_HELP.replace('on stderr', 'on stdout')}`,
  run,
};

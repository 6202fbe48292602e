#!/usr/bin/env node
/**
 * The `onnxvae` command: train, eval, gap, variance, sample, reconstruct, interpolate, export, info. The entry point
 * the bin (packages/node/bin/onnxvae.js) loads; the parsing, help and dispatch are cli/main.ts, each command is
 * cli/commands/<command>.ts.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { main } from './cli/main.js';

export { joinDashValues, LIMITS } from './cli/args.js';
export { main };

/** Whether `script` (process.argv[1]) is this file, through any symlink: a user's own cli.js importing us is not. */
function isMainModule(script: string | undefined): boolean {
  if (!script) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false; // node -e, a REPL: no script file
  }
}

// Run when executed as `node …/dist/cli.js` (npm run main); the bin, packages/node/bin/onnxvae.js, imports this file
// and calls main itself, and tests import it without running anything.
if (isMainModule(process.argv[1])) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

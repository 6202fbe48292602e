#!/usr/bin/env node
// The `onnxvae` command. It lives in the repository, not in dist/, so that `npm install` on a fresh clone links
// node_modules/.bin/onnxvae before anything is built; it runs the built CLI, dist/cli.js.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  process.stderr.write(
    `onnxvae: the CLI is not built yet (${fileURLToPath(cli)} is missing): run \`npm run build\` in ${root} and try again\n`,
  );
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));

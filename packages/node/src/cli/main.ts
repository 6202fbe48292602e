/**
 * The `onnxvae` command line: parses the arguments, prints help and usage, dispatches to one module per command
 * (commands/), and turns what they throw into messages and exit statuses. cli.ts, the entry the bin loads, re-exports
 * main.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setOrtLogLevel } from '../session.js';
import { TrainingInterruptedError } from '../train.js';
import { joinDashValues, OPTIONS, UsageError, type Values } from './args.js';
import { completeCommand } from './commands/complete.js';
import { doctorCommand } from './commands/doctor.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { gapCommand } from './commands/gap.js';
import { infoCommand } from './commands/info.js';
import { interpolateCommand, reconstructCommand } from './commands/reconstruct.js';
import { sampleCommand } from './commands/sample.js';
import { trainCommand } from './commands/train.js';
import { uiCommand } from './commands/ui.js';
import { varianceCommand } from './commands/variance.js';
import { type Command, defaultErr } from './context.js';

/** Each command, in the order the overview lists them: its summary, usage and help (`onnxvae help CMD`) and its run. */
const COMMANDS: Record<string, Command> = {
  train: trainCommand,
  ui: uiCommand,
  eval: evalCommand,
  gap: gapCommand,
  sample: sampleCommand,
  reconstruct: reconstructCommand,
  complete: completeCommand,
  interpolate: interpolateCommand,
  variance: varianceCommand,
  export: exportCommand,
  info: infoCommand,
  doctor: doctorCommand,
};

const OVERVIEW = `usage: onnxvae <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`)
  .join('\n')}

onnxvae help <command> (or onnxvae <command> --help) lists a command's options; onnxvae --version prints the version.
Exit status: 0 done, 1 failed (the message says why), 2 bad command line, 130 interrupted by Ctrl-C (143 by SIGTERM).
ONNXVAE_ORT_LOG_LEVEL=warning shows onnxruntime's own log (default: fatal only).`;

/** The full help of one command. */
function commandHelp(cmd: string): string {
  const c = COMMANDS[cmd];
  return `usage: ${c.usage}\n\n${c.help}\n\nExit status: 0 done, 1 failed (the message says why), 2 bad command line, 130 interrupted by Ctrl-C (143 by SIGTERM).`;
}

/** What follows a usage error: the command's synopsis and where its options are, or the overview. */
function usageHint(cmd: string | undefined): string {
  if (cmd === undefined || !Object.hasOwn(COMMANDS, cmd)) return OVERVIEW;
  return `usage: ${COMMANDS[cmd].usage}\n(onnxvae help ${cmd} lists its options)`;
}

/** The version of the @onnxvae/node package (its package.json is two folders above src/cli/ and dist/cli/). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return String(pkg.version);
}

const ORT_LOG_LEVELS = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;

/**
 * Runs one command. Results go to `out` (stdout), messages and progress to `err` (stderr); returns the exit status:
 * 0 done, 1 failed, 2 bad command line.
 */
export async function main(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = defaultErr,
): Promise<number> {
  // A failed CUDA probe is expected under --provider auto and is explained in our own words; ORT's C++ logger would
  // also print it as an error. It can only be set before the first session, which is why it is set here.
  const level = process.env.ONNXVAE_ORT_LOG_LEVEL ?? 'fatal';
  setOrtLogLevel(ORT_LOG_LEVELS.find((l) => l === level) ?? 'fatal');
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: joinDashValues(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    err(`onnxvae: ${(e as Error).message}\n${usageHint(argv[0]?.startsWith('-') ? undefined : argv[0])}\n`);
    return 2;
  }
  const { values: v, positionals: pos } = parsed;
  const cmd = pos[0];
  const note = (line: string): void => err(`${line}\n`);
  try {
    if (v.version) {
      out(`onnxvae ${version()}\n`);
      return 0;
    }
    // `onnxvae help [CMD]`, `onnxvae [CMD] --help`: the overview, or that command's own options.
    if (cmd === 'help' || v.help) {
      const topic = cmd === 'help' ? pos[1] : cmd;
      if (topic === undefined) out(`${OVERVIEW}\n`);
      else if (Object.hasOwn(COMMANDS, topic)) out(`${commandHelp(topic)}\n`);
      else throw new UsageError(`unknown command '${topic}'`);
      return 0;
    }
    if (!cmd) throw new UsageError('no command given');
    if (!Object.hasOwn(COMMANDS, cmd)) throw new UsageError(`unknown command '${cmd}'`);
    return await COMMANDS[cmd].run({ cmd, argv, v, pos, out, err, note });
  } catch (e) {
    if (e instanceof UsageError) {
      err(`onnxvae: ${e.message}\n${usageHint(cmd)}\n`);
      return 2;
    }
    if (e instanceof TrainingInterruptedError) {
      err(`onnxvae: ${e.message}\n`);
      return e.exitCode; // 130 for Ctrl-C, as shells report it
    }
    err(`onnxvae: error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

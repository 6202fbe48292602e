/** What a command gets from main, and what main gets from a command. */
import type { Values } from './args.js';

/** One command of the `onnxvae` CLI: its one-line summary and help (`onnxvae help CMD`), and what runs it. */
export interface Command {
  summary: string;
  usage: string;
  help: string;
  /** Runs the command; returns the exit status (errors are thrown: main turns them into messages and statuses). */
  run(ctx: CommandContext): Promise<number>;
}

export interface CommandContext {
  /** The command's name as typed (`reconstruct` and `interpolate` share one run). */
  cmd: string;
  /** The whole command line, as main got it. */
  argv: string[];
  /** The parsed options (`v`) and positionals (`pos[0]` is the command). */
  v: Values;
  pos: string[];
  /** Results (stdout). */
  out: (s: string) => void;
  /** Messages and progress (stderr). */
  err: (s: string) => void;
  /** One line of a message to `err`: what readBundleDir and the loaders say. */
  note: (line: string) => void;
}

/** stderr as main writes it by default; a command draws a live progress bar only there, on a terminal. */
export const defaultErr = (s: string): void => {
  process.stderr.write(s);
};

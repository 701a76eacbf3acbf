/**
 * A benchmark's command line: node's parseArgs, with `--help` printing the usage and a bad flag ending in
 * one line naming it, the usage, and exit status 2 — not a stack trace.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export function benchArgs<T extends ParseArgsConfig>(usage: string, config: T): ReturnType<typeof parseArgs<T>> {
  const args = config.args ?? process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  try {
    return parseArgs(config);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${usage}\n`);
    process.exit(2);
  }
}

/** A flag's value that parseArgs accepted but the benchmark cannot use: one line, the usage, exit status 2. */
export function benchFail(usage: string, message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

import { VERSION } from '../version.js';
import { isUserError, UserError } from '../errors.js';
import { parseArgs, type CliArgs } from './args.js';
import { pythonErrorClass } from '../config/hydra-errors.js';
import type { AppIO } from '../hydra/io.js';

/** The command's streams, environment and folder: what Hydra's runner calls AppIO. */
export type CliIO = AppIO;

// Getters: process.stdout/stderr are built on first touch (loading the stream modules), and most
// commands never write to stderr.
const defaultIO = (): CliIO => ({
  get stdout() {
    return process.stdout;
  },
  get stderr() {
    return process.stderr;
  },
  env: process.env,
  cwd: process.cwd(),
});

/**
 * The `fusion-bench` command: Hydra's command line over our config system. Returns the exit status.
 * User errors print one message (with its causes, as Hydra does) and no stack trace unless
 * HYDRA_FULL_ERROR=1; anything else is a bug and prints its stack.
 */
export async function main(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  // A job may set HYDRA_FULL_ERROR through hydra.job.env_set (fusion_bench's default does); the user's
  // own setting at start-up decides how errors print.
  const errEnv = { HYDRA_FULL_ERROR: io.env.HYDRA_FULL_ERROR };
  let args: CliArgs;
  try {
    args = parseArgs(argv);
    if (args.version) {
      io.stdout.write(`fusion-bench ${VERSION} (Hydra 1.3.2 compatible)\n`);
      return 0;
    }
    const { runCommand } = await import('./commands.js');
    return await runCommand(args, io);
  } catch (e) {
    return reportError(e, { stderr: io.stderr, env: errEnv });
  }
}

/**
 * A file-system error (ENOENT, ENOTDIR, EACCES, ENOSPC, …) on a path the user gave is the user's to fix,
 * not a bug: it prints as one line naming the operation and the path.
 */
function fileSystemError(e: unknown): UserError | null {
  const err = e as NodeJS.ErrnoException;
  if (!(err instanceof Error) || typeof err.code !== 'string' || !/^E[A-Z]+$/.test(err.code) || typeof err.syscall !== 'string') return null;
  const where = err.path ? ` ${err.path}` : '';
  return new UserError(`cannot ${err.syscall}${where}: ${err.code} (${err.message})`, { cause: e });
}

export function reportError(e: unknown, io: Pick<CliIO, 'stderr' | 'env'>): number {
  const full = io.env.HYDRA_FULL_ERROR === '1';
  if (!full && !isUserError(e)) {
    const fsErr = fileSystemError(e);
    if (fsErr) e = fsErr;
  }
  if (!isUserError(e) || full) {
    io.stderr.write(formatChain(e, true) + '\n');
    return 1;
  }
  io.stderr.write(formatChain(e, false) + '\n\nSet the environment variable HYDRA_FULL_ERROR=1 for a complete stack trace.\n');
  return 1;
}

/** The message, then each cause's message not already contained in it (Hydra prints `raise X from Y` so). */
function formatChain(e: unknown, withStack: boolean): string {
  const parts: string[] = [];
  let cur: unknown = e;
  let depth = 0;
  while (cur !== undefined && cur !== null && depth < 8) {
    const err = cur as Error;
    const cls = pythonErrorClass(err);
    const stack = err.stack ?? err.message;
    const msg = withStack ? (stack.startsWith(`${err.name}:`) || stack.startsWith(`${cls}:`) ? stack : `${cls}: ${stack}`) : (err.message ?? String(err));
    if (!parts.some((p) => p.includes(msg))) parts.push(msg);
    cur = err.cause;
    depth++;
  }
  return parts.join('\n');
}

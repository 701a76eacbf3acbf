import { UserError } from '../errors.js';
import type { CliArgs } from '../cli/args.js';
import type { CliIO } from '../cli/main.js';

/** `-m`: the BasicSweeper's cartesian product, one job after another. */
export async function runSweep(_args: CliArgs, _io: CliIO): Promise<number> {
  throw new UserError('--multirun is not available in this build yet (tracked in the sweeps issue)');
}

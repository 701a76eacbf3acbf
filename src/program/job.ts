import { mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import type { CliArgs } from '../cli/args.js';
import type { CliIO } from '../cli/main.js';
import { composeFor } from '../cli/commands.js';
import { resolveAll, resolveAt } from '../config/omegaconf/resolve.js';
import { toPlain, type ConfigDict, type ConfigValue } from '../config/values.js';
import { applyEnvSet, dictAt, jobPart, openJobLog, runProgram, writeRunRecord } from './run-dir.js';
import { createBuiltinRegistry } from '../registry/builtins.js';
import { runContext } from '../run-context.js';

export interface PreparedJob {
  /** The composed config with the hydra node, unresolved. */
  config: ConfigDict;
  /** The job config without the hydra node, resolved to plain data. */
  job: ConfigDict;
  outputDir: string;
  /** hydra.job.name: the log file's name. */
  jobName: string;
}

/**
 * Hydra's run_job without the chdir: resolve the run directory, record the config, the Hydra config and
 * the overrides there (`hydra.output_subdir`), and set `hydra.job.env_set`.
 */
export function prepareJob(config: ConfigDict, io: CliIO, dirKey: 'run' | 'sweep' = 'run'): PreparedJob {
  const hydra = dictAt(config.hydra, 'hydra node');
  const ctx = { env: io.env, hydra };
  // Hydra resolves only the keys it needs (the run dir, env_set): the rest of the hydra node may hold
  // values that are missing in this mode, such as hydra.job.num outside a sweep.
  const runDir = resolveAt(config, `hydra.${dirKey}.dir`, ctx);
  if (typeof runDir !== 'string' || runDir === '') throw new UserError(`hydra.${dirKey}.dir must be a path, got ${JSON.stringify(toPlain(runDir as ConfigValue))}`);
  const outputDir = isAbsolute(runDir) ? runDir : resolve(io.cwd, runDir);
  dictAt(hydra.runtime, 'hydra.runtime').output_dir = outputDir;
  mkdirSync(outputDir, { recursive: true });

  const sub = resolveAt(config, 'hydra.output_subdir', ctx);
  if (sub !== null && sub !== undefined) {
    writeRunRecord(join(outputDir, String(sub)), config, hydra, (dictAt(hydra.overrides, 'hydra.overrides').task ?? []) as ConfigValue[]);
  }
  // a single run is the whole process: the job's environment stays set
  applyEnvSet(resolveAt(config, 'hydra.job.env_set', ctx));

  const jobName = String(resolveAt(config, 'hydra.job.name', ctx) ?? 'fusion-bench');
  const resolvedJob = resolveAll(jobPart(config), ctx) as ConfigDict;
  return { config, job: resolvedJob, outputDir, jobName };
}

/** One run: compose, prepare the run directory, instantiate the program named by `_target_`, run it. */
export async function runJob(args: CliArgs, io: CliIO): Promise<number> {
  const { config, warnings } = composeFor(args, io, 'RUN');
  for (const w of warnings ?? []) io.stderr.write(`${w}\n`);
  const prepared = prepareJob(config, io);
  const { log, status } = openJobLog(prepared.outputDir, prepared.jobName, io);
  const logDir = (prepared.job.path as ConfigDict | undefined)?.log_dir;
  const ctx = runContext({ status, logDir: typeof logDir === 'string' ? (isAbsolute(logDir) ? logDir : resolve(io.cwd, logDir)) : prepared.outputDir });
  try {
    await runProgram(createBuiltinRegistry({ stdout: io.stdout }), prepared.job, ctx);
    io.stdout.write('\n' + ctx.profiler.format());
    return 0;
  } finally {
    log.end();
  }
}

import { mkdirSync, createWriteStream, type WriteStream } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import type { CliArgs } from '../cli/args.js';
import type { CliIO } from '../cli/main.js';
import { composeFor } from '../cli/commands.js';
import { toYaml } from '../config/omegaconf/dump.js';
import { resolveAll, resolveAt } from '../config/omegaconf/resolve.js';
import { isDict, toPlain, type ConfigDict, type ConfigValue } from '../config/values.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { createBuiltinRegistry } from '../registry/builtins.js';
import { instantiate } from '../registry/instantiate.js';
import { resetRuntime, runtime } from './runtime.js';

function dict(v: ConfigValue | undefined, what: string): ConfigDict {
  if (!isDict(v)) throw new Error(`composed config has no ${what}`);
  return v;
}

/** Lines for the status stream go to stderr and to the run's log file. */
function tee(a: NodeJS.WritableStream, b: WriteStream): NodeJS.WritableStream {
  return {
    write(chunk: string | Uint8Array) {
      a.write(chunk);
      b.write(chunk);
      return true;
    },
  } as unknown as NodeJS.WritableStream;
}

export interface PreparedJob {
  /** The composed config with the hydra node, unresolved. */
  config: ConfigDict;
  /** The job config without the hydra node, resolved to plain data. */
  job: ConfigDict;
  outputDir: string;
  logPath: string | null;
}

/**
 * Hydra's run_job without the chdir: resolve the run directory, record the config, the Hydra config and
 * the overrides there (`hydra.output_subdir`), and set `hydra.job.env_set`.
 */
export function prepareJob(config: ConfigDict, io: CliIO, dirKey: 'run' | 'sweep' = 'run'): PreparedJob {
  const hydra = dict(config.hydra, 'hydra node');
  const ctx = { env: io.env, hydra };
  // Hydra resolves only the keys it needs (the run dir, env_set): the rest of the hydra node may hold
  // values that are missing in this mode, such as hydra.job.num outside a sweep.
  const runDir = resolveAt(config, `hydra.${dirKey}.dir`, ctx);
  if (typeof runDir !== 'string' || runDir === '') throw new UserError(`hydra.${dirKey}.dir must be a path, got ${JSON.stringify(toPlain(runDir as ConfigValue))}`);
  const outputDir = isAbsolute(runDir) ? runDir : resolve(io.cwd, runDir);
  dict(hydra.runtime, 'hydra.runtime').output_dir = outputDir;
  mkdirSync(outputDir, { recursive: true });

  const job: ConfigDict = {};
  for (const k of Object.keys(config)) if (k !== 'hydra') job[k] = config[k];
  const sub = resolveAt(config, 'hydra.output_subdir', ctx);
  if (sub !== null && sub !== undefined) {
    const dir = join(outputDir, String(sub));
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(join(dir, 'config.yaml'), toYaml(job));
    writeFileAtomic(join(dir, 'hydra.yaml'), toYaml({ hydra }));
    const task = dict(hydra.overrides, 'hydra.overrides').task ?? [];
    writeFileAtomic(join(dir, 'overrides.yaml'), toYaml(task));
  }
  const envSet = resolveAt(config, 'hydra.job.env_set', ctx);
  if (isDict(envSet)) for (const [k, v] of Object.entries(envSet)) if (v !== null) process.env[k] = String(toPlain(v));

  const jobName = String(resolveAt(config, 'hydra.job.name', ctx) ?? 'fusion-bench');
  const resolvedJob = resolveAll(job, ctx) as ConfigDict;
  return { config, job: resolvedJob, outputDir, logPath: join(outputDir, `${jobName}.log`) };
}

/** One run: compose, prepare the run directory, instantiate the program named by `_target_`, run it. */
export async function runJob(args: CliArgs, io: CliIO): Promise<number> {
  const { config, warnings } = composeFor(args, io, 'RUN');
  for (const w of warnings ?? []) io.stderr.write(`${w}\n`);
  const prepared = prepareJob(config, io);
  const log = prepared.logPath ? createWriteStream(prepared.logPath, { flags: 'a' }) : null;
  resetRuntime({ progress: log ? tee(io.stderr, log) : io.stderr });
  const logDir = (prepared.job.path as ConfigDict | undefined)?.log_dir;
  runtime.logDir = typeof logDir === 'string' ? (isAbsolute(logDir) ? logDir : resolve(io.cwd, logDir)) : prepared.outputDir;
  try {
    const registry = createBuiltinRegistry({ stdout: io.stdout });
    const program = (await instantiate(registry, { ...prepared.job, _recursive_: prepared.job._recursive_ ?? false })) as { run(): Promise<unknown> };
    if (typeof program?.run !== 'function') throw new UserError(`The config's _target_ '${String(prepared.job._target_)}' is not a program (it has no run())`);
    await program.run();
    io.stdout.write('\n' + runtime.profiler.format());
    return 0;
  } finally {
    log?.end();
  }
}

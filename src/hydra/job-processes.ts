/**
 * What a launcher that runs jobs in other processes needs for each job: the job composed here (a bad
 * override stops the batch before anything starts, as BasicSweeper.validate_batch_is_legal does), its
 * output folder and result file, and the command line that runs it — our CLI with the request's config
 * options and the job's overrides, nothing else. `hydra.sweep.dir` is resolved once, here (with the sweep's
 * `${now:...}`); every other `${...}` in an override reaches the job intact and resolves there.
 */
import { join, resolve } from 'node:path';
import { rmSync } from 'node:fs';
import { UserError } from '../errors.js';
import type { ConfigValue } from '../config/values.js';
import { packageRoot } from '../util/package-root.js';
import { LAUNCHED_JOB_ENV, readJobReturn, type JobReturnFile, type LaunchedJobSpec } from './launched-job.js';
import type { ComposeRequest } from './io.js';
import type { LaunchContext } from './launcher.js';
import { dictAt } from './run-dir.js';
import { jobDirs, recordMatches } from './run-job.js';

export const CLI_PATH = join(packageRoot, 'bin', 'fusion-bench.js');

export interface PreparedJob {
  num: number;
  /** The job's own overrides (the sweep's values). */
  overrides: readonly string[];
  /** hydra.job.id when the launcher names it (one more job after the sweep); else the launcher's own. */
  id?: string;
  /** Arguments after `node`: the CLI and its options. */
  argv: string[];
  /** The same as a compose request (what a pool worker is sent). */
  request: ComposeRequest;
  outputDir: string;
  /** `<output dir>/<hydra.output_subdir>/job_return.json` (or in the output dir itself when output_subdir is null). */
  resultPath: string;
  /** Whether the job's run record equals what this job would write (a finished result of it can be reused). */
  recordMatches: boolean;
}

/** An override value as Hydra's grammar reads it back unchanged. */
export function overrideValue(v: string, what: string): string {
  if (/^[A-Za-z0-9_/.\-+~@:]+$/.test(v)) return v;
  if (/['\\]|\$\{/.test(v)) throw new UserError(`${what} '${v}' cannot be passed to a job as an override (it holds a quote, a backslash or '\${'): choose another path`);
  return `'${v}'`;
}

/**
 * What composes one job: the request's config options (absolute) and the hydra and job overrides — the
 * command line of a job's own process, or the request a pool worker composes (src/hydra/pool-worker.ts).
 */
export function jobRequest(ctx: LaunchContext, overrides: readonly string[], extraHydra: readonly string[] = []): ComposeRequest {
  const { request: req, io } = ctx;
  return {
    configPath: req.configPath === null ? null : resolve(io.cwd, req.configPath),
    configName: req.configName,
    configDir: req.configDir === null ? null : resolve(io.cwd, req.configDir),
    overrides: [...ctx.hydraOverrides, `hydra.sweep.dir=${overrideValue(ctx.sweepDir, 'hydra.sweep.dir')}`, ...extraHydra, ...overrides],
  };
}

/** The CLI's config options for `req` (its overrides not included). */
export function configOptions(req: ComposeRequest): string[] {
  const args: string[] = [];
  if (req.configPath !== null) args.push('--config-path', req.configPath);
  if (req.configName !== null) args.push('--config-name', req.configName);
  if (req.configDir !== null) args.push('--config-dir', req.configDir);
  return args;
}

/** The CLI's arguments for one job. */
export function jobArgv(ctx: LaunchContext, overrides: readonly string[], extraHydra: readonly string[] = []): string[] {
  const req = jobRequest(ctx, overrides, extraHydra);
  return [CLI_PATH, ...configOptions(req), ...req.overrides];
}

/**
 * The jobs numbered from `initialJobIdx`; `jobSubdir` puts a job in `<sweep dir>/<jobSubdir>` instead of
 * its number's folder (one more job after the sweep), with `jobSubdir` as its hydra.job.id.
 */
export function prepareJobs(ctx: LaunchContext, jobs: readonly (readonly string[])[], initialJobIdx: number, jobSubdir?: string): PreparedJob[] {
  const extraHydra = jobSubdir === undefined ? [] : [`hydra.sweep.subdir=${overrideValue(jobSubdir, 'hydra.sweep.subdir')}`];
  return jobs.map((overrides, i) => {
    const num = initialJobIdx + i;
    const composed = ctx.composeJob(overrides, num, jobSubdir, extraHydra);
    const config = composed.config;
    const hydra = dictAt(config.hydra, 'hydra node');
    const { outputDir, subdir } = jobDirs(config, 'MULTIRUN', { env: ctx.io.env, hydra, now: ctx.now }, ctx.io.cwd);
    const task = (dictAt(hydra.overrides, 'hydra.overrides').task ?? []) as ConfigValue[];
    return {
      num,
      overrides,
      argv: jobArgv(ctx, overrides, extraHydra),
      request: jobRequest(ctx, overrides, extraHydra),
      id: jobSubdir,
      outputDir,
      resultPath: join(subdir ?? outputDir, 'job_return.json'),
      recordMatches: recordMatches(subdir, config, task),
    };
  });
}

/**
 * glibc's settings that keep freed memory in the heap, for the job processes we start, unless the user's
 * environment sets them: onnxruntime sessions created one after another (a sweep's evaluations) then reuse
 * the pages the previous one freed instead of faulting in fresh ones — 0.34–0.41 s per session against
 * 0.45–0.67 s (README, "Speed and memory"). glibc reads them at start-up, so only a process we start can
 * have them; other C libraries ignore them.
 */
export function heapKeepingEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const keep: Record<string, string> = { MALLOC_MMAP_THRESHOLD_: '33554432', MALLOC_TRIM_THRESHOLD_: '4294967295' };
  return Object.fromEntries(Object.entries(keep).filter(([k]) => env[k] === undefined));
}

/** What the job's process is told (its environment variable). */
export function launchedJobEnv(ctx: LaunchContext, job: PreparedJob, id: string | undefined = job.id): Record<string, string> {
  const spec: LaunchedJobSpec = { num: job.num, now: ctx.now().toISOString(), result: job.resultPath, ...(id === undefined ? {} : { id }) };
  return { [LAUNCHED_JOB_ENV]: JSON.stringify(spec) };
}

/** The finished result an earlier run of this job left (completed or reused, same record), else null. */
export function finishedResult(job: PreparedJob): JobReturnFile | null {
  if (!job.recordMatches) return null;
  const r = readJobReturn(job.resultPath);
  return r !== null && r.status !== 'failed' ? r : null;
}

/** Before a job starts again: an old result must not be mistaken for the new one's. */
export function clearResult(job: PreparedJob): void {
  rmSync(job.resultPath, { force: true });
}

/**
 * Hydra's run_job, for a single run and for each job of a sweep alike (without the chdir: the working
 * folder never changes): the output folder (`hydra.run.dir`, or `hydra.sweep.dir/hydra.sweep.subdir`),
 * the run record under `hydra.output_subdir`, `hydra.job.env_set`, the job's log file, then the
 * application. Errors are recorded in the outcome, as Hydra's JobReturn keeps them; a single run
 * re-raises them.
 */
import { readFileSync, type WriteStream } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { UserError, isUserError } from '../errors.js';
import type { ComposeResult } from '../config/compose.js';
import { resolveAll, resolveAt, withFailingKey, type ResolveContext } from '../config/omegaconf/resolve.js';
import { loadYaml } from '../config/omegaconf/yaml.js';
import { toYaml } from '../config/omegaconf/dump.js';
import { toPlain, type ConfigDict, type ConfigValue } from '../config/values.js';
import { runContext, type SweepCache } from '../run-context.js';
import { ensureDir } from '../util/ensure-dir.js';
import type { App, JobResult } from './app.js';
import type { AppIO } from './io.js';
import { describeError, type JobOutcome } from './job-return.js';
import { lockDir, type DirLock } from './dir-lock.js';
import { atLevel, jobLoggingOf, LEVELS } from './job-logging.js';
import { applyEnvSet, dictAt, jobPart, openJobLog, writeRunRecord } from './run-dir.js';

export interface JobSpec {
  /** The composed config with its `hydra` node, unresolved. */
  composed: ComposeResult;
  mode: 'RUN' | 'MULTIRUN';
  /** The job's overrides as launched. */
  overrides: readonly string[];
  num: number;
  /** The clock of `${now:...}`: a sweep's jobs all resolve it to the sweep's start, as Hydra copies the master's resolver cache. */
  now?: () => Date;
}

/** Where a job runs: the streams, the application, and (in-process sweeps only) the cache the jobs share. */
export interface JobEnv {
  io: AppIO;
  app: App;
  sweepCache: SweepCache | null;
}

function pathAt(config: ConfigDict, key: string, rctx: ResolveContext): string {
  const v = resolveAt(config, key, rctx);
  if (typeof v !== 'string' || v === '') throw new UserError(`${key} must be a path, got ${JSON.stringify(toPlain((v ?? null) as ConfigValue))}`);
  return v;
}

/**
 * Whether the run record in `dir` is this job's: the same overrides AND the same composed config (so an
 * edited config file, another --config-name or --config-dir makes the job run again).
 */
function recordMatches(dir: string | null, config: ConfigDict, taskOverrides: readonly ConfigValue[]): boolean {
  if (dir === null) return false;
  try {
    const overrides = loadYaml(readFileSync(join(dir, 'overrides.yaml'), 'utf8'), 'overrides.yaml');
    if (!Array.isArray(overrides) || JSON.stringify(overrides.map(String)) !== JSON.stringify(taskOverrides.map(String))) return false;
    return readFileSync(join(dir, 'config.yaml'), 'utf8') === toYaml(jobPart(config));
  } catch {
    return false;
  }
}

/** The closing lines of a run: where to find what it wrote. */
export function whereOutputsWent(outputDir: string, r: JobResult): string {
  const lines = [`Run directory: ${outputDir}`];
  if (r.reportPath) lines.push(`Report: ${resolve(r.reportPath)}`);
  if (r.modelPath) lines.push(`Merged model: ${resolve(r.modelPath)}`);
  return lines.join('\n') + '\n';
}

export async function runJob(spec: JobSpec, env: JobEnv): Promise<JobOutcome> {
  const t0 = performance.now();
  const { io, app } = env;
  const { config, choices } = spec.composed;
  const sweep = spec.mode === 'MULTIRUN';
  const outcome: JobOutcome = {
    num: spec.num,
    overrides: spec.overrides.filter((o) => !o.startsWith('hydra.')),
    status: 'failed',
    error: null,
    outputDir: '',
    reportPath: null,
    report: null,
    job: null,
    choices,
    seconds: 0,
  };
  let restoreEnv = (): void => {};
  let log: WriteStream | null = null;
  let lock: DirLock | null = null;
  try {
    const hydra = dictAt(config.hydra, 'hydra node');
    // Hydra resolves only the keys it needs: the rest of the hydra node may hold values that are missing
    // in this mode, such as hydra.job.num outside a sweep. The output folder comes first (hydra.job_logging
    // and others interpolate it).
    const rctx = { env: io.env, hydra, now: spec.now };
    const outputDir = sweep
      ? resolve(io.cwd, pathAt(config, 'hydra.sweep.dir', rctx), String(toPlain((resolveAt(config, 'hydra.sweep.subdir', rctx) ?? '') as ConfigValue)))
      : resolve(io.cwd, pathAt(config, 'hydra.run.dir', rctx));
    outcome.outputDir = outputDir;
    dictAt(hydra.runtime, 'hydra.runtime').output_dir = outputDir;
    const sub = resolveAt(config, 'hydra.output_subdir', rctx);
    const subdir = sub === null || sub === undefined ? null : join(outputDir, String(toPlain(sub as ConfigValue)));
    let job: ConfigDict;
    try {
      job = resolveAll(jobPart(config), rctx) as ConfigDict;
    } catch (e) {
      throw withFailingKey(e);
    }
    outcome.job = job;
    const taskOverrides = (dictAt(hydra.overrides, 'hydra.overrides').task ?? []) as ConfigValue[];

    if (sweep && app.previousResult && recordMatches(subdir, config, taskOverrides)) {
      const previous = app.previousResult(job, outputDir);
      if (previous !== undefined) {
        Object.assign(outcome, { status: 'reused', report: previous.report, reportPath: previous.reportPath });
        io.stderr.write(`[sweep] job #${spec.num}: reusing the report at ${previous.reportPath}\n`);
        return outcome;
      }
    }

    ensureDir(outputDir, 'the run directory');
    // a sweep's jobs live in the sweep directory, which the sweep holds
    if (!sweep) lock = lockDir(outputDir, 'the run directory');
    if (subdir !== null) writeRunRecord(subdir, config, hydra, taskOverrides);
    // A single run is the whole process: its environment stays set. A sweep's job gives it back.
    const restore = applyEnvSet(resolveAt(config, 'hydra.job.env_set', rctx));
    if (sweep) restoreEnv = restore;
    const logging = jobLoggingOf(resolveAt(config, 'hydra.job_logging', rctx), resolveAt(config, 'hydra.verbose', rctx), io.env);
    const jobName = String(toPlain((resolveAt(config, 'hydra.job.name', rctx) ?? 'fusion-bench') as ConfigValue));
    const opened = openJobLog(logging.file === null ? null : resolve(outputDir, logging.file), jobName, io);
    log = opened.log;
    const status = atLevel(opened.status, logging.level);
    if (logging.level <= LEVELS.DEBUG) opened.status.write(`[DEBUG] job config (resolved):\n${toYaml(job)}`);
    // A sweep's jobs report into their own run directories: fusion_bench's default path.log_dir has a
    // timestamp only, which all jobs of a sweep share.
    const logDir = (job.path as ConfigDict | undefined)?.log_dir;
    const ctx = runContext({
      status,
      logDir: !sweep && typeof logDir === 'string' ? (isAbsolute(logDir) ? logDir : resolve(io.cwd, logDir)) : outputDir,
      sweepCache: env.sweepCache,
    });
    const result = await app.run(job, ctx);
    outcome.report = result.report;
    outcome.reportPath = result.reportPath;
    io.stdout.write('\n' + ctx.profiler.format());
    outcome.status = 'completed';
    if (!sweep) status?.write(whereOutputsWent(outputDir, result));
  } catch (e) {
    outcome.status = 'failed';
    outcome.error = describeError(e);
    outcome.exception = e;
    if (sweep) io.stderr.write(`Error executing job with overrides: [${outcome.overrides.map((o) => `'${o}'`).join(', ')}]\n${outcome.error}\n`);
    if (!isUserError(e) && e instanceof Error && e.stack) log?.write(e.stack + '\n');
  } finally {
    restoreEnv();
    if (log) await new Promise<void>((done) => log!.end(done));
    lock?.release();
    outcome.seconds = (performance.now() - t0) / 1000;
  }
  return outcome;
}

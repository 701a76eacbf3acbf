import { existsSync, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { UserError, isUserError } from '../errors.js';
import type { CliArgs } from '../cli/args.js';
import type { CliIO } from '../cli/main.js';
import { composeConfig, type ComposeResult, type RunMode } from '../config/compose.js';
import type { ConfigFileCache } from '../config/repository.js';
import { resolveAll, resolveAt } from '../config/omegaconf/resolve.js';
import { loadYaml } from '../config/omegaconf/yaml.js';
import { toPlain, type ConfigDict, type ConfigValue } from '../config/values.js';
import { pythonErrorClass } from '../config/hydra-errors.js';
import { defaultConfigDir } from '../util/package-root.js';
import { createBuiltinRegistry } from '../registry/builtins.js';
import { runContext, type SweepCache } from '../run-context.js';
import { isTaskPoolTarget, shareInstances } from './sweep-memo.js';
import { applyEnvSet, dictAt, jobPart, openJobLog, runProgram, writeRunRecord } from './run-dir.js';
import { toYaml } from '../config/omegaconf/dump.js';

/** What composing a sweep's configs needs besides the overrides: the command line's sources and a shared cache. */
export interface SweepContext {
  args: CliArgs;
  io: CliIO;
  cache: ConfigFileCache;
  /** The sweep's start: `${now:...}` resolves to it in every job, as Hydra copies the master's resolver cache. */
  started: Date;
  /** What the jobs share in this process (task vector sums, images, heads, task pools). */
  sweepCache: SweepCache;
}

export function composeSweepConfig(ctx: SweepContext, overrides: readonly string[], runMode: RunMode): ComposeResult {
  const { args, io } = ctx;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(io.cwd, p));
  return composeConfig({
    configPath: args.configPath === null ? defaultConfigDir : abs(args.configPath),
    configName: args.configName ?? 'fabric_model_fusion',
    configDirs: args.configDir === null ? [] : [abs(args.configDir)],
    overrides,
    runMode,
    withHydra: true,
    env: io.env,
    cwd: io.cwd,
    fromShell: true,
    cache: ctx.cache,
  });
}

/** Resolves the config with the sweep's clock and its own `hydra` node. */
export function resolveWithClock(config: ConfigDict, ctx: SweepContext): ConfigDict {
  return resolveAll(config, { env: ctx.io.env, hydra: dictAt(config.hydra, 'hydra node'), now: () => ctx.started }) as ConfigDict;
}

export type JobStatus = 'completed' | 'failed' | 'reused';

export interface JobOutcome {
  num: number;
  /** The job's overrides as launched (Hydra's JobReturn.overrides, hydra.* ones left out). */
  overrides: string[];
  status: JobStatus;
  /** One line (or a few) saying why the job failed. */
  error: string | null;
  outputDir: string;
  reportPath: string | null;
  report: unknown;
  /** The resolved job config (no hydra node), null where the job failed before resolving. */
  job: ConfigDict | null;
  /** hydra.runtime.choices of the job. */
  choices: Record<string, string | null>;
  seconds: number;
}

export interface PreparedSweepJob {
  num: number;
  overrides: string[];
  composed: ComposeResult;
}

/** Composes one job as BasicLauncher does: the master's hydra overrides, then the job's; hydra.job.id/num set. */
export function composeJob(ctx: SweepContext, hydraOverrides: readonly string[], jobOverrides: readonly string[], num: number, id: string = String(num)): PreparedSweepJob {
  const composed = composeSweepConfig(ctx, [...hydraOverrides, ...jobOverrides], 'RUN');
  const job = dictAt(dictAt(composed.config.hydra, 'hydra node').job, 'hydra.job');
  job.id = id;
  job.num = num;
  return { num, overrides: [...jobOverrides], composed };
}

/** `{log_dir}` in a path, as fusion_bench's str.format. */
function withLogDir(p: string, logDir: string): string {
  return p.replaceAll('{log_dir}', logDir);
}

/** The job's own overrides as recorded in its run directory, or null. */
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

function readReport(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The message a summary keeps for a failed job: the error and its causes, without stacks. */
export function describeError(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 8; depth++) {
    const err = cur as Error;
    const text = String(err.message ?? err);
    const msg = isUserError(cur) ? text : `${pythonErrorClass(err)}: ${text}`;
    if (!parts.some((p) => p.includes(msg))) parts.push(msg);
    cur = err.cause;
  }
  return parts.join('\n');
}

/**
 * Hydra's run_job for one job of a sweep: the run directory `hydra.sweep.dir/hydra.sweep.subdir` with
 * config.yaml, hydra.yaml and overrides.yaml, `hydra.job.env_set` for the job's duration, then the
 * program named by `_target_`. A job whose report already exists (same overrides) is not run again.
 * Errors are recorded in the outcome, never thrown.
 */
export async function runSweepJob(ctx: SweepContext, prepared: PreparedSweepJob): Promise<JobOutcome> {
  const t0 = performance.now();
  const { io } = ctx;
  const { config, choices } = prepared.composed;
  const outcome: JobOutcome = {
    num: prepared.num,
    overrides: prepared.overrides.filter((o) => !o.startsWith('hydra.')),
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
  try {
    const hydra = dictAt(config.hydra, 'hydra node');
    // run_job: the output directory first (hydra.job_logging and others interpolate it), then the rest.
    const rctx = { env: io.env, hydra, now: () => ctx.started };
    const dir = resolveAt(config, 'hydra.sweep.dir', rctx);
    if (typeof dir !== 'string' || dir === '') throw new UserError(`hydra.sweep.dir must be a path, got ${JSON.stringify(toPlain(dir ?? null))}`);
    const subValue = resolveAt(config, 'hydra.sweep.subdir', rctx);
    const sub = subValue === null || subValue === undefined ? '' : String(toPlain(subValue));
    const outputDir = resolve(io.cwd, dir, sub);
    outcome.outputDir = outputDir;
    dictAt(hydra.runtime, 'hydra.runtime').output_dir = outputDir;
    const resolved = resolveWithClock(config, ctx);
    const rh = dictAt(resolved.hydra, 'hydra node');

    const job: ConfigDict = {};
    for (const k of Object.keys(resolved)) if (k !== 'hydra') job[k] = resolved[k];
    outcome.job = job;
    const rp = job.report_save_path;
    const reportPath = typeof rp === 'string' && rp.length > 0 ? resolve(io.cwd, withLogDir(rp, outputDir)) : null;
    outcome.reportPath = reportPath;

    const subdir = rh.output_subdir === null || rh.output_subdir === undefined ? null : join(outputDir, String(rh.output_subdir));
    const taskOverrides = (dictAt(hydra.overrides, 'hydra.overrides').task ?? []) as ConfigValue[];
    if (reportPath !== null && existsSync(reportPath)) {
      const report = readReport(reportPath);
      if (report !== undefined && recordMatches(subdir, config, taskOverrides)) {
        outcome.status = 'reused';
        outcome.report = report;
        io.stderr.write(`[sweep] job #${prepared.num}: reusing the report at ${reportPath}\n`);
        return outcome;
      }
    }

    mkdirSync(outputDir, { recursive: true });
    if (subdir !== null) writeRunRecord(subdir, config, hydra, taskOverrides);
    restoreEnv = applyEnvSet(dictAt(rh.job, 'hydra.job').env_set);
    const opened = openJobLog(outputDir, String(dictAt(rh.job, 'hydra.job').name ?? 'fusion-bench'), io);
    log = opened.log;
    // Every job reports into its own run directory: fusion_bench's default path.log_dir has a
    // timestamp only, which all jobs of a sweep share.
    const runCtx = runContext({ status: opened.status, logDir: outputDir, sweepCache: ctx.sweepCache });

    const registry = createBuiltinRegistry({ stdout: io.stdout });
    shareInstances(registry, isTaskPoolTarget, ctx.sweepCache);
    const result = (await runProgram(registry, job, runCtx)) as { report?: unknown; report_path?: string | null } | undefined;
    outcome.report = result?.report ?? null;
    if (typeof result?.report_path === 'string') outcome.reportPath = result.report_path;
    io.stdout.write('\n' + runCtx.profiler.format());
    outcome.status = 'completed';
  } catch (e) {
    outcome.status = 'failed';
    outcome.error = describeError(e);
    io.stderr.write(`Error executing job with overrides: [${outcome.overrides.map((o) => `'${o}'`).join(', ')}]\n${outcome.error}\n`);
    if (!isUserError(e) && e instanceof Error && e.stack) log?.write(e.stack + '\n');
  } finally {
    restoreEnv();
    if (log) await new Promise<void>((done) => log!.end(done));
    outcome.seconds = (performance.now() - t0) / 1000;
  }
  return outcome;
}

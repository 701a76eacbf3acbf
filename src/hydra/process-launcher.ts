/**
 * `hydra/launcher=submitit_local`: a sweep's jobs in parallel local processes, one per job as submitit's
 * LocalExecutor starts them, each our CLI on its job's overrides (src/hydra/job-processes.ts), the cores
 * shared out between them (each job's onnxruntime gets FUSION_BENCH_ORT_THREADS threads). The jobs share
 * nothing in memory: what an in-process sweep reuses (task vector sums, images, heads) each job rebuilds
 * or reads from the on-disk caches. Each job's output goes to a log file; its result file says how it
 * ended. Also the options of `hydra/launcher=joblib`, whose persistent workers are src/hydra/worker-pool.ts.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import { toPlain, type ConfigDict, type ConfigValue } from '../config/values.js';
import type { JobOutcome } from './job-return.js';
import { clearResult, heapKeepingEnv, launchedJobEnv, prepareJobs, type PreparedJob } from './job-processes.js';
import { outcomeOfReturn, readJobReturn } from './launched-job.js';
import type { AppIO } from './io.js';
import type { LaunchContext, Launcher } from './launcher.js';

export const JOBLIB_LAUNCHER = 'hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher';
export const SUBMITIT_LOCAL_LAUNCHER = 'hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher';
/** onnxruntime's intra-op threads in a job (read by src/models/clip/session.ts). */
export const ORT_THREADS_ENV = 'FUSION_BENCH_ORT_THREADS';

export interface PoolOptions {
  workers: number;
  threadsPerJob: number;
  /** Seconds a job may run before it is stopped (SIGTERM); null: no limit. */
  timeoutS: number | null;
  /** Where job `num`'s output (stdout and stderr) goes. */
  logPath(num: number): string;
  label: string;
}

function intOrNull(cfg: ConfigDict, key: string, where: string): number | null {
  const v = toPlain((cfg[key] ?? null) as ConfigValue);
  if (v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new UserError(`${where}.${key} must be a number or null, got ${JSON.stringify(v)}`);
  return v;
}

/** joblib's n_jobs: -1 all cores, -2 all but one, …; 0 is refused as joblib refuses it. */
export function joblibWorkers(nJobs: number | null, cores: number): number {
  const n = nJobs ?? -1;
  if (!Number.isInteger(n) || n === 0) throw new UserError(`hydra.launcher.n_jobs must be a non-zero integer (-1: all cores), got ${n}`);
  return n > 0 ? n : Math.max(1, cores + 1 + n);
}

export function joblibOptions(ctx: LaunchContext, cores = availableParallelism()): PoolOptions {
  const cfg = ctx.launcherConfig;
  const workers = joblibWorkers(intOrNull(cfg, 'n_jobs', 'hydra.launcher'), cores);
  const timeout = intOrNull(cfg, 'timeout', 'hydra.launcher');
  return {
    workers,
    threadsPerJob: Math.max(1, Math.floor(cores / workers)),
    timeoutS: timeout,
    logPath: (num) => join(ctx.sweepDir, '.joblib', `${num}.log`),
    label: `joblib, n_jobs=${workers}`,
  };
}

/** submitit's local executor: cpus_per_task cores a job (default: one), as many jobs at once as the cores allow. */
export function submititLocalOptions(ctx: LaunchContext, cores = availableParallelism()): PoolOptions {
  const cfg = ctx.launcherConfig;
  const cpus = intOrNull(cfg, 'cpus_per_task', 'hydra.launcher') ?? 1;
  if (!Number.isInteger(cpus) || cpus < 1) throw new UserError(`hydra.launcher.cpus_per_task must be a positive integer, got ${cpus}`);
  const timeoutMin = intOrNull(cfg, 'timeout_min', 'hydra.launcher');
  const folder = String(toPlain((cfg.submitit_folder ?? join(ctx.sweepDir, '.submitit', '%j')) as ConfigValue));
  return {
    workers: Math.max(1, Math.floor(cores / cpus)),
    threadsPerJob: cpus,
    timeoutS: timeoutMin === null ? null : timeoutMin * 60,
    logPath: (num) => {
      const dir = folder.replaceAll('%j', String(num));
      return join(dir, `${num}_0_log.out`);
    },
    label: `submitit_local, cpus_per_task=${cpus}`,
  };
}

export class ProcessPoolLauncher implements Launcher {
  constructor(private readonly ctx: LaunchContext, private readonly opts: PoolOptions) {}

  async launch(jobs: readonly (readonly string[])[], initialJobIdx: number): Promise<JobOutcome[]> {
    const { io } = this.ctx;
    const prepared = prepareJobs(this.ctx, jobs, initialJobIdx);
    const workers = Math.min(this.opts.workers, Math.max(prepared.length, 1));
    io.stderr.write(`[HYDRA] Launching ${jobs.length} jobs in ${workers} local processes (${this.opts.label}, ${this.opts.threadsPerJob} thread${this.opts.threadsPerJob > 1 ? 's' : ''} each)\n`);
    const out = new Array<JobOutcome>(prepared.length);
    let next = 0;
    const worker = async () => {
      while (next < prepared.length) {
        const i = next++;
        out[i] = await this.runOne(prepared[i]!);
      }
    };
    await Promise.all(Array.from({ length: workers }, worker));
    return out;
  }

  launchMore(overrides: readonly string[], num: number, subdir: string): Promise<JobOutcome> {
    return this.runOne(prepareJobs(this.ctx, [overrides], num, subdir)[0]!);
  }

  private runOne(job: PreparedJob): Promise<JobOutcome> {
    const { io } = this.ctx;
    announceJob(io, job);
    clearResult(job);
    const logPath = this.opts.logPath(job.num);
    mkdirSync(dirname(logPath), { recursive: true });
    const fd = openSync(logPath, 'a');
    const t0 = performance.now();
    return new Promise((done) => {
      let timedOut = false;
      const child = spawn(process.execPath, job.argv, {
        cwd: io.cwd,
        env: { ...io.env, ...heapKeepingEnv(io.env), ...launchedJobEnv(this.ctx, job), [ORT_THREADS_ENV]: String(this.opts.threadsPerJob) },
        stdio: ['ignore', fd, fd],
      });
      const timer = this.opts.timeoutS === null ? null : setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
      }, this.opts.timeoutS * 1000);
      let settled = false;
      const finish = (why: string) => {
        if (settled) return;
        settled = true;
        if (timer !== null) clearTimeout(timer);
        closeSync(fd);
        done(jobEnded(io, job, { why, logPath, t0, failure: timedOut ? `timed out after ${this.opts.timeoutS} s` : null }));
      };
      child.on('error', (e) => finish(`the job's process did not start: ${e.message}`));
      child.on('close', (code, signal) => finish(`the job's process ended (${signal ?? `exit code ${code}`}) without a result file`));
    });
  }
}

/** The line a launcher prints as it starts a job. */
export function announceJob(io: AppIO, job: PreparedJob): void {
  io.stderr.write(`[HYDRA] \t#${job.num} : ${job.overrides.filter((o) => !o.startsWith('hydra.')).join(' ')}\n`);
}

export interface JobEnd {
  /** Why a job that left no result file failed. */
  why: string;
  logPath: string;
  /** When it started (performance.now()). */
  t0: number;
  /** A failure that overrides any result file (a timeout). */
  failure?: string | null;
  /** Added to the closing line. */
  note?: string;
}

/**
 * How a job run elsewhere ended: as its result file says, unless `failure` overrides it; a job that left
 * none failed for `why`. Prints the error of a failed job and the closing line.
 */
export function jobEnded(io: AppIO, job: PreparedJob, end: JobEnd): JobOutcome {
  const seconds = (performance.now() - end.t0) / 1000;
  const failure = end.failure ?? null;
  const r = failure === null ? readJobReturn(job.resultPath) : null;
  const outcome: JobOutcome = r !== null
    ? outcomeOfReturn(r, job.num, job.overrides)
    : {
        num: job.num, overrides: job.overrides.filter((o) => !o.startsWith('hydra.')), status: 'failed',
        error: `${failure ?? end.why}; log: ${end.logPath}`,
        outputDir: job.outputDir, reportPath: null, report: null, job: null, choices: {}, seconds,
      };
  if (outcome.status === 'failed') io.stderr.write(`Error executing job with overrides: [${outcome.overrides.map((o) => `'${o}'`).join(', ')}]\n${outcome.error}\n`);
  io.stderr.write(`[HYDRA] \t#${job.num} ${outcome.status} (${seconds.toFixed(1)} s${end.note ?? ''})\n`);
  return outcome;
}

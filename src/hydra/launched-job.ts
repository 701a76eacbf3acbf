/**
 * One job of a sweep run in a process of its own (a local worker, a Slurm array task): our CLI, started
 * with the job's overrides, finds FUSION_BENCH_LAUNCHED_JOB in its environment (which job it is, the
 * sweep's clock, where to leave its result), runs the job as an in-process sweep would — same output
 * folder, same record, with a cache of its own (a pool worker's: the one its earlier jobs filled) — and
 * writes its result file atomically. The launcher trusts result files: a job that left one ended as the file says.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../errors.js';
import { toPlain, type ConfigValue } from '../config/values.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { SweepCache } from '../run-context.js';
import type { App } from './app.js';
import { composeRequest } from './compose.js';
import type { AppIO, ComposeRequest } from './io.js';
import type { JobOutcome, JobStatus } from './job-return.js';
import { dictAt } from './run-dir.js';
import { runJob } from './run-job.js';

export const LAUNCHED_JOB_ENV = 'FUSION_BENCH_LAUNCHED_JOB';

/** What a launcher tells the process it starts for a job. */
export interface LaunchedJobSpec {
  num: number;
  /** hydra.job.id; absent: the Slurm array task's `<array id>_<task id>`. */
  id?: string;
  /** The sweep's start (ISO): `${now:...}` resolves to it in every job. */
  now: string;
  /** Where the job writes its result file. */
  result: string;
}

/** A job's result file (`job_return.json`). */
export interface JobReturnFile {
  num: number;
  id: string;
  overrides: string[];
  status: JobStatus;
  error: string | null;
  output_dir: string;
  report_path: string | null;
  report: unknown;
  job: unknown;
  choices: Record<string, string | null>;
  seconds: number;
  /** Set once a launcher has summarized this result: a later run of the sweep reuses it. */
  collected?: boolean;
}

export function launchedJobSpec(env: NodeJS.ProcessEnv): LaunchedJobSpec | null {
  const raw = env[LAUNCHED_JOB_ENV];
  if (raw === undefined || raw === '') return null;
  let spec: Partial<LaunchedJobSpec>;
  try {
    spec = JSON.parse(raw) as Partial<LaunchedJobSpec>;
  } catch {
    throw new UserError(`${LAUNCHED_JOB_ENV} is not JSON: ${raw.slice(0, 200)}`);
  }
  if (!Number.isInteger(spec.num) || typeof spec.now !== 'string' || typeof spec.result !== 'string') {
    throw new UserError(`${LAUNCHED_JOB_ENV} must hold {num, now, result} (set by a launcher), got ${raw.slice(0, 200)}`);
  }
  return spec as LaunchedJobSpec;
}

export function writeJobReturn(path: string, r: JobReturnFile): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, JSON.stringify(r, null, 1) + '\n');
}

/** The result file at `path`, or null when there is none (or it cannot be read: the job left no result). */
export function readJobReturn(path: string): JobReturnFile | null {
  if (!existsSync(path)) return null;
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as JobReturnFile;
    return typeof r === 'object' && r !== null && typeof r.status === 'string' ? r : null;
  } catch {
    return null;
  }
}

export function outcomeOfReturn(r: JobReturnFile, num: number, overrides: readonly string[]): JobOutcome {
  return {
    num,
    overrides: overrides.filter((o) => !o.startsWith('hydra.')),
    status: r.status,
    error: r.error,
    outputDir: r.output_dir,
    reportPath: r.report_path,
    report: r.report,
    job: (r.job ?? null) as JobOutcome['job'],
    choices: r.choices ?? {},
    seconds: r.seconds,
  };
}

/**
 * submitit's max_num_timeout: a job warned of its time limit is requeued (it starts again from the
 * beginning: fusion-bench's jobs keep no checkpoint) while Slurm has restarted it fewer times than that.
 */
function requeue(io: AppIO): boolean {
  const max = Number(io.env.FUSION_BENCH_MAX_NUM_TIMEOUT ?? 0);
  const restarts = Number(io.env.SLURM_RESTART_COUNT ?? 0);
  const jobId = io.env.SLURM_JOB_ID;
  if (!jobId || !(restarts < max)) return false;
  return spawnSync('scontrol', ['requeue', jobId], { env: io.env, stdio: 'ignore', timeout: 30_000 }).status === 0;
}

function jobIdOf(spec: LaunchedJobSpec, env: NodeJS.ProcessEnv): string {
  if (spec.id !== undefined) return spec.id;
  const array = env.SLURM_ARRAY_JOB_ID;
  const task = env.SLURM_ARRAY_TASK_ID;
  return array && task ? `${array}_${task}` : (env.SLURM_JOB_ID ?? String(spec.num));
}

/**
 * Runs the job the request's overrides describe as job `spec.num` of its sweep; returns the exit status
 * (non-zero when the job failed, so that Slurm records FAILED). SIGUSR2 (Slurm's warning before the time
 * limit, `signal_delay_s`) ends the job: its result says so, and the temporary files of whatever it was
 * writing are removed on the way out (SIGTERM's clean-up), so nothing is left half-written. A pool worker
 * passes the cache its earlier jobs filled (src/hydra/pool-worker.ts); a job in a process of its own, a fresh one.
 */
export async function runLaunchedJob(req: ComposeRequest, io: AppIO, app: App, spec: LaunchedJobSpec, sweepCache: SweepCache | null = null): Promise<number> {
  const id = jobIdOf(spec, io.env);
  const now = new Date(spec.now);
  let finished = false;
  const base = (): JobReturnFile => ({ num: spec.num, id, overrides: [], status: 'failed', error: null, output_dir: '', report_path: null, report: null, job: null, choices: {}, seconds: 0 });
  const onUsr2 = () => {
    if (finished) return;
    finished = true;
    if (requeue(io)) {
      io.stderr.write(`[job ${id}] SIGUSR2: the Slurm time limit is near; requeued (hydra.launcher.max_num_timeout)\n`);
    } else {
      const error = 'stopped by SIGUSR2: the Slurm time limit was near (hydra.launcher.signal_delay_s)';
      io.stderr.write(`[job ${id}] ${error}\n`);
      writeJobReturn(spec.result, { ...base(), error });
    }
    process.kill(process.pid, 'SIGTERM');
  };
  process.on('SIGUSR2', onUsr2);
  try {
    const composed = composeRequest(req, io, 'RUN');
    for (const w of composed.warnings ?? []) io.stderr.write(`${w}\n`);
    const hydra = dictAt(composed.config.hydra, 'hydra node');
    const job = dictAt(hydra.job, 'hydra.job');
    job.id = id;
    job.num = spec.num;
    const task = ((dictAt(hydra.overrides, 'hydra.overrides').task ?? []) as ConfigValue[]).map(String);
    const outcome = await runJob({ composed, mode: 'MULTIRUN', overrides: task, num: spec.num, now: () => now }, { io, app, sweepCache });
    if (finished) return 1;
    finished = true;
    writeJobReturn(spec.result, {
      num: spec.num,
      id,
      overrides: outcome.overrides,
      status: outcome.status,
      error: outcome.error,
      output_dir: outcome.outputDir,
      report_path: outcome.reportPath,
      report: outcome.report,
      job: outcome.job === null ? null : toPlain(outcome.job),
      choices: outcome.choices,
      seconds: outcome.seconds,
    });
    return outcome.status === 'failed' ? 1 : 0;
  } catch (e) {
    // composing failed (the launcher composed this job before, so the config changed under it)
    if (!finished) {
      finished = true;
      writeJobReturn(spec.result, { ...base(), error: (e as Error).message ?? String(e) });
    }
    throw e;
  } finally {
    process.off('SIGUSR2', onUsr2);
  }
}

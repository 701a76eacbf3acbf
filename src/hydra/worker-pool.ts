/**
 * `hydra/launcher=joblib`: the sweep's jobs in n_jobs persistent local worker processes, as joblib's
 * default loky backend runs them. The workers (our CLI as pool workers, src/hydra/pool-worker.ts) start
 * once per sweep, lazily, and each job goes to the next free one over the IPC channel; a worker keeps
 * its sweep cache from job to job, so a sweep of short jobs does not pay for a node start, onnxruntime and
 * the images' preprocessing in every job. Each job's result file says how it ended, as with a process
 * per job. A worker that dies (crash, out of memory, kill, `timeout`) fails the job it was running and
 * is replaced when jobs remain; the workers stop at the end of the sweep, or with this process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { JobOutcome } from './job-return.js';
import { CLI_PATH, clearResult, heapKeepingEnv, prepareJobs, type PreparedJob } from './job-processes.js';
import { LAUNCHED_JOB_ENV } from './launched-job.js';
import type { LaunchContext, Launcher } from './launcher.js';
import { POOL_WORKER_ENV, type JobDone, type ToWorker } from './pool-worker.js';
import { announceJob, jobEnded, ORT_THREADS_ENV, type PoolOptions } from './process-launcher.js';

interface Queued {
  job: PreparedJob;
  done: (o: JobOutcome) => void;
}

interface Running extends Queued {
  logPath: string;
  t0: number;
  timer: NodeJS.Timeout | null;
  timedOut: boolean;
}

interface Worker {
  child: ChildProcess;
  running: Running | null;
  /** Resolves when the process has ended. */
  exited: Promise<void>;
}

export class WorkerPoolLauncher implements Launcher {
  private readonly workers = new Set<Worker>();
  private readonly idle: Worker[] = [];
  private readonly queue: Queued[] = [];
  private started = 0;
  /** Whether this process's exit stops the workers (a sweep interrupted by Ctrl-C leaves none behind). */
  private hooked = false;
  private readonly killAll = () => {
    for (const w of this.workers) w.child.kill('SIGTERM');
  };

  constructor(private readonly ctx: LaunchContext, private readonly opts: PoolOptions, private readonly workerLogPath: (k: number) => string) {
    // Started now, not at the first batch: a worker's start (node, our modules, onnxruntime) is the
    // pool's cost over a sequential sweep, and it overlaps what this process does until then.
    if (ctx.plannedJobs !== undefined && ctx.plannedJobs > 0) this.startWorkers(ctx.plannedJobs);
  }

  private startWorkers(jobs: number): number {
    const n = Math.min(this.opts.workers, Math.max(jobs, 1));
    while (this.workers.size < n) this.idle.push(this.startWorker());
    return n;
  }

  launch(jobs: readonly (readonly string[])[], initialJobIdx: number): Promise<JobOutcome[]> {
    // the workers start node and load our modules while the batch is composed here
    const n = this.startWorkers(jobs.length);
    const prepared = prepareJobs(this.ctx, jobs, initialJobIdx);
    const threads = `${this.opts.threadsPerJob} thread${this.opts.threadsPerJob > 1 ? 's' : ''} each`;
    this.ctx.io.stderr.write(`[HYDRA] Launching ${jobs.length} jobs in ${n} local worker processes (${this.opts.label}, ${threads}; each worker runs job after job, reusing what its earlier jobs loaded)\n`);
    return Promise.all(prepared.map((job) => this.submit(job)));
  }

  launchMore(overrides: readonly string[], num: number, subdir: string): Promise<JobOutcome> {
    return this.submit(prepareJobs(this.ctx, [overrides], num, subdir)[0]!);
  }

  /** Stops the workers (each releases its cache and exits) and waits for them. */
  async close(): Promise<void> {
    const all = [...this.workers];
    for (const w of all) {
      if (w.running === null && w.child.connected) w.child.send({ type: 'stop' } satisfies ToWorker);
      else stopWorker(w.child);
    }
    await Promise.all(all.map((w) => w.exited));
    process.off('exit', this.killAll);
    this.hooked = false;
  }

  private submit(job: PreparedJob): Promise<JobOutcome> {
    return new Promise((done) => {
      this.queue.push({ job, done });
      this.dispatch();
    });
  }

  /** Hands queued jobs to free workers, starting workers up to n_jobs. */
  private dispatch(): void {
    while (this.queue.length > 0) {
      let w = this.idle.pop();
      if (w === undefined) {
        if (this.workers.size >= this.opts.workers) return;
        w = this.startWorker();
      }
      this.assign(w, this.queue.shift()!);
    }
  }

  private startWorker(): Worker {
    const { io } = this.ctx;
    const logPath = this.workerLogPath(this.started++);
    mkdirSync(dirname(logPath), { recursive: true });
    const fd = openSync(logPath, 'a');
    const env: NodeJS.ProcessEnv = { ...io.env, ...heapKeepingEnv(io.env), [POOL_WORKER_ENV]: '1', [ORT_THREADS_ENV]: String(this.opts.threadsPerJob) };
    delete env[LAUNCHED_JOB_ENV];
    // what a job writes to its io goes to the job's log; anything else the worker prints, to the worker's
    const child = fork(CLI_PATH, [], { cwd: io.cwd, env, stdio: ['ignore', fd, fd, 'ipc'], serialization: 'json' });
    closeSync(fd);
    let ended!: () => void;
    const w: Worker = { child, running: null, exited: new Promise((r) => (ended = r)) };
    if (!this.hooked) process.on('exit', this.killAll);
    this.hooked = true;
    this.workers.add(w);
    child.on('message', (m: JobDone) => this.finished(w, m));
    let gone = false;
    const lost = (why: string) => {
      if (gone) return;
      gone = true;
      this.workers.delete(w);
      const i = this.idle.indexOf(w);
      if (i >= 0) this.idle.splice(i, 1);
      const r = w.running;
      w.running = null;
      ended();
      if (r !== null) {
        if (r.timer !== null) clearTimeout(r.timer);
        const failure = r.timedOut ? `timed out after ${this.opts.timeoutS} s (its worker was stopped)` : null;
        r.done(jobEnded(io, r.job, { why: `${why} while running this job (killed, out of memory or crashed); log: ${logPath}`, logPath: r.logPath, t0: r.t0, failure }));
      }
      this.dispatch(); // a replacement for the jobs still queued
    };
    child.on('error', (e) => lost(`the joblib worker process did not start or failed: ${e.message}`));
    child.on('exit', (code, signal) => lost(`the joblib worker process ${child.pid} ended (${signal ?? `exit code ${code}`})`));
    return w;
  }

  private assign(w: Worker, q: Queued): void {
    const { job } = q;
    announceJob(this.ctx.io, job);
    clearResult(job);
    const logPath = this.opts.logPath(job.num);
    mkdirSync(dirname(logPath), { recursive: true });
    const r: Running = { ...q, logPath, t0: performance.now(), timer: null, timedOut: false };
    if (this.opts.timeoutS !== null) {
      r.timer = setTimeout(() => {
        r.timedOut = true;
        stopWorker(w.child);
      }, this.opts.timeoutS * 1000);
    }
    w.running = r;
    const spec = { num: job.num, now: this.ctx.now().toISOString(), result: job.resultPath, ...(job.id === undefined ? {} : { id: job.id }) };
    w.child.send({ type: 'job', request: job.request, spec, log: logPath } satisfies ToWorker);
  }

  private finished(w: Worker, m: JobDone): void {
    const r = w.running;
    if (r === null || m.num !== r.job.num) return;
    w.running = null;
    if (r.timer !== null) clearTimeout(r.timer);
    const note = `; worker ${m.pid}, its job ${m.jobsRun}${m.jobsRun > 1 ? `, ${m.cacheEntriesBefore} cached entries from its earlier jobs` : ''}`;
    r.done(jobEnded(this.ctx.io, r.job, { why: 'the worker answered but the job left no result file', logPath: r.logPath, t0: r.t0, note }));
    this.idle.push(w);
    this.dispatch();
  }
}

/** Seconds a worker told to stop (SIGTERM: its clean-up runs) may take before it is killed. */
const KILL_AFTER_S = 10;

/** SIGTERM, then SIGKILL if the worker is still there (stuck in a system call that no signal handler interrupts). */
function stopWorker(child: ChildProcess): void {
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_S * 1000);
  t.unref();
  child.once('exit', () => clearTimeout(t));
}

/** joblib's worker logs: `<sweep dir>/.joblib/worker-<k>.log`. */
export function joblibWorkerLog(ctx: LaunchContext): (k: number) => string {
  return (k) => join(ctx.sweepDir, '.joblib', `worker-${k}.log`);
}

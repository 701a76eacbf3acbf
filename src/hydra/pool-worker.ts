/**
 * The worker side of `hydra/launcher=joblib` (src/hydra/worker-pool.ts), as joblib's loky backend keeps
 * its workers: our CLI started once per sweep with FUSION_BENCH_POOL_WORKER=1 and an IPC channel, which
 * runs the jobs it is sent one after another — each exactly as a job in a process of its own
 * (runLaunchedJob: same run folder, record and result file) but with one sweep cache for all of this
 * worker's jobs, so its later jobs reuse the models, task vector sums, images and heads its earlier jobs
 * loaded, as the in-process BasicLauncher's jobs do. Each job's output goes to the log file it names.
 */
import { createWriteStream, openSync } from 'node:fs';
import type { SweepCache } from '../run-context.js';
import type { App } from './app.js';
import type { AppIO, ComposeRequest } from './io.js';
import { runLaunchedJob, type LaunchedJobSpec } from './launched-job.js';

export const POOL_WORKER_ENV = 'FUSION_BENCH_POOL_WORKER';

/** Parent → worker. */
export type ToWorker = { type: 'job'; request: ComposeRequest; spec: LaunchedJobSpec; log: string } | { type: 'stop' };

/** Worker → parent, once a job has ended (its result file says how). */
export interface JobDone {
  type: 'done';
  num: number;
  pid: number;
  /** How many jobs this worker has run, this one included. */
  jobsRun: number;
  /** Entries the sweep cache held when the job started (what earlier jobs left for it). */
  cacheEntriesBefore: number;
}

export function isPoolWorker(env: NodeJS.ProcessEnv): boolean {
  return env[POOL_WORKER_ENV] === '1' && typeof process.send === 'function';
}

/** Serves jobs until the parent says stop or goes away; resolves to the exit status. */
export function runPoolWorker(io: AppIO, app: App): Promise<number> {
  const cache: SweepCache = new Map();
  let jobsRun = 0;
  let busy = false;
  return new Promise<number>((done) => {
    const stop = async () => {
      process.off('message', onMessage);
      await app.releaseSweepCache?.(cache);
      cache.clear();
      if (process.connected) process.disconnect();
      done(0);
    };
    // The parent ended (Ctrl-C, a crash): a job under way stops as on SIGTERM, removing its temporary files.
    process.on('disconnect', () => {
      if (busy) process.kill(process.pid, 'SIGTERM');
      else done(0);
    });
    const onMessage = (m: ToWorker) => {
      if (m.type === 'stop') {
        void stop();
        return;
      }
      busy = true;
      void runOne(m).then((reply) => {
        busy = false;
        if (process.connected) process.send!(reply);
      });
    };
    const runOne = async (m: Extract<ToWorker, { type: 'job' }>): Promise<JobDone> => {
      const cacheEntriesBefore = cache.size;
      jobsRun++;
      const log = createWriteStream(m.log, { fd: openSync(m.log, 'a') });
      log.write(`[joblib worker ${process.pid}] job #${m.spec.num}: this worker's job ${jobsRun}, sweep cache holding ${cacheEntriesBefore} entries from its earlier jobs\n`);
      const jobIo: AppIO = { stdout: log, stderr: log, env: io.env, cwd: io.cwd };
      try {
        await runLaunchedJob(m.request, jobIo, app, m.spec, cache);
      } catch (e) {
        // composing failed: runLaunchedJob has written the failed result; the worker goes on
        log.write(`${(e as Error).message ?? String(e)}\n`);
      }
      await new Promise<void>((closed) => log.end(closed));
      return { type: 'done', num: m.spec.num, pid: process.pid, jobsRun, cacheEntriesBefore };
    };
    process.on('message', onMessage);
  });
}

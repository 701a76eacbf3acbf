/**
 * `hydra/launcher=submitit_slurm`: the sweep's jobs as Slurm job arrays. Each task runs our CLI on its
 * job's overrides, exactly as a local worker would (src/hydra/job-processes.ts), and leaves a result
 * file; the launcher waits (squeue, with a bounded back-off), prints a progress line, and collects the
 * result files. It trusts result files; Slurm's state counts only for a job that left none. A sweep run
 * again over the same folder submits only the jobs without a finished result, and waits for those still
 * queued from an earlier submission; `detach` submits and returns; Ctrl-C cancels what it waits for.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import type { JobOutcome } from '../job-return.js';
import { clearResult, finishedResult, heapKeepingEnv, launchedJobEnv, prepareJobs, type PreparedJob } from '../job-processes.js';
import { outcomeOfReturn, readJobReturn, writeJobReturn, type JobReturnFile } from '../launched-job.js';
import { LaunchDetached, type LaunchContext, type Launcher } from '../launcher.js';
import { FINAL_STATES, PENDING_STATES, Slurm } from './commands.js';
import { arrayChunks, arrayScript, logPaths, slurmConf, taskFolder, type SlurmConf } from './sbatch.js';
import { Submissions } from './submissions.js';

export const SLURM_LAUNCHER = 'hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher';

/** Polling: from MIN_POLL_S, ×1.5 while nothing changes, at most MAX_POLL_S. */
const MIN_POLL_S = 0.5;
const MAX_POLL_S = 10;
/**
 * A job that Slurm says has ended but whose result file is not there yet counts as lost only after this
 * many polls and seconds: a shared file system (NFS's attribute cache) may show a new file late.
 */
const ABSENT_POLLS = 3;
/** After the last result, how long to wait for Slurm to finish ending the jobs (epilogs). */
const SETTLE_S = 60;
function resultGraceS(env: NodeJS.ProcessEnv): number {
  const v = Number(env.FUSION_BENCH_SLURM_RESULT_GRACE_S);
  return Number.isFinite(v) && v >= 0 ? v : 20;
}

interface Tracked {
  job: PreparedJob;
  arrayId: string;
  task: number;
  absent: number;
  /** When Slurm was first seen to have ended the job without a result (ms). */
  endedAt?: number;
  outcome: JobOutcome | null;
}

export class SlurmLauncher implements Launcher {
  private readonly conf: SlurmConf;
  private readonly slurm: Slurm;
  /** The arrays this command has submitted (cancelled if it is interrupted or fails before they end). */
  private readonly submitted: string[] = [];
  private readonly submissions: Submissions;

  constructor(private readonly ctx: LaunchContext) {
    const conf = slurmConf(ctx.launcherConfig);
    this.conf = { ...conf, submititFolder: resolve(ctx.io.cwd, conf.submititFolder) };
    this.slurm = new Slurm(ctx.io.env);
    this.submissions = new Submissions(ctx.sweepDir);
  }

  launch(jobs: readonly (readonly string[])[], initialJobIdx: number): Promise<JobOutcome[]> {
    return this.run(prepareJobs(this.ctx, jobs, initialJobIdx), this.conf.detach);
  }

  /** The selected job's evaluation after the sweep: on Slurm too, and waited for (detach or not). */
  async launchMore(overrides: readonly string[], num: number, subdir: string): Promise<JobOutcome> {
    return (await this.run(prepareJobs(this.ctx, [overrides], num, subdir), false))[0]!;
  }

  private async run(prepared: readonly PreparedJob[], detach: boolean): Promise<JobOutcome[]> {
    const { io } = this.ctx;
    const outcomes = new Map<number, JobOutcome>();
    for (const job of prepared) {
      const r = finishedResult(job);
      if (r !== null) outcomes.set(job.num, this.collect(job, r));
    }

    // jobs an earlier run submitted that Slurm still has queued or running: wait for them, do not submit them again
    const tracked: Tracked[] = [];
    const latest = this.submissions.latestByJob();
    const states = new Map<string, Map<number, { state: string; reason: string }>>();
    for (const job of prepared) {
      const at = latest.get(job.num);
      if (outcomes.has(job.num) || at === undefined || JSON.stringify(at.overrides) !== JSON.stringify(job.overrides)) continue;
      if (!states.has(at.arrayId)) states.set(at.arrayId, await this.slurm.arrayStates(at.arrayId));
      const st = states.get(at.arrayId)!.get(at.task);
      if (st !== undefined && !FINAL_STATES.has(st.state)) tracked.push({ job, arrayId: at.arrayId, task: at.task, absent: 0, outcome: null });
    }
    const toSubmit = prepared.filter((j) => !outcomes.has(j.num) && !tracked.some((t) => t.job.num === j.num));
    if (outcomes.size > 0) io.stderr.write(`[slurm] ${outcomes.size} of ${prepared.length} jobs already finished (their result files are in their run directories)\n`);
    if (tracked.length > 0) io.stderr.write(`[slurm] ${tracked.length} jobs are still queued or running from an earlier submission (array ${[...new Set(tracked.map((t) => t.arrayId))].join(', ')}): waiting for them\n`);
    // Ctrl-C (or a kill) from the first submission on cancels what this command submitted or waits for;
    // prepended, so it runs before the temp-file clean-up's handler, which exits at once
    const arrays = () => [...new Set([...tracked.map((t) => t.arrayId), ...this.submitted])];
    const onSignal = (signal: NodeJS.Signals) => {
      const ids = arrays();
      const err = this.slurm.cancelSync(ids);
      io.stderr.write(`\n[slurm] Interrupted (${signal}): ${ids.length === 0 ? 'nothing was submitted' : err === null ? `cancelled Slurm array ${ids.join(', ')} (scancel)` : `scancel ${ids.join(' ')} failed: ${err}`}\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.prependListener('SIGINT', onSignal);
    process.prependListener('SIGTERM', onSignal);
    try {
      if (toSubmit.length > 0) tracked.push(...(await this.submit(toSubmit)));
      if (detach && tracked.length > 0) {
        const ids = arrays();
        io.stderr.write(`[slurm] Detached: ${tracked.length} jobs in Slurm array ${ids.join(', ')} (squeue -j ${ids.join(',')}); run the same command again to collect the results\n`);
        throw new LaunchDetached(ids);
      }
      if (tracked.length > 0) await this.wait(tracked);
    } catch (e) {
      // the command does not return leaving its jobs queued (unless asked to: detach)
      const open = e instanceof LaunchDetached ? [] : [...new Set([...tracked.filter((t) => t.outcome === null).map((t) => t.arrayId), ...this.submitted])];
      if (open.length > 0) io.stderr.write(`[slurm] ${this.slurm.cancelSync(open) === null ? `cancelled Slurm array ${open.join(', ')} (scancel)` : `could not cancel Slurm array ${open.join(', ')}`}\n`);
      throw e;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    for (const t of tracked) outcomes.set(t.job.num, t.outcome!);
    return prepared.map((j) => outcomes.get(j.num)!);
  }

  /** A finished job's result: completed when first collected, reused when a summary has counted it before. */
  private collect(job: PreparedJob, r: JobReturnFile): JobOutcome {
    const outcome = outcomeOfReturn(r, job.num, job.overrides);
    if (r.status === 'completed' && r.collected === true) outcome.status = 'reused';
    if (r.collected !== true) writeJobReturn(job.resultPath, { ...r, collected: true });
    return outcome;
  }

  private async submit(jobs: readonly PreparedJob[]): Promise<Tracked[]> {
    const { io, sweepDir } = this.ctx;
    const maxArray = await this.slurm.maxArraySize();
    const chunks = arrayChunks(jobs, maxArray);
    const conf = this.conf;
    const folder = conf.submititFolder;
    const tracked: Tracked[] = [];
    mkdirSync(join(sweepDir, '.submitit'), { recursive: true });
    for (const [c, chunk] of chunks.entries()) {
      for (const job of chunk) clearResult(job);
      // hydra.job.id of a Slurm job is its array task, as hydra-submitit-launcher sets it
      const tasks = chunk.map((job) => ({ env: { ...heapKeepingEnv(this.ctx.io.env), ...launchedJobEnv(this.ctx, { ...job, id: undefined }) }, argv: [process.execPath, ...job.argv] }));
      const script = join(sweepDir, '.submitit', `submission_${this.submissions.all().length}.sh`);
      const nums = chunk.map((j) => j.num).join(', ');
      writeFileAtomic(script, arrayScript(conf, tasks, io.cwd, `fusion-bench: jobs ${nums} (array tasks 0..${chunk.length - 1}) of the sweep in ${sweepDir} (hydra/launcher=submitit_slurm)`));
      const arrayId = await this.slurm.submitHeld(script);
      this.submitted.push(arrayId);
      // Slurm does not make the folders of --output: the array is held until they exist
      for (let task = 0; task < chunk.length; task++) mkdirSync(taskFolder(folder, arrayId, task), { recursive: true });
      this.submissions.record({ array_id: arrayId, jobs: chunk.map((j) => j.num), overrides: chunk.map((j) => [...j.overrides]), submitit_folder: folder });
      await this.slurm.release(arrayId);
      io.stderr.write(`[slurm] Submitted ${chunk.length} jobs as Slurm array ${arrayId}${chunks.length > 1 ? ` (${c + 1} of ${chunks.length}: MaxArraySize is ${maxArray})` : ''}; output in ${taskFolder(folder, arrayId, 0).replace(`${arrayId}_0`, `${arrayId}_*`)}\n`);
      chunk.forEach((job, task) => tracked.push({ job, arrayId, task, absent: 0, outcome: null }));
    }
    return tracked;
  }

  private async wait(tracked: Tracked[]): Promise<void> {
    const { io } = this.ctx;
    const ids = [...new Set(tracked.map((t) => t.arrayId))];
    const grace = resultGraceS(io.env);
    let delay = MIN_POLL_S;
    let last = '';
    let settling: number | undefined;
    for (;;) {
      const open = tracked.filter((t) => t.outcome === null);
      const counts = { pending: 0, running: 0 };
      const states = new Map<string, Map<number, { state: string; reason: string }>>();
      for (const id of ids) states.set(id, await this.slurm.arrayStates(id));
      let changed = false;
      for (const t of open) {
        const r = readJobReturn(t.job.resultPath);
        const st = states.get(t.arrayId)!.get(t.task);
        if (r !== null) {
          t.outcome = this.withLog(this.collect(t.job, r), t);
          changed = true;
        } else if (st === undefined || FINAL_STATES.has(st.state)) {
          t.endedAt ??= Date.now();
          if (++t.absent >= ABSENT_POLLS && Date.now() - t.endedAt >= grace * 1000) {
            t.outcome = await this.lost(t, st?.state ?? null, st?.reason ?? '');
            changed = true;
          }
        } else if (PENDING_STATES.has(st.state)) counts.pending++;
        else counts.running++;
      }
      const done = tracked.filter((t) => t.outcome !== null && t.outcome.status !== 'failed').length;
      const failed = tracked.filter((t) => t.outcome?.status === 'failed').length;
      const line = `[slurm] array ${ids.join(', ')}: ${counts.pending} pending, ${counts.running} running, ${done} done, ${failed} failed`;
      if (line !== last) io.stderr.write(line + '\n');
      last = line;
      if (tracked.every((t) => t.outcome !== null)) {
        // a job that wrote its result may still be finishing in Slurm (COMPLETING): return when none is
        const busy = tracked.filter((t) => {
          const st = states.get(t.arrayId)!.get(t.task);
          return st !== undefined && !FINAL_STATES.has(st.state);
        });
        if (busy.length === 0) return;
        settling ??= Date.now();
        if (Date.now() - settling > SETTLE_S * 1000) {
          io.stderr.write(`[slurm] ${busy.map((t) => `${t.arrayId}_${t.task}`).join(', ')} still finishing in Slurm after ${SETTLE_S} s; not waiting longer\n`);
          return;
        }
      }
      delay = changed ? MIN_POLL_S : Math.min(MAX_POLL_S, delay * 1.5);
      await new Promise((r) => setTimeout(r, delay * 1000));
    }
  }

  private withLog(o: JobOutcome, t: Tracked): JobOutcome {
    if (o.status === 'failed') o.error = `${o.error ?? 'failed'}\n(Slurm job ${t.arrayId}_${t.task}; log: ${logPaths(this.conf, t.arrayId, t.task).out})`;
    return o;
  }

  /** A job that left Slurm's queue without a result file: its state from squeue, else sacct, and its log. */
  private async lost(t: Tracked, state: string | null, reason: string): Promise<JobOutcome> {
    let st = state;
    if (st === null) st = (await this.slurm.accountedStates(t.arrayId))?.get(t.task) ?? null;
    const logs = logPaths(this.conf, t.arrayId, t.task);
    const what = st === null ? 'left the queue (Slurm no longer knows it) without a result file' : `ended ${st}${reason && reason !== 'None' ? ` (${reason})` : ''} without a result file`;
    this.ctx.io.stderr.write(`Error executing job with overrides: [${t.job.overrides.map((o) => `'${o}'`).join(', ')}]\nSlurm job ${t.arrayId}_${t.task} ${what}; log: ${logs.err ?? logs.out}\n`);
    return {
      num: t.job.num,
      overrides: t.job.overrides.filter((o) => !o.startsWith('hydra.')),
      status: 'failed',
      error: `Slurm job ${t.arrayId}_${t.task} ${what}; state: ${st ?? 'UNKNOWN'}; log: ${logs.err ?? logs.out}`,
      outputDir: t.job.outputDir,
      reportPath: null,
      report: null,
      job: null,
      choices: {},
      seconds: 0,
    };
  }
}

/**
 * Hydra's BasicLauncher: the jobs one after another in this process. Being in-process, the jobs share a
 * sweep cache (task vector sums, preprocessed images, zero-shot heads, task pools) that the application
 * releases at the end of the sweep.
 */
import type { JobOutcome } from './job-return.js';
import type { LaunchContext, Launcher } from './launcher.js';
import { runJob } from './run-job.js';

export const BASIC_LAUNCHER = 'hydra._internal.core_plugins.basic_launcher.BasicLauncher';

export class BasicLauncher implements Launcher {
  constructor(private readonly ctx: LaunchContext) {}

  async launch(jobs: readonly (readonly string[])[], initialJobIdx: number): Promise<JobOutcome[]> {
    const { io } = this.ctx;
    // BasicSweeper.validate_batch_is_legal: a composition error stops the sweep before any job of the batch runs.
    const composed = jobs.map((overrides, i) => this.ctx.composeJob(overrides, initialJobIdx + i));
    io.stderr.write(`[HYDRA] Launching ${jobs.length} jobs locally\n`);
    const out: JobOutcome[] = [];
    for (let i = 0; i < jobs.length; i++) {
      const overrides = jobs[i]!;
      io.stderr.write(`[HYDRA] \t#${initialJobIdx + i} : ${overrides.filter((o) => !o.startsWith('hydra.')).join(' ')}\n`);
      out.push(await runJob({ composed: composed[i]!, mode: 'MULTIRUN', overrides, num: initialJobIdx + i, now: this.ctx.now }, { io, app: this.ctx.app, sweepCache: this.ctx.sweepCache }));
    }
    return out;
  }
}

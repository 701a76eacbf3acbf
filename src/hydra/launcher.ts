/**
 * Where a sweep's jobs run (Hydra's plugins/launcher.py): the sweeper decides WHAT runs — the jobs'
 * overrides, batch by batch — and a Launcher decides WHERE, chosen by `hydra.launcher._target_`. Every
 * launcher returns one JobOutcome per job, in the order given; the sweep's summary does not care where
 * the jobs ran.
 */
import { UserError } from '../errors.js';
import type { ComposeResult } from '../config/compose.js';
import type { ConfigDict } from '../config/values.js';
import type { SweepCache } from '../run-context.js';
import type { App } from './app.js';
import type { AppIO, ComposeRequest } from './io.js';
import type { JobOutcome } from './job-return.js';

export interface LaunchContext {
  io: AppIO;
  app: App;
  /** What the command line asked to compose (a launcher in another process rebuilds the command from it). */
  request: ComposeRequest;
  /** The master config (MULTIRUN), unresolved. */
  config: ConfigDict;
  /** `hydra.launcher`, resolved. */
  launcherConfig: ConfigDict;
  /** The overrides of the `hydra` node every job gets before its own. */
  hydraOverrides: readonly string[];
  /** `hydra.sweep.dir`, absolute. */
  sweepDir: string;
  /** How many jobs the sweep plans (its batches together); a pool starts no more workers than that. */
  plannedJobs?: number;
  /** The sweep's clock: `${now:...}` resolves to its start in every job. */
  now: () => Date;
  /**
   * What in-process jobs may share (task vector sums, images, heads): a launcher that runs jobs in this
   * process gives it to them; one that runs them elsewhere withholds it.
   */
  sweepCache: SweepCache;
  /** Composes job `num` in this process as BasicLauncher does (hydra.job.id/num set; `extraHydra` before the job's overrides). */
  composeJob(overrides: readonly string[], num: number, id?: string, extraHydra?: readonly string[]): ComposeResult;
}

export interface Launcher {
  /** Runs the jobs (each a list of overrides), numbered from `initialJobIdx`; one outcome per job, in order. */
  launch(jobs: readonly (readonly string[])[], initialJobIdx: number): Promise<JobOutcome[]>;
  /**
   * One more job after the sweep's (the selected job's evaluation), job `num` in `<sweep dir>/<subdir>`,
   * where the launcher runs its jobs; without it, that job runs in this process.
   */
  launchMore?(overrides: readonly string[], num: number, subdir: string): Promise<JobOutcome>;
  /** The sweep is over: stop what the launcher keeps running between jobs (a pool's workers). */
  close?(): Promise<void>;
}

/**
 * Thrown by a launcher that submitted its jobs and returns without waiting for them (Slurm's `detach`):
 * the sweep ends here, successfully, without a summary; running the same command again collects it.
 */
export class LaunchDetached extends Error {
  constructor(readonly ids: readonly string[]) {
    super(`submitted ${ids.join(', ')} without waiting`);
  }
}

export type LauncherFactory = (ctx: LaunchContext) => Launcher;

/** Launchers by `hydra.launcher._target_`, as Hydra's plugin names spell them. */
export class LauncherRegistry {
  private readonly factories = new Map<string, LauncherFactory>();

  register(targets: readonly string[], factory: LauncherFactory): this {
    for (const t of targets) this.factories.set(t, factory);
    return this;
  }

  create(ctx: LaunchContext): Launcher {
    const target = ctx.launcherConfig._target_;
    if (typeof target !== 'string') throw new UserError(`hydra.launcher has no _target_: choose a launcher with hydra/launcher=<name> (${this.names().join(', ')})`);
    const f = this.factories.get(target);
    if (f === undefined) {
      throw new UserError(`hydra.launcher._target_: '${target}' is not a launcher fusion-bench provides. Launchers: ${this.names().join(', ')}`);
    }
    return f(ctx);
  }

  names(): string[] {
    return [...this.factories.keys()];
  }
}

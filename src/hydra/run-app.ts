/**
 * Hydra's _run_app: a single run, or a sweep when `-m` is given or the config says `hydra.mode: MULTIRUN`.
 */
import { isDict } from '../config/values.js';
import type { SweepCache } from '../run-context.js';
import type { App } from './app.js';
import { BASIC_LAUNCHER, BasicLauncher } from './basic-launcher.js';
import { composeRequest } from './compose.js';
import type { AppIO, ComposeRequest } from './io.js';
import { LauncherRegistry } from './launcher.js';
import { runMultirun } from './multirun.js';
import { runJob } from './run-job.js';
import { SLURM_LAUNCHER, SlurmLauncher } from './slurm/slurm-launcher.js';
import { launchedJobSpec, runLaunchedJob } from './launched-job.js';
import { isPoolWorker, runPoolWorker } from './pool-worker.js';
import { joblibWorkerLog, WorkerPoolLauncher } from './worker-pool.js';
import { JOBLIB_LAUNCHER, ProcessPoolLauncher, SUBMITIT_LOCAL_LAUNCHER, joblibOptions, submititLocalOptions } from './process-launcher.js';

/** The launchers `hydra/launcher=<name>` can choose, by `_target_`. */
export function builtinLaunchers(): LauncherRegistry {
  return new LauncherRegistry()
    .register([BASIC_LAUNCHER], (ctx) => new BasicLauncher(ctx))
    .register([JOBLIB_LAUNCHER], (ctx) => new WorkerPoolLauncher(ctx, joblibOptions(ctx), joblibWorkerLog(ctx)))
    .register([SUBMITIT_LOCAL_LAUNCHER], (ctx) => new ProcessPoolLauncher(ctx, submititLocalOptions(ctx)))
    .register([SLURM_LAUNCHER], (ctx) => new SlurmLauncher(ctx));
}

export async function runApp(req: ComposeRequest, io: AppIO, app: App, opts: { multirun: boolean; launchers?: LauncherRegistry }): Promise<number> {
  // a joblib worker: the jobs it is sent, one after another
  if (isPoolWorker(io.env)) return runPoolWorker(io, app);
  // one job of a sweep, started by a launcher in a process of its own
  const launched = launchedJobSpec(io.env);
  if (launched !== null) {
    // A cache of its own, as the first job of an in-process sweep has: its images then come from (and go
    // to) the on-disk crop cache the sweep's other jobs share, and are preprocessed exactly as theirs.
    const cache: SweepCache = new Map();
    try {
      return await runLaunchedJob(req, io, app, launched, cache);
    } finally {
      await app.releaseSweepCache?.(cache);
    }
  }
  // Hydra's get_mode: a config may ask for a sweep itself (hydra.mode: MULTIRUN); otherwise a run
  // records hydra.mode=RUN among the hydra overrides, as Hydra's _run_app does.
  const mode = opts.multirun ? 'MULTIRUN' : configuredMode(req, io);
  if (mode === 'MULTIRUN') return runMultirun(req, io, app, opts.launchers ?? builtinLaunchers());
  const runReq = mode === null ? { ...req, overrides: [...req.overrides, 'hydra.mode=RUN'] } : req;
  const composed = composeRequest(runReq, io, 'RUN');
  for (const w of composed.warnings ?? []) io.stderr.write(`${w}\n`);
  const outcome = await runJob({ composed, mode: 'RUN', overrides: runReq.overrides, num: 0 }, { io, app, sweepCache: null });
  if (outcome.status === 'failed') throw outcome.exception;
  return 0;
}

/** `hydra.mode` as the config sets it (composed as for a sweep, so sweep overrides do not fail here). */
function configuredMode(req: ComposeRequest, io: AppIO): 'RUN' | 'MULTIRUN' | null {
  const { config } = composeRequest(req, io, 'MULTIRUN');
  const m = isDict(config.hydra) ? config.hydra.mode : null;
  return m === 'RUN' || m === 'MULTIRUN' ? m : null;
}

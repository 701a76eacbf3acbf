/**
 * `-m`: Hydra 1.3's multirun. The master config is composed in MULTIRUN mode; the BasicSweeper expands
 * the sweep overrides (and `hydra.sweeper.params`) batch by batch; the launcher that `hydra.launcher`
 * names runs each batch; the application then sees every outcome (fusion-bench writes its summary).
 * A failed job is recorded and the sweep goes on; the exit status is 1 when a job failed.
 */
import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { ConfigFileCache } from '../config/repository.js';
import { toYaml } from '../config/omegaconf/dump.js';
import { resolveAt } from '../config/omegaconf/resolve.js';
import { pyStr } from '../config/omegaconf/pystr.js';
import { isDict, toPlain, type ConfigDict } from '../config/values.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { ensureDir } from '../util/ensure-dir.js';
import type { App } from './app.js';
import { composeRequest } from './compose.js';
import type { AppIO, ComposeRequest } from './io.js';
import type { JobOutcome } from './job-return.js';
import { LaunchDetached, type LaunchContext, type LauncherRegistry } from './launcher.js';
import { dictAt } from './run-dir.js';
import { runJob } from './run-job.js';
import { planSweep, type SweepPlan } from './sweeper.js';
import { lockDir } from './dir-lock.js';

export async function runMultirun(req: ComposeRequest, io: AppIO, app: App, launchers: LauncherRegistry): Promise<number> {
  const started = new Date();
  const now = () => started;
  const cache = new ConfigFileCache();
  const master = composeMaster(req, io, cache);
  const config = master.config;
  for (const w of master.warnings ?? []) io.stderr.write(`${w}\n`);
  const hydra = dictAt(config.hydra, 'hydra node');
  const overridesNode = dictAt(hydra.overrides, 'hydra.overrides');
  const hydraOverrides = ((overridesNode.hydra ?? []) as unknown[]).map(String);
  const taskOverrides = ((overridesNode.task ?? []) as unknown[]).map(String);

  const resolveCtx = { env: io.env, hydra, now };
  const sweeper = resolveAt(config, 'hydra.sweeper', resolveCtx);
  const sweeperNode: ConfigDict = isDict(sweeper) ? sweeper : {};
  const params = isDict(sweeperNode.params) ? Object.entries(sweeperNode.params).map(([k, v]) => `${k}=${pyStr(v)}`) : [];
  const maxBatch = toPlain(sweeperNode.max_batch_size ?? null);
  if (maxBatch !== null && typeof maxBatch !== 'number') throw new UserError(`hydra.sweeper.max_batch_size must be an integer or null, got ${JSON.stringify(maxBatch)}`);
  const plan = planSweep([...params, ...taskOverrides], { groupOptions: (g) => master.repository.groupOptions(g, 'config'), maxBatchSize: maxBatch });

  const sweepDirValue = resolveAt(config, 'hydra.sweep.dir', resolveCtx);
  if (typeof sweepDirValue !== 'string' || sweepDirValue === '') throw new UserError(`hydra.sweep.dir must be a path, got ${JSON.stringify(toPlain(sweepDirValue ?? null))}`);
  const sweepDir = resolve(io.cwd, sweepDirValue);
  ensureDir(sweepDir, 'the sweep directory');
  const lock = lockDir(sweepDir, 'the sweep directory');
  try {
    writeFileAtomic(join(sweepDir, 'multirun.yaml'), toYaml(config));
    return await runLocked(req, io, app, launchers, { config, hydraOverrides, plan, sweepDir, now, cache });
  } finally {
    lock.release();
  }
}

interface Master {
  config: ConfigDict;
  hydraOverrides: readonly string[];
  plan: SweepPlan;
  sweepDir: string;
  now: () => Date;
  cache: ConfigFileCache;
}

async function runLocked(req: ComposeRequest, io: AppIO, app: App, launchers: LauncherRegistry, m: Master): Promise<number> {
  const { config, hydraOverrides, plan, sweepDir, now, cache } = m;
  const resolveCtx = { env: io.env, hydra: dictAt(config.hydra, 'hydra node'), now };

  const composeJob = (overrides: readonly string[], num: number, id: string = String(num), extraHydra: readonly string[] = []) => {
    const composed = composeRequest(req, io, 'RUN', { overrides: [...hydraOverrides, ...extraHydra, ...overrides], cache });
    const job = dictAt(dictAt(composed.config.hydra, 'hydra node').job, 'hydra.job');
    job.id = id;
    job.num = num;
    return composed;
  };
  const launcherNode = resolveAt(config, 'hydra.launcher', resolveCtx);
  const sweepCache = new Map<string, unknown>();
  const launchCtx: LaunchContext = {
    io, app, request: req, config, hydraOverrides, sweepDir, now, sweepCache, plannedJobs: plan.jobCount,
    launcherConfig: isDict(launcherNode) ? launcherNode : {},
    composeJob: (overrides, num, id, extraHydra) => composeJob(overrides, num, id, extraHydra),
  };
  const launcher = launchers.create(launchCtx);

  let next = plan.jobCount;
  const runMore = async (overrides: readonly string[], subdir: string): Promise<JobOutcome> => {
    const num = next++;
    if (launcher.launchMore) return launcher.launchMore(overrides, num, subdir);
    const composed = composeJob(overrides, num, subdir, [`hydra.sweep.subdir=${subdir}`]);
    return runJob({ composed, mode: 'MULTIRUN', overrides, num, now }, { io, app, sweepCache });
  };
  const outcomes: JobOutcome[] = [];
  try {
    // inside: a launcher's workers, started with it, stop when this fails
    app.onMultirunStart?.({
      resolve: (key) => resolveAt(config, key, resolveCtx),
      firstJob: plan.jobCount > 0 ? plan.job(0) : null,
      composeOnly: (overrides, subdir) => void composeJob(overrides, next, subdir, [`hydra.sweep.subdir=${subdir}`]),
    });
    let idx = 0;
    for (const batch of plan.batches()) {
      try {
        outcomes.push(...(await launcher.launch(batch, idx)));
      } catch (e) {
        if (e instanceof LaunchDetached) return 0; // submitted, not waited for: collected by a later run
        throw e;
      }
      idx += batch.length;
    }
    const endFailed = (await app.onMultirunEnd?.({ sweepDir, swept: plan.swept, outcomes, runMore })) ?? false;
    return outcomes.some((o) => o.status === 'failed') || endFailed ? 1 : 0;
  } finally {
    await launcher.close?.();
    await app.releaseSweepCache?.(sweepCache);
    sweepCache.clear(); // what the jobs shared (task vector sums, images) is not needed after the sweep
  }
}

/**
 * The master config, composed in MULTIRUN mode. As Hydra's _run_app, `hydra.mode=MULTIRUN` joins the
 * hydra overrides (and so every job's) unless the config already says MULTIRUN.
 */
function composeMaster(req: ComposeRequest, io: AppIO, cache: ConfigFileCache) {
  const first = composeRequest(req, io, 'MULTIRUN', { cache });
  const mode = isDict(first.config.hydra) ? first.config.hydra.mode : null;
  if (mode === 'MULTIRUN') return first;
  if (mode === 'RUN') io.stderr.write('UserWarning: \n\tRunning Hydra app with --multirun, overriding with `hydra.mode=MULTIRUN`.\n');
  return composeRequest(req, io, 'MULTIRUN', { cache, overrides: [...req.overrides, 'hydra.mode=MULTIRUN'] });
}

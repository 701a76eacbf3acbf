import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import type { CliArgs } from '../cli/args.js';
import type { CliIO } from '../cli/main.js';
import { ConfigFileCache } from '../config/repository.js';
import { toYaml } from '../config/omegaconf/dump.js';
import { resolveAt } from '../config/omegaconf/resolve.js';
import { isDict, toPlain, type ConfigDict } from '../config/values.js';
import { pyStr } from '../config/omegaconf/pystr.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { planSweep, sweptValuesOf } from './sweep-expand.js';
import { composeJob, composeSweepConfig, describeError, runSweepJob, type JobOutcome, type SweepContext } from './sweep-job.js';
import { dictAt } from './run-dir.js';
import { isValidationTaskPool, selectOptionsOf, withOverrides } from './sweep-select.js';
import { releaseSharedInstances } from './sweep-memo.js';
import { rowOf, summarizeSweep, type JobResult, type SweepSummary } from '../report/sweep-summary.js';
import { writeSweepReports } from '../report/write-reports.js';
import { summaryMarkdown as markdownOf } from '../report/summary-table.js';

/**
 * `-m`: Hydra 1.3's multirun with the BasicSweeper and BasicLauncher. The cartesian product of the sweep
 * overrides runs one job after another in this process (models, datasets and task pools are shared
 * through runtime.memo), each in `hydra.sweep.dir/hydra.sweep.subdir`. A failed job is recorded and the
 * sweep goes on; a job whose report exists from an earlier run of the same sweep directory is reused.
 * At the end: sweep_summary.{json,csv,md,svg,png} in the sweep directory and the table on stdout.
 * Returns 1 when a job failed.
 */
export async function runSweep(args: CliArgs, io: CliIO): Promise<number> {
  const ctx: SweepContext = { args, io, cache: new ConfigFileCache(), started: new Date(), sweepCache: new Map() };
  const master = composeMaster(ctx);
  const config = master.config;
  for (const w of master.warnings ?? []) io.stderr.write(`${w}\n`);
  const hydra = dictAt(config.hydra, 'hydra node');
  const overridesNode = dictAt(hydra.overrides, 'hydra.overrides');
  const hydraOverrides = ((overridesNode.hydra ?? []) as unknown[]).map(String);
  const taskOverrides = ((overridesNode.task ?? []) as unknown[]).map(String);

  const resolveCtx = { env: io.env, hydra, now: () => ctx.started };
  const sweeper = resolveAt(config, 'hydra.sweeper', resolveCtx);
  const sweeperNode: ConfigDict = isDict(sweeper) ? sweeper : {};
  const params = isDict(sweeperNode.params) ? Object.entries(sweeperNode.params).map(([k, v]) => `${k}=${pyStr(v)}`) : [];
  const maxBatch = toPlain(sweeperNode.max_batch_size ?? null);
  if (maxBatch !== null && typeof maxBatch !== 'number') throw new UserError(`hydra.sweeper.max_batch_size must be an integer or null, got ${JSON.stringify(maxBatch)}`);
  const plan = planSweep([...params, ...taskOverrides], {
    groupOptions: (g) => master.repository.groupOptions(g, 'config'),
    maxBatchSize: maxBatch,
  });

  const sweepDirValue = resolveAt(config, 'hydra.sweep.dir', resolveCtx);
  if (typeof sweepDirValue !== 'string' || sweepDirValue === '') throw new UserError(`hydra.sweep.dir must be a path, got ${JSON.stringify(toPlain(sweepDirValue ?? null))}`);
  const sweepDir = resolve(io.cwd, sweepDirValue);
  mkdirSync(sweepDir, { recursive: true });
  writeFileAtomic(join(sweepDir, 'multirun.yaml'), toYaml(config));
  const selectOpts = selectOptionsOf(resolveAt(config, 'sweep', resolveCtx));

  if (selectOpts.evaluateBestWith.length > 0 && plan.batches[0].length > 0) {
    // A typo in evaluate_best_with should stop the sweep now, not after its last job.
    composeJob(ctx, [...hydraOverrides, 'hydra.sweep.subdir=best'], withOverrides(plan.batches[0][0], selectOpts.evaluateBestWith), 0, 'best');
  }

  const outcomes: JobOutcome[] = [];
  let idx = 0;
  // jobs keep what the next ones can reuse (ctx.sweepCache): task vector sums, preprocessed images, zero-shot heads
  try {
    for (const batch of plan.batches) {
      // BasicSweeper.validate_batch_is_legal: a composition error stops the sweep before any job runs.
      const prepared = batch.map((jobOverrides, i) => composeJob(ctx, hydraOverrides, jobOverrides, idx + i));
      io.stderr.write(`[HYDRA] Launching ${batch.length} jobs locally\n`);
      for (const p of prepared) {
        io.stderr.write(`[HYDRA] \t#${p.num} : ${p.overrides.filter((o) => !o.startsWith('hydra.')).join(' ')}\n`);
        outcomes.push(await runSweepJob(ctx, p));
      }
      idx += batch.length;
    }

    const results: JobResult[] = outcomes.map((o) => resultOf(o, plan.swept));
    const reason = selectionReason(selectOpts.select, outcomes);
    const summary = summarizeSweep(sweepDir, plan.swept.map((s) => s.key), results, reason);

    let bestFailed = false;
    if (selectOpts.evaluateBestWith.length > 0) {
      if (summary.selection.best_job === null) {
        // asked for, not done: say why, and let the exit status say so too
        bestFailed = true;
        io.stderr.write(
          reason === null
            ? '[sweep] sweep.evaluate_best_with: no job was selected: with sweep.select=auto a job is selected only when every job ran on a validation task pool (choosing by test accuracy would leak the test set); add +sweep.select=best to select by this task pool anyway. Nothing evaluated.\n'
            : '[sweep] sweep.evaluate_best_with: no job has an average accuracy to select by; nothing evaluated\n',
        );
      } else {
        const best = outcomes.find((o) => o.num === summary.selection.best_job)!;
        const ev = await evaluateBest(ctx, hydraOverrides, best, selectOpts.evaluateBestWith, idx);
        summary.best_evaluation = rowOf(resultOf(ev, plan.swept));
        bestFailed = ev.status === 'failed';
      }
    }
    writeSweepReports(summary, sweepDir);
    io.stdout.write('\n' + summaryTableFor(summary));
    return outcomes.some((o) => o.status === 'failed') || bestFailed ? 1 : 0;
  } finally {
    await releaseSharedInstances(ctx.sweepCache);
    ctx.sweepCache.clear(); // what the jobs shared (task vector sums, images) is not needed after the sweep
  }
}

/**
 * The master config, composed in MULTIRUN mode. As Hydra's _run_app, `hydra.mode=MULTIRUN` joins the
 * hydra overrides (and so every job's) unless the config already says MULTIRUN.
 */
function composeMaster(ctx: SweepContext) {
  const first = composeSweepConfig(ctx, ctx.args.overrides, 'MULTIRUN');
  const mode = isDict(first.config.hydra) ? first.config.hydra.mode : null;
  if (mode === 'MULTIRUN') return first;
  if (mode === 'RUN') ctx.io.stderr.write('UserWarning: \n\tRunning Hydra app with --multirun, overriding with `hydra.mode=MULTIRUN`.\n');
  return composeSweepConfig(ctx, [...ctx.args.overrides, 'hydra.mode=MULTIRUN'], 'MULTIRUN');
}

function resultOf(o: JobOutcome, swept: { key: string; values: string[] }[]): JobResult {
  return {
    num: o.num,
    swept: sweptValuesOf(o.overrides, swept),
    overrides: o.overrides,
    status: o.status,
    error: o.error,
    outputDir: o.outputDir,
    reportPath: o.reportPath,
    report: o.report,
  };
}

/** Why the best job is marked: asked for, or (auto) because the jobs evaluated on validation data. */
function selectionReason(select: 'auto' | 'best' | 'none', outcomes: readonly JobOutcome[]): string | null {
  if (select === 'none') return null;
  if (select === 'best') return 'sweep.select=best';
  const done = outcomes.filter((o) => o.status !== 'failed');
  return done.length > 0 && done.every((o) => isValidationTaskPool(o.job, o.choices)) ? 'validation task pool' : null;
}

/** Runs the chosen job once more with the extra overrides, in `<sweep dir>/best`. */
async function evaluateBest(ctx: SweepContext, hydraOverrides: readonly string[], best: JobOutcome, extra: readonly string[], num: number): Promise<JobOutcome> {
  const overrides = withOverrides(best.overrides, extra);
  ctx.io.stderr.write(`[sweep] Evaluating the selected job #${best.num} with: ${overrides.join(' ')}\n`);
  try {
    const prepared = composeJob(ctx, [...hydraOverrides, 'hydra.sweep.subdir=best'], overrides, num, 'best');
    return await runSweepJob(ctx, prepared);
  } catch (e) {
    const error = describeError(e);
    ctx.io.stderr.write(`Error composing the evaluation of the selected job: ${error}\n`);
    return { num, overrides, status: 'failed', error, outputDir: '', reportPath: null, report: null, job: null, choices: {}, seconds: 0 };
  }
}

function summaryTableFor(s: SweepSummary): string {
  return s.rows.length === 0 ? 'No jobs.\n' : markdownOf(s);
}

/**
 * What fusion-bench adds to Hydra's multirun: before the jobs, the `sweep` node is checked (a typo in
 * `evaluate_best_with` stops the sweep now, not after its last job); after them, the best job is chosen
 * (on validation task pools, or when asked), evaluated once more with `evaluate_best_with` in
 * `<sweep dir>/best`, and sweep_summary.{json,csv,md,svg,png} are written, the table on stdout.
 */
import type { MultirunEnd, MultirunStart } from '../hydra/app.js';
import { describeError, type JobOutcome } from '../hydra/job-return.js';
import { sweptValuesOf, type SweptKey } from '../hydra/sweeper.js';
import { rowOf, summarizeSweep, type JobResult, type SweepSummary } from '../report/sweep-summary.js';
import { writeSweepReports } from '../report/write-reports.js';
import { summaryMarkdown as markdownOf } from '../report/summary-table.js';
import { isValidationTaskPool, selectOptionsOf, withOverrides, type SelectOptions } from './sweep-select.js';

export class SweepReporter {
  private select: SelectOptions = { select: 'auto', evaluateBestWith: [] };

  constructor(private readonly io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }) {}

  start(s: MultirunStart): void {
    this.select = selectOptionsOf(s.resolve('sweep'));
    if (this.select.evaluateBestWith.length > 0 && s.firstJob !== null) {
      s.composeOnly(withOverrides(s.firstJob, this.select.evaluateBestWith), 'best');
    }
  }

  /** Writes the summary; true when the evaluation of the best job was asked for and did not happen. */
  async end(e: MultirunEnd): Promise<boolean> {
    const { io } = this;
    const opts = this.select;
    const results: JobResult[] = e.outcomes.map((o) => resultOf(o, e.swept));
    const reason = selectionReason(opts.select, e.outcomes);
    const summary = summarizeSweep(e.sweepDir, e.swept.map((s) => s.key), results, reason);

    let bestFailed = false;
    if (opts.evaluateBestWith.length > 0) {
      if (summary.selection.best_job === null) {
        // asked for, not done: say why, and let the exit status say so too
        bestFailed = true;
        io.stderr.write(
          reason === null
            ? '[sweep] sweep.evaluate_best_with: no job was selected: with sweep.select=auto a job is selected only when every job ran on a validation task pool (choosing by test accuracy would leak the test set); add +sweep.select=best to select by this task pool anyway. Nothing evaluated.\n'
            : '[sweep] sweep.evaluate_best_with: no job has an average accuracy to select by; nothing evaluated\n',
        );
      } else {
        const best = e.outcomes.find((o) => o.num === summary.selection.best_job)!;
        const overrides = withOverrides(best.overrides, opts.evaluateBestWith);
        io.stderr.write(`[sweep] Evaluating the selected job #${best.num} with: ${overrides.join(' ')}\n`);
        let ev: JobOutcome;
        try {
          ev = await e.runMore(overrides, 'best');
        } catch (err) {
          const error = describeError(err);
          io.stderr.write(`Error composing the evaluation of the selected job: ${error}\n`);
          ev = { num: e.outcomes.length, overrides, status: 'failed', error, outputDir: '', reportPath: null, report: null, job: null, choices: {}, seconds: 0 };
        }
        summary.best_evaluation = rowOf(resultOf(ev, e.swept));
        bestFailed = ev.status === 'failed';
      }
    }
    const written = writeSweepReports(summary, e.sweepDir);
    io.stdout.write('\n' + summaryTableFor(summary));
    io.stderr.write(`Sweep directory: ${e.sweepDir}\n${written.map((p) => `Summary: ${p}`).join('\n')}\n`);
    return bestFailed;
  }
}

function resultOf(o: JobOutcome, swept: readonly SweptKey[]): JobResult {
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

function summaryTableFor(s: SweepSummary): string {
  return s.rows.length === 0 ? 'No jobs.\n' : markdownOf(s);
}

/**
 * A sweep's results as one table: a row per job with its swept values, status, per-task accuracy and
 * loss and their average, and which job is best on the selection metric. Pure data in, data out; the
 * writers (CSV, Markdown, plots) read this shape.
 */

export interface Metrics {
  accuracy: number | null;
  loss: number | null;
}

/** What the sweep knows about one job when it summarizes. */
export interface JobResult {
  num: number;
  /** Swept key → value as override text. */
  swept: Record<string, string>;
  overrides: string[];
  status: 'completed' | 'failed' | 'reused';
  error: string | null;
  outputDir: string;
  reportPath: string | null;
  report: unknown;
}

export interface SummaryRow {
  job: number;
  swept: Record<string, string>;
  overrides: string[];
  status: JobResult['status'];
  error: string | null;
  output_dir: string;
  report_path: string | null;
  tasks: Record<string, Metrics>;
  average: Metrics | null;
  best: boolean;
}

export interface Selection {
  /** Why a best job is chosen: 'validation task pool', 'sweep.select=best', or null (no selection). */
  reason: string | null;
  metric: 'average.accuracy';
  best_job: number | null;
  /** The best job's swept values as overrides (`method.scaling_factor=0.3`). */
  best_overrides: string[];
  best_value: number | null;
}

export interface SweepSummary {
  sweep_dir: string;
  swept_keys: string[];
  tasks: string[];
  rows: SummaryRow[];
  selection: Selection;
  /** The selected job re-run with `sweep.evaluate_best_with` (e.g. on the test task pool). */
  best_evaluation: SummaryRow | null;
}

// run_info: the program's reproducibility record, method_info: a training method's own results (src/program/fusion-program.ts); not tasks.
const NON_TASK_KEYS = new Set(['model_info', 'average', 'run_info', 'method_info']);

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The per-task metrics of a fusion_bench task pool report (`{model_info, <task>: {accuracy, loss}, …,
 * average}`), in report order, and the average (the report's own, else the mean over tasks).
 */
export function metricsOfReport(report: unknown): { tasks: Record<string, Metrics>; average: Metrics | null } {
  const tasks: Record<string, Metrics> = {};
  if (!isObject(report)) return { tasks, average: null };
  for (const [k, v] of Object.entries(report)) {
    if (NON_TASK_KEYS.has(k) || !isObject(v)) continue;
    const m = { accuracy: num(v.accuracy), loss: num(v.loss) };
    if (m.accuracy !== null || m.loss !== null) tasks[k] = m;
  }
  let average: Metrics | null = null;
  if (isObject(report.average)) average = { accuracy: num(report.average.accuracy), loss: num(report.average.loss) };
  else {
    const ms = Object.values(tasks);
    const mean = (sel: (m: Metrics) => number | null) => {
      const xs = ms.map(sel).filter((x): x is number => x !== null);
      return xs.length === ms.length && xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
    };
    if (ms.length > 0) average = { accuracy: mean((m) => m.accuracy), loss: mean((m) => m.loss) };
  }
  return { tasks, average };
}

export function rowOf(job: JobResult): SummaryRow {
  const { tasks, average } = job.status === 'failed' ? { tasks: {}, average: null } : metricsOfReport(job.report);
  return {
    job: job.num,
    swept: { ...job.swept },
    overrides: [...job.overrides],
    status: job.status,
    error: job.error,
    output_dir: job.outputDir,
    report_path: job.reportPath,
    tasks,
    average,
    best: false,
  };
}

/** The job with the highest average accuracy among those that finished; the first on ties. */
export function bestRow(rows: readonly SummaryRow[]): SummaryRow | null {
  let best: SummaryRow | null = null;
  for (const r of rows) {
    const a = r.status === 'failed' ? null : (r.average?.accuracy ?? null);
    if (a === null) continue;
    if (best === null || a > best.average!.accuracy!) best = r;
  }
  return best;
}

/**
 * The summary of a sweep. `selectReason` non-null marks the best job (by average accuracy) with that
 * reason; null leaves every row unmarked (a sweep evaluated on test data must not pick its λ there).
 */
export function summarizeSweep(sweepDir: string, sweptKeys: readonly string[], jobs: readonly JobResult[], selectReason: string | null): SweepSummary {
  const rows = jobs.map(rowOf);
  const tasks: string[] = [];
  for (const r of rows) for (const t of Object.keys(r.tasks)) if (!tasks.includes(t)) tasks.push(t);
  const selection: Selection = { reason: selectReason, metric: 'average.accuracy', best_job: null, best_overrides: [], best_value: null };
  if (selectReason !== null) {
    const best = bestRow(rows);
    if (best !== null) {
      best.best = true;
      selection.best_job = best.job;
      selection.best_overrides = sweptKeys.filter((k) => k in best.swept).map((k) => `${k}=${best.swept[k]}`);
      selection.best_value = best.average!.accuracy;
    }
  }
  return { sweep_dir: sweepDir, swept_keys: [...sweptKeys], tasks, rows, selection, best_evaluation: null };
}

/** A metric for tables: up to 4 decimals, trailing zeros dropped (0.71, 0.7123); empty when absent. */
export function formatMetric(x: number | null | undefined): string {
  if (x === null || x === undefined) return '';
  return String(Number(x.toFixed(4)));
}

/**
 * "Best: method.scaling_factor=0.3 (average accuracy 0.71)"; for a sweep that selected nothing (it was
 * evaluated on test data), the highest accuracy with a note saying it was not selected and how to; null
 * when no job has an accuracy.
 */
export function bestLine(s: SweepSummary): string | null {
  if (s.selection.best_job === null) {
    const top = bestRow(s.rows);
    if (top === null) return null;
    const what = s.swept_keys.filter((k) => k in top.swept).map((k) => `${k}=${top.swept[k]}`).join(' ') || `job #${top.job}`;
    return `Highest average accuracy: ${what} (${formatMetric(top.average!.accuracy)}), not selected: these task pools are not validation splits, and choosing λ on test data overstates it. Sweep on a validation task pool, or add +sweep.select=best to select anyway.`;
  }
  const what = s.selection.best_overrides.length > 0 ? s.selection.best_overrides.join(' ') : `job #${s.selection.best_job}`;
  return `Best: ${what} (average accuracy ${formatMetric(s.selection.best_value)})`;
}

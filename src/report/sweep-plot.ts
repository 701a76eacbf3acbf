import type { PlotSpec, Series } from './line-plot.js';
import type { SummaryRow, SweepSummary } from './sweep-summary.js';

/** A swept value as a number, when its override text is one (`0.3`, `1e-2`, `5`). */
function numeric(v: string | undefined): number | null {
  if (v === undefined || v.trim() === '') return null;
  const x = Number(v);
  return Number.isFinite(x) ? x : null;
}

/**
 * The accuracy plot of a sweep: accuracy against the first numerically swept key (or the first swept
 * key as categories), one line per task plus the average. When other keys are swept too, one average
 * line per combination of their values. Null when no job has an accuracy to plot.
 */
export function sweepPlotSpec(s: SweepSummary): PlotSpec | null {
  const rows = s.rows.filter((r) => r.status !== 'failed' && r.average?.accuracy !== null && r.average?.accuracy !== undefined);
  if (rows.length === 0 || s.swept_keys.length === 0) return null;
  const xKey = s.swept_keys.find((k) => rows.every((r) => numeric(r.swept[k]) !== null)) ?? s.swept_keys[0];
  const isNumeric = rows.every((r) => numeric(r.swept[xKey]) !== null);
  const categories: string[] = [];
  if (!isNumeric) for (const r of rows) if (!categories.includes(r.swept[xKey] ?? '')) categories.push(r.swept[xKey] ?? '');
  const xOf = (r: SummaryRow) => (isNumeric ? numeric(r.swept[xKey])! : categories.indexOf(r.swept[xKey] ?? ''));
  const others = s.swept_keys.filter((k) => k !== xKey);
  const groupOf = (r: SummaryRow) => others.map((k) => `${k}=${r.swept[k] ?? ''}`).join(' ');
  const groups = new Map<string, SummaryRow[]>();
  for (const r of rows) {
    const g = groupOf(r);
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(r);
  }
  const line = (label: string, rs: SummaryRow[], value: (r: SummaryRow) => number | null, emphasis = false): Series | null => {
    const points = rs
      .map((r) => [xOf(r), value(r)] as [number, number | null])
      .filter((p): p is [number, number] => p[1] !== null)
      .sort((a, b) => a[0] - b[0]);
    return points.length > 0 ? { label, points, emphasis } : null;
  };
  const series: Series[] = [];
  if (groups.size === 1) {
    for (const t of s.tasks) {
      const l = line(t, rows, (r) => r.tasks[t]?.accuracy ?? null);
      if (l) series.push(l);
    }
    const avg = line('average', rows, (r) => r.average?.accuracy ?? null, true);
    if (avg) series.push(avg);
  } else {
    for (const [g, rs] of groups) {
      const l = line(`average (${g})`, rs, (r) => r.average?.accuracy ?? null);
      if (l) series.push(l);
    }
  }
  // The selected job; without a selection, the job with the highest average accuracy: every plot shows
  // where the best point is (on its own line when other keys are swept too).
  const best = rows.find((r) => r.best) ?? rows.reduce((a, b) => ((b.average?.accuracy ?? -Infinity) > (a.average?.accuracy ?? -Infinity) ? b : a));
  const bestLabel = rows.some((r) => r.best) ? 'best' : 'best average';
  return {
    title: `Accuracy by ${xKey}`,
    marker: { x: xOf(best), y: best.average?.accuracy ?? undefined, label: bestLabel },
    xLabel: xKey,
    yLabel: 'accuracy',
    series,
    xCategories: isNumeric ? undefined : categories,
  };
}

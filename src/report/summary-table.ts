import { bestLine, formatMetric, type SummaryRow, type SweepSummary } from './sweep-summary.js';

/** The table's columns: job, swept keys, status, best, per-task accuracy and loss, average, error. */
function header(s: SweepSummary): string[] {
  const cols = ['job', ...s.swept_keys, 'status', 'best'];
  for (const t of s.tasks) cols.push(`${t}/accuracy`, `${t}/loss`);
  cols.push('average/accuracy', 'average/loss', 'error');
  return cols;
}

function cells(s: SweepSummary, r: SummaryRow, metric: (x: number | null) => string): string[] {
  const out = [String(r.job), ...s.swept_keys.map((k) => r.swept[k] ?? ''), r.status, r.best ? 'true' : ''];
  for (const t of s.tasks) out.push(metric(r.tasks[t]?.accuracy ?? null), metric(r.tasks[t]?.loss ?? null));
  out.push(metric(r.average?.accuracy ?? null), metric(r.average?.loss ?? null), r.error ?? '');
  return out;
}

function csvCell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** RFC 4180 CSV with full-precision numbers (for spreadsheets and pandas). */
export function summaryCsv(s: SweepSummary): string {
  const lines = [header(s).map(csvCell).join(',')];
  const full = (x: number | null) => (x === null ? '' : String(x));
  for (const r of s.rows) lines.push(cells(s, r, full).map(csvCell).join(','));
  return lines.join('\r\n') + '\r\n';
}

function mdCell(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('|', '\\|').replace(/\r?\n/g, ' ');
}

/** A GitHub Markdown table, metrics rounded to 4 decimals, then the Best line and the selected job's evaluation. */
export function summaryMarkdown(s: SweepSummary): string {
  const cols = header(s);
  const lines = [`| ${cols.map(mdCell).join(' | ')} |`, `| ${cols.map((c) => (c === 'job' || c.includes('/') ? '---:' : '---')).join(' | ')} |`];
  for (const r of s.rows) {
    const c = cells(s, r, formatMetric);
    c[c.length - 1] = (r.error ?? '').split('\n')[0];
    lines.push(`| ${c.map(mdCell).join(' | ')} |`);
  }
  const best = bestLine(s);
  if (best !== null) lines.push('', best);
  const ev = s.best_evaluation;
  if (ev !== null) {
    lines.push('', `Evaluation of the selected job (${ev.overrides.join(' ')}): ${ev.status}` + (ev.status === 'failed' ? ` — ${(ev.error ?? '').split('\n')[0]}` : ''));
    if (ev.status !== 'failed') {
      const tasks = Object.keys(ev.tasks);
      lines.push('', `| task | accuracy | loss |`, `| --- | ---: | ---: |`);
      for (const t of tasks) lines.push(`| ${mdCell(t)} | ${formatMetric(ev.tasks[t].accuracy)} | ${formatMetric(ev.tasks[t].loss)} |`);
      lines.push(`| average | ${formatMetric(ev.average?.accuracy)} | ${formatMetric(ev.average?.loss)} |`);
    }
  }
  return lines.join('\n') + '\n';
}

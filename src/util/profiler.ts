/**
 * Lightning's SimpleProfiler, which fusion_bench prints at the end of a run: time per named action, with
 * mean, calls, total and share of the whole run.
 */
export interface ProfileRow {
  action: string;
  mean_s: number;
  calls: number;
  total_s: number;
  percent: number;
}

export class Profiler {
  private readonly totals = new Map<string, { total: number; calls: number }>();
  private readonly started = performance.now();

  /** Times `fn` under `action`; nested actions are counted in their own rows and in their parent's. */
  async time<T>(action: string, fn: () => Promise<T> | T): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.record(action, (performance.now() - t0) / 1000);
    }
  }

  record(action: string, seconds: number): void {
    const e = this.totals.get(action) ?? { total: 0, calls: 0 };
    e.total += seconds;
    e.calls += 1;
    this.totals.set(action, e);
  }

  rows(): ProfileRow[] {
    const whole = (performance.now() - this.started) / 1000;
    const rows: ProfileRow[] = [{ action: 'Total', mean_s: whole, calls: 1, total_s: whole, percent: 100 }];
    const sorted = [...this.totals.entries()].sort((a, b) => b[1].total - a[1].total);
    for (const [action, { total, calls }] of sorted) {
      rows.push({ action, mean_s: total / calls, calls, total_s: total, percent: whole > 0 ? (100 * total) / whole : 0 });
    }
    return rows;
  }

  /** The table as SimpleProfiler prints it. */
  format(): string {
    const rows = this.rows();
    const head = ['Action', 'Mean duration (s)', 'Num calls', 'Total time (s)', 'Percentage %'];
    const body = rows.map((r) => [r.action, r.mean_s.toFixed(5), String(r.calls), r.total_s.toFixed(5), r.percent.toFixed(3)]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
    const line = (cells: string[]) => '|  ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  |  ') + '  |';
    const rule = '-'.repeat(line(head).length);
    return ['FIT Profiler Report', '', rule, line(head), rule, ...body.map(line), rule].join('\n') + '\n';
  }
}

/** Lightning's CSVLogger: `metrics.csv` with one column per metric and `step` last, one row per logging call. */
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';

function cell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

export function metricsCsv(rows: readonly { step: number; scalars: Record<string, number> }[]): string {
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r.scalars)) if (!keys.includes(k)) keys.push(k);
  const lines = [[...keys, 'step'].map(cell).join(',')];
  for (const r of rows) lines.push([...keys.map((k) => (k in r.scalars ? String(r.scalars[k]) : '')), String(r.step)].join(','));
  return lines.join('\n') + '\n';
}

export function writeMetricsCsv(dir: string, rows: readonly { step: number; scalars: Record<string, number> }[]): string {
  const path = join(dir, 'metrics.csv');
  writeFileAtomic(path, metricsCsv(rows));
  return path;
}

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { layoutLinePlot } from './line-plot.js';
import { plotPng } from './png-plot.js';
import { summaryCsv, summaryMarkdown } from './summary-table.js';
import { sweepPlotSpec } from './sweep-plot.js';
import type { SweepSummary } from './sweep-summary.js';
import { plotSvg } from './svg-plot.js';

/** The files a summary is written to, in `dir`: sweep_summary.{json,csv,md}, and .svg/.png when there is something to plot. */
export function writeSweepReports(s: SweepSummary, dir: string): string[] {
  const written: string[] = [];
  const put = (name: string, data: string | Uint8Array) => {
    const p = join(dir, name);
    writeFileAtomic(p, data);
    written.push(p);
  };
  put('sweep_summary.json', JSON.stringify(s, null, 2) + '\n');
  put('sweep_summary.csv', summaryCsv(s));
  put('sweep_summary.md', summaryMarkdown(s));
  const spec = sweepPlotSpec(s);
  if (spec !== null) {
    const layout = layoutLinePlot(spec);
    put('sweep_summary.svg', plotSvg(layout));
    put('sweep_summary.png', plotPng(layout));
  } else {
    // nothing to plot this time: a plot from an earlier run of this sweep would contradict the tables
    for (const f of ['sweep_summary.svg', 'sweep_summary.png']) rmSync(join(dir, f), { force: true });
  }
  return written;
}

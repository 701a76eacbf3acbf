/** Sweep summaries: metrics from task pool reports, best-job selection, CSV, Markdown, SVG and PNG plots. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { bestLine, metricsOfReport, summarizeSweep, type JobResult } from '../../src/report/sweep-summary.js';
import { summaryCsv, summaryMarkdown } from '../../src/report/summary-table.js';
import { sweepPlotSpec } from '../../src/report/sweep-plot.js';
import { layoutLinePlot, niceTicks } from '../../src/report/line-plot.js';
import { plotSvg } from '../../src/report/svg-plot.js';
import { plotPng } from '../../src/report/png-plot.js';
import { writeSweepReports } from '../../src/report/write-reports.js';

/** A fusion_bench-shaped report for tasks with these accuracies (loss = 1 − accuracy). */
function report(accs: Record<string, number>, withAverage = true): Record<string, unknown> {
  const r: Record<string, unknown> = { model_info: { trainable_params: 10, all_params: 10, trainable_percentage: 1 } };
  for (const [t, a] of Object.entries(accs)) r[t] = { accuracy: a, loss: 1 - a };
  if (withAverage) {
    const xs = Object.values(accs);
    r.average = { accuracy: xs.reduce((p, q) => p + q, 0) / xs.length, loss: xs.reduce((p, q) => p + 1 - q, 0) / xs.length };
  }
  return r;
}

const LAMBDAS = ['0.1', '0.3', '0.5', '0.7'];
const ACCS = [
  { svhn: 0.5, mnist: 0.6 },
  { svhn: 0.7, mnist: 0.72 },
  { svhn: 0.8, mnist: 0.4 },
  { svhn: 0.2, mnist: 0.3 },
];

function jobs(): JobResult[] {
  return LAMBDAS.map((l, i) => ({
    num: i,
    swept: { 'method.scaling_factor': l },
    overrides: [`method.scaling_factor=${l}`],
    status: i === 3 ? 'failed' : i === 1 ? 'reused' : 'completed',
    error: i === 3 ? 'UserError: bad, "quoted", | piped\nsecond line' : null,
    outputDir: `/sweep/${i}`,
    reportPath: `/sweep/${i}/program_report.json`,
    report: i === 3 ? null : report(ACCS[i]),
  }));
}

test('metrics come from the report in task order; the average is the report\'s or the mean', () => {
  const m = metricsOfReport(report({ b: 0.5, a: 1 }));
  assert.deepEqual(Object.keys(m.tasks), ['b', 'a']);
  assert.deepEqual(m.tasks.a, { accuracy: 1, loss: 0 });
  assert.deepEqual(m.average, { accuracy: 0.75, loss: 0.25 });
  const noAvg = metricsOfReport(report({ x: 0.2, y: 0.4 }, false));
  assert.ok(Math.abs(noAvg.average!.accuracy! - 0.3) < 1e-12);
  assert.deepEqual(metricsOfReport({ model_info: { all_params: 3 } }), { tasks: {}, average: null });
  assert.deepEqual(metricsOfReport(null), { tasks: {}, average: null });
});

test('the best job by average accuracy is marked only when selection is on; failed jobs never win', () => {
  const s = summarizeSweep('/sweep', ['method.scaling_factor'], jobs(), 'validation task pool');
  const averages = ACCS.map((a) => (a.svhn + a.mnist) / 2);
  const best = averages.slice(0, 3).indexOf(Math.max(...averages.slice(0, 3)));
  assert.equal(s.selection.best_job, best);
  assert.deepEqual(s.rows.map((r) => r.best), [0, 1, 2, 3].map((i) => i === best));
  assert.deepEqual(s.selection.best_overrides, [`method.scaling_factor=${LAMBDAS[best]}`]);
  assert.equal(bestLine(s), `Best: method.scaling_factor=${LAMBDAS[best]} (average accuracy ${Number(averages[best].toFixed(4))})`);
  assert.deepEqual(s.tasks, ['svhn', 'mnist']);
  const off = summarizeSweep('/sweep', ['method.scaling_factor'], jobs(), null);
  assert.equal(off.selection.best_job, null);
  assert.ok(off.rows.every((r) => !r.best));
  // unselected, the highest accuracy is still named, with why it is not selected and how to select it
  assert.equal(bestLine(off), `Highest average accuracy: method.scaling_factor=${LAMBDAS[best]} (${Number(averages[best].toFixed(4))}), not selected: these task pools are not validation splits, and choosing λ on test data overstates it. Sweep on a validation task pool, or add +sweep.select=best to select anyway.`);
  assert.equal(bestLine(summarizeSweep('/sweep', ['method.scaling_factor'], jobs().map((j) => ({ ...j, report: { model_info: {} } })), null)), null, 'no accuracy, no line');
});

test('CSV: one row per job, full-precision metrics, RFC 4180 quoting', () => {
  const s = summarizeSweep('/sweep', ['method.scaling_factor'], jobs(), 'sweep.select=best');
  const lines = summaryCsv(s).split('\r\n');
  assert.equal(lines[0], 'job,method.scaling_factor,status,best,svhn/accuracy,svhn/loss,mnist/accuracy,mnist/loss,average/accuracy,average/loss,error');
  const row1 = lines[2].split(',');
  assert.equal(row1[0], '1');
  assert.equal(row1[2], 'reused');
  assert.equal(Number(row1[4]), ACCS[1].svhn);
  assert.equal(Number(row1[8]), (ACCS[1].svhn + ACCS[1].mnist) / 2);
  assert.equal(lines[4], '3,0.7,failed,,,,,,,,"UserError: bad, ""quoted"", | piped\nsecond line"');
  assert.equal(lines.length, 6); // header, 4 rows, final empty string after the last CRLF
});

test('Markdown: a table with rounded metrics, escaped cells and the Best line', () => {
  const s = summarizeSweep('/sweep', ['method.scaling_factor'], jobs(), 'validation task pool');
  const md = summaryMarkdown(s);
  const lines = md.split('\n');
  assert.match(lines[0], /^\| job \| method\.scaling_factor \| status \| best \| svhn\/accuracy \|/);
  assert.match(lines[1], /^\| ---: \| --- \|/);
  assert.equal(lines.filter((l) => l.startsWith('| ')).length, 2 + 4);
  assert.ok(lines[2 + 1].includes('| 0.71 |'), lines[3]); // (0.7 + 0.72) / 2
  assert.ok(lines[2 + 3].includes('UserError: bad, "quoted", \\| piped |'));
  assert.ok(md.includes(bestLine(s)!));
});

/** Parses an SVG as XML-ish text: checks tags nest and close, returns the elements with attributes. */
function parseSvg(text: string): { name: string; attrs: Record<string, string>; text: string }[] {
  const out: { name: string; attrs: Record<string, string>; text: string }[] = [];
  const stack: string[] = [];
  const re = /<(\/?)([a-zA-Z?][\w:-]*)([^>]*?)(\/?)>([^<]*)/g;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(text)) !== null) {
    assert.equal(text.slice(last, m.index).trim(), '', `stray text before ${m[0]}`);
    last = re.lastIndex;
    const [, close, name, rest, selfClose, after] = m;
    if (name.startsWith('?')) continue;
    if (close) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else {
      const attrs: Record<string, string> = {};
      for (const a of rest.matchAll(/([\w:-]+)="([^"]*)"/g)) attrs[a[1]] = a[2];
      assert.doesNotMatch(rest.replace(/([\w:-]+)="([^"]*)"/g, ''), /\S/, `malformed attributes in <${name}${rest}>`);
      out.push({ name, attrs, text: after.trim() });
      if (!selfClose) stack.push(name);
    }
    assert.doesNotMatch(after, /&(?!amp;|lt;|gt;|quot;)/, 'unescaped &');
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  return out;
}

/** The linear map from data to pixels through two ticks. */
function axisMap(ticks: { value: number; px: number }[]): (v: number) => number {
  const a = ticks[0];
  const b = ticks[ticks.length - 1];
  return (v) => a.px + ((v - a.value) / (b.value - a.value)) * (b.px - a.px);
}

test('SVG: well formed, one polyline per task plus the average, points on the axes\' scale', () => {
  const s = summarizeSweep('/sweep', ['method.scaling_factor'], jobs(), null);
  const spec = sweepPlotSpec(s)!;
  const svg = plotSvg(layoutLinePlot(spec));
  const els = parseSvg(svg);
  assert.equal(els[0].name, 'svg');
  const lines = els.filter((e) => e.name === 'polyline');
  assert.deepEqual(lines.map((l) => l.attrs['data-label']), ['svhn', 'mnist', 'average']);
  // tick labels and positions, read from the document itself
  const texts = els.filter((e) => e.name === 'text');
  const xTicks = texts.filter((t) => t.attrs['text-anchor'] === 'middle' && !t.attrs.class && /^-?[\d.]+$/.test(t.text)).map((t) => ({ value: Number(t.text), px: Number(t.attrs.x) }));
  const yTicks = texts.filter((t) => t.attrs['text-anchor'] === 'end').map((t) => ({ value: Number(t.text), px: Number(t.attrs.y) - 4 }));
  assert.ok(xTicks.length >= 2 && yTicks.length >= 2);
  const fx = axisMap(xTicks);
  const fy = axisMap(yTicks);
  const done = [0, 1, 2]; // job 3 failed: not plotted
  const series: Record<string, number[]> = {
    svhn: done.map((i) => ACCS[i].svhn),
    mnist: done.map((i) => ACCS[i].mnist),
    average: done.map((i) => (ACCS[i].svhn + ACCS[i].mnist) / 2),
  };
  for (const l of lines) {
    const pts = l.attrs.points.split(' ').map((p) => p.split(',').map(Number));
    const want = series[l.attrs['data-label']];
    assert.equal(pts.length, want.length);
    pts.forEach(([x, y], k) => {
      assert.ok(Math.abs(x - fx(Number(LAMBDAS[k]))) < 0.02, `x of point ${k}`);
      assert.ok(Math.abs(y - fy(want[k])) < 0.02, `y of point ${k}`);
    });
  }
  assert.ok(texts.some((t) => t.text === 'method.scaling_factor'));
  assert.ok(texts.some((t) => t.text === 'average'));
});

test('PNG: decodes with fast-png; lines are drawn in their colors at the data points', () => {
  const s = summarizeSweep('/sweep', ['method.scaling_factor'], jobs(), null);
  const layout = layoutLinePlot(sweepPlotSpec(s)!);
  const png = decode(plotPng(layout));
  assert.equal(png.width, layout.width);
  assert.equal(png.height, layout.height);
  assert.equal(png.channels, 4);
  const px = (x: number, y: number) => {
    const i = (Math.floor(y) * png.width + Math.floor(x)) * 4;
    return [png.data[i], png.data[i + 1], png.data[i + 2]];
  };
  const avg = layout.series.find((x) => x.label === 'average')!;
  const first = layout.series[0];
  for (const [x, y] of avg.pixels) assert.ok(px(x, y).every((c) => c < 60), `average point at ${x},${y} is dark`);
  const [fx, fy] = first.pixels[0];
  const c = px(fx, fy);
  assert.ok(Math.abs(c[0] - first.rgb[0]) < 40 && Math.abs(c[1] - first.rgb[1]) < 40 && Math.abs(c[2] - first.rgb[2]) < 40, `first series colour at its first point: ${c}`);
  assert.deepEqual(px(2, 2), [255, 255, 255]);
});

test('ticks are round numbers covering the data; categorical x for non-numeric sweeps', () => {
  assert.deepEqual(niceTicks(0.1, 0.7), [0, 0.2, 0.4, 0.6, 0.8]);
  const t = niceTicks(0.42, 0.43);
  assert.ok(t[0] <= 0.42 && t[t.length - 1] >= 0.43);
  assert.ok(niceTicks(3, 3).length >= 2);
  const s = summarizeSweep('/sweep', ['method'], jobs().slice(0, 3).map((j, i) => ({ ...j, swept: { method: ['ta', 'ties', 'avg'][i] } })), null);
  const spec = sweepPlotSpec(s)!;
  assert.deepEqual(spec.xCategories, ['ta', 'ties', 'avg']);
  assert.deepEqual(layoutLinePlot(spec).xTicks.map((x) => x.label), ['ta', 'ties', 'avg']);
});

test('writeSweepReports writes the JSON, CSV, Markdown, SVG and PNG files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-report-'));
  try {
    const s = summarizeSweep(dir, ['method.scaling_factor'], jobs(), 'sweep.select=best');
    const files = writeSweepReports(s, dir).map((p) => p.slice(dir.length + 1));
    assert.deepEqual(files, ['sweep_summary.json', 'sweep_summary.csv', 'sweep_summary.md', 'sweep_summary.svg', 'sweep_summary.png']);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'sweep_summary.json'), 'utf8')).selection, s.selection);
    // the selected job is marked on the plot, at its λ
    const svg = readFileSync(join(dir, 'sweep_summary.svg'), 'utf8');
    const layout = layoutLinePlot(sweepPlotSpec(s)!);
    const marker = /<line class="marker" x1="([\d.]+)"/.exec(svg);
    assert.ok(marker !== null);
    assert.equal(Number(marker[1]), Math.round(layout.xToPx(Number(LAMBDAS[s.selection.best_job!])) * 100) / 100);
    const none = summarizeSweep(dir, [], [], null);
    assert.equal(sweepPlotSpec(none), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Jobs of a two-key sweep: λ × a long-named second key, so the legend labels are long. */
function twoKeyJobs(): JobResult[] {
  const out: JobResult[] = [];
  for (const [k, t] of ['10', '20', '30'].entries()) {
    for (const [i, l] of LAMBDAS.slice(0, 3).entries()) {
      const num = k * 3 + i;
      const swept = { 'method.scaling_factor': l, 'method.ties_merging_threshold_percentage': t };
      out.push({ num, swept, overrides: Object.entries(swept).map(([a, b]) => `${a}=${b}`), status: 'completed', error: null, outputDir: `/s/${num}`, reportPath: null, report: report({ svhn: ACCS[i].svhn - k * 0.1, mnist: ACCS[i].mnist }) } as JobResult);
    }
  }
  return out;
}

test('with two swept keys every legend label fits inside the SVG and the PNG', () => {
  const s = summarizeSweep('/sweep', ['method.scaling_factor', 'method.ties_merging_threshold_percentage'], twoKeyJobs(), null);
  const layout = layoutLinePlot(sweepPlotSpec(s)!);
  assert.equal(layout.series.length, 3);
  const svg = parseSvg(plotSvg(layout));
  const width = Number(svg[0].attrs.width);
  assert.equal(width, layout.width);
  for (const t of svg.filter((e) => e.name === 'text' && e.text.startsWith('average ('))) {
    // 7 px a character bounds 12 px sans-serif; the PNG font takes 6
    assert.ok(Number(t.attrs.x) + t.text.length * 7 <= width, `"${t.text}" ends past the right edge ${width}`);
  }
  const png = decode(plotPng(layout));
  assert.equal(png.width, layout.width);
  const longest = layout.series.reduce((a, b) => (b.label.length > a.label.length ? b : a));
  assert.ok(layout.legend.x + 28 + longest.label.length * 6 <= png.width);
});

test('every plot marks its best point: the selected job, else the best average, on its own line', () => {
  for (const [keys, js, selection] of [
    [['method.scaling_factor'], jobs(), null],
    [['method.scaling_factor'], jobs(), 'sweep.select=best'],
    [['method.scaling_factor', 'method.ties_merging_threshold_percentage'], twoKeyJobs(), null],
  ] as const) {
    const s = summarizeSweep('/sweep', [...keys], js, selection);
    const layout = layoutLinePlot(sweepPlotSpec(s)!);
    const done = s.rows.filter((r) => r.status !== 'failed');
    const best = done.reduce((a, b) => (b.average!.accuracy! > a.average!.accuracy! ? b : a));
    const ring = parseSvg(plotSvg(layout)).find((e) => e.name === 'circle' && e.attrs.class === 'best-point');
    assert.ok(ring, `no best point marked (${keys.join(', ')}, selection ${selection})`);
    // the ring sits on a drawn point of an average line, at the best job's λ and average accuracy
    const px = layout.xToPx(Number(best.swept['method.scaling_factor']));
    const py = layout.yToPx(best.average!.accuracy!);
    assert.ok(Math.abs(Number(ring.attrs.cx) - px) < 0.02 && Math.abs(Number(ring.attrs.cy) - py) < 0.02, `ring at ${ring.attrs.cx},${ring.attrs.cy}, best at ${px},${py}`);
    assert.ok(layout.series.some((l) => l.label.startsWith('average') && l.pixels.some(([x, y]) => Math.abs(x - px) < 0.02 && Math.abs(y - py) < 0.02)));
    const png = decode(plotPng(layout));
    const i = (Math.round(py) * png.width + Math.round(px + 7)) * 4; // on the ring, right of the point
    assert.ok(png.data[i] > 150 && png.data[i + 1] < 120, `PNG ring pixel ${[png.data[i], png.data[i + 1], png.data[i + 2]]}`);
  }
});

/** `fusion-bench -m`: real task arithmetic over toy safetensors models, the dummy task pool, real run directories. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { openCheckpoint } from '../../src/tensor/checkpoint.js';
import { fusionBench, makeWorld, removeWorld, type World } from './fixture.js';

const BASE = ['method=task_arithmetic', 'modelpool=toy', 'taskpool=dummy', 'print_config=false'];

function withWorld(fn: (w: World) => Promise<void>, extra: Record<string, string> = {}): () => Promise<void> {
  return async () => {
    const w = makeWorld(extra);
    try {
      await fn(w);
    } finally {
      removeWorld(w);
    }
  };
}

function yamlAt(p: string): any {
  return parse(readFileSync(p, 'utf8'));
}

/** w.weight of the merged model saved in a job's run directory. */
function mergedWeight(dir: string): number {
  const ck = openCheckpoint(join(dir, 'merged'));
  try {
    return ck.loadF32('w.weight')[0];
  } finally {
    ck.close();
  }
}

test('jobs run in itertools.product order, each in its own run directory with its own λ', withWorld(async (w) => {
  const r = await fusionBench(w, ['-m', ...BASE, 'method.scaling_factor=0.25,0.5', 'seed=7,8', "merged_model_save_path='{log_dir}/merged'", `hydra.sweep.dir=${w.sweepDir}`]);
  assert.equal(r.code, 0, r.stderr);
  // every job's models are closed when it ends: no file of this world stays open (a long sweep would run out)
  if (existsSync('/proc/self/fd')) {
    const open = readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } });
    assert.deepEqual(open.filter((p) => p.startsWith(w.root) && p.endsWith('.safetensors')), []);
  }
  assert.match(r.stderr, /\[HYDRA\] Launching 4 jobs locally\n/);
  const launched = [...r.stderr.matchAll(/\[HYDRA\] \t#(\d+) : (.*)\n/g)].map((m) => [Number(m[1]), m[2]]);
  const expected = [['0.25', '7'], ['0.25', '8'], ['0.5', '7'], ['0.5', '8']];
  assert.deepEqual(launched.map((l) => l[0]), [0, 1, 2, 3]);
  expected.forEach(([lam, seed], i) => {
    assert.equal(launched[i][1], `${BASE.join(' ').replace('print_config=false', 'print_config=False')} method.scaling_factor=${lam} seed=${seed} merged_model_save_path='{log_dir}/merged'`);
    const dir = join(w.sweepDir, String(i));
    const overrides = yamlAt(join(dir, 'overrides.yaml')) as string[];
    assert.ok(overrides.includes(`method.scaling_factor=${lam}`) && overrides.includes(`seed=${seed}`));
    const hydra = yamlAt(join(dir, 'hydra.yaml')).hydra;
    assert.equal(hydra.job.num, i);
    assert.equal(hydra.job.id, String(i));
    assert.equal(hydra.mode, 'MULTIRUN');
    assert.equal(hydra.runtime.output_dir, dir);
    assert.ok(hydra.job.override_dirname.includes(`method.scaling_factor=${lam}`));
    assert.equal(yamlAt(join(dir, 'config.yaml')).method.scaling_factor, Number(lam));
    // task arithmetic: base 1 + λ · ((2 − 1) + (4 − 1))
    assert.equal(mergedWeight(dir), 1 + Number(lam) * 4);
    assert.ok(existsSync(join(dir, 'program_report.json')));
  });
  const multirun = yamlAt(join(w.sweepDir, 'multirun.yaml'));
  assert.equal(multirun.hydra.mode, 'MULTIRUN');
  assert.ok(multirun.hydra.overrides.task.includes('method.scaling_factor=0.25,0.5'));
  assert.ok(multirun.hydra.overrides.hydra.includes('hydra.mode=MULTIRUN'));
  const summary = JSON.parse(readFileSync(join(w.sweepDir, 'sweep_summary.json'), 'utf8'));
  assert.deepEqual(summary.swept_keys, ['method.scaling_factor', 'seed']);
  assert.deepEqual(summary.rows.map((row: any) => [row.swept['method.scaling_factor'], row.swept.seed, row.status]), expected.map(([l, s]) => [l, s, 'completed']));
  assert.match(r.stdout, /\| job \| method\.scaling_factor \| seed \| status \|/);
  // the sweep ends by saying where its summary went
  for (const ext of ['json', 'csv', 'md']) assert.ok(r.stderr.includes(`Summary: ${join(w.sweepDir, `sweep_summary.${ext}`)}\n`), r.stderr.slice(-600));
  assert.ok(r.stderr.includes(`Sweep directory: ${w.sweepDir}\n`));
}));

test('a failing job is recorded and the sweep goes on; the exit status says so', withWorld(async (w) => {
  const r = await fusionBench(w, ['-m', ...BASE, 'method.scaling_factor=0.5,oops,1.0', `hydra.sweep.dir=${w.sweepDir}`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Error executing job with overrides: \[.*'method\.scaling_factor=oops'\]/);
  const summary = JSON.parse(readFileSync(join(w.sweepDir, 'sweep_summary.json'), 'utf8'));
  assert.deepEqual(summary.rows.map((row: any) => row.status), ['completed', 'failed', 'completed']);
  assert.match(summary.rows[1].error, /scaling_factor/);
  assert.ok(existsSync(join(w.sweepDir, '2', 'program_report.json')));
  const csv = readFileSync(join(w.sweepDir, 'sweep_summary.csv'), 'utf8').split('\r\n');
  assert.match(csv[2], /^1,oops,failed,,/);
}));

test('re-running a sweep in the same directory reuses finished jobs and reruns the others', withWorld(async (w) => {
  const argv = ['-m', ...BASE, 'method.scaling_factor=0.5,oops,1.0', `hydra.sweep.dir=${w.sweepDir}`];
  await fusionBench(w, argv);
  const report0 = join(w.sweepDir, '0', 'program_report.json');
  const before = statSync(report0).mtimeMs;
  const log0 = readFileSync(join(w.sweepDir, '0', 'cli.log'), 'utf8');
  const again = await fusionBench(w, argv);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /job #0: reusing the report/);
  assert.match(again.stderr, /job #2: reusing the report/);
  assert.doesNotMatch(again.stderr, /job #1: reusing/);
  assert.equal(statSync(report0).mtimeMs, before);
  assert.equal(readFileSync(join(w.sweepDir, '0', 'cli.log'), 'utf8'), log0);
  const summary = JSON.parse(readFileSync(join(w.sweepDir, 'sweep_summary.json'), 'utf8'));
  assert.deepEqual(summary.rows.map((row: any) => row.status), ['reused', 'failed', 'reused']);
  // a different λ at the same job number is not the same job: it runs
  const changed = await fusionBench(w, ['-m', ...BASE, 'method.scaling_factor=0.5,0.75', `hydra.sweep.dir=${w.sweepDir}`]);
  assert.equal(changed.code, 0);
  assert.match(changed.stderr, /job #0: reusing/);
  assert.doesNotMatch(changed.stderr, /job #1: reusing/);
  assert.ok(yamlAt(join(w.sweepDir, '1', 'overrides.yaml')).includes('method.scaling_factor=0.75'));
  // the same overrides over an edited config file: not the same job either
  const poolFile = join(w.configDir, 'modelpool', 'toy.yaml');
  writeFileSync(poolFile, readFileSync(poolFile, 'utf8') + 'extra_note: edited\n');
  const edited = await fusionBench(w, ['-m', ...BASE, 'method.scaling_factor=0.5,0.75', `hydra.sweep.dir=${w.sweepDir}`]);
  assert.equal(edited.code, 0, edited.stderr);
  assert.doesNotMatch(edited.stderr, /reusing/);
}));

const VAL_POOL = { 'taskpool/toy_val.yaml': '_target_: fusion_bench.taskpool.DummyTaskPool\nmodel_save_path: null\n' };

/** Replaces each job's report with one holding accuracies, as a validation task pool would write. */
function writeAccuracyReports(w: World, accuracies: number[][]): void {
  accuracies.forEach((accs, i) => {
    const report: Record<string, unknown> = { model_info: { trainable_params: 6 } };
    accs.forEach((a, t) => (report[`task${t}`] = { accuracy: a, loss: 1 - a }));
    report.average = { accuracy: accs.reduce((x, y) => x + y, 0) / accs.length, loss: 1 - accs.reduce((x, y) => x + y, 0) / accs.length };
    writeFileSync(join(w.sweepDir, String(i), 'program_report.json'), JSON.stringify(report));
  });
}

test('on a validation task pool the best λ is marked, and evaluate_best_with reruns it on the test pool', withWorld(async (w) => {
  const argv = ['-m', 'method=task_arithmetic', 'modelpool=toy', 'taskpool=toy_val', 'print_config=false', 'method.scaling_factor=0.2,0.4,0.6', "merged_model_save_path='{log_dir}/merged'", '+sweep.evaluate_best_with={taskpool:dummy}', `hydra.sweep.dir=${w.sweepDir}`];
  const first = await fusionBench(w, argv);
  // the dummy pool reports no accuracy: nothing to select yet, and the exit status says the asked-for evaluation did not happen
  assert.equal(first.code, 1, first.stderr);
  assert.match(first.stderr, /no job has an average accuracy/);
  const accs = [[0.5, 0.7], [0.75, 0.75], [0.6, 0.8]];
  writeAccuracyReports(w, accs);
  const r = await fusionBench(w, argv);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(readFileSync(join(w.sweepDir, 'sweep_summary.json'), 'utf8'));
  assert.deepEqual(summary.rows.map((row: any) => row.status), ['reused', 'reused', 'reused']);
  assert.equal(summary.selection.reason, 'validation task pool');
  const averages = accs.map((a) => (a[0] + a[1]) / 2);
  const bestIndex = averages.indexOf(Math.max(...averages));
  assert.equal(summary.selection.best_job, bestIndex);
  assert.deepEqual(summary.rows.map((row: any) => row.best), averages.map((_, i) => i === bestIndex));
  assert.deepEqual(summary.tasks, ['task0', 'task1']);
  assert.match(r.stdout, new RegExp(`Best: method\\.scaling_factor=0\\.${2 * (bestIndex + 1)} \\(average accuracy 0\\.75\\)`));
  // the selected λ, evaluated again with the test task pool
  const best = join(w.sweepDir, 'best');
  const overrides = yamlAt(join(best, 'overrides.yaml')) as string[];
  assert.ok(overrides.includes('taskpool=dummy'));
  assert.ok(!overrides.includes('taskpool=toy_val'));
  assert.ok(Math.abs(mergedWeight(best) - (1 + 0.2 * (bestIndex + 1) * 4)) < 1e-6);
  assert.equal(summary.best_evaluation.status, 'completed');
  assert.match(r.stdout, /Evaluation of the selected job/);
  assert.ok(existsSync(join(w.sweepDir, 'sweep_summary.svg')));
  assert.ok(existsSync(join(w.sweepDir, 'sweep_summary.png')));
}, VAL_POOL));

test('max_batch_size launches in batches with continuing job numbers', withWorld(async (w) => {
  const r = await fusionBench(w, ['-m', ...BASE, 'method.scaling_factor=0.1,0.2,0.3', 'hydra.sweeper.max_batch_size=2', `hydra.sweep.dir=${w.sweepDir}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([...r.stderr.matchAll(/Launching (\d+) jobs/g)].map((m) => m[1]), ['2', '1']);
  assert.match(r.stderr, /#2 : .*method\.scaling_factor=0\.3/);
  assert.ok(existsSync(join(w.sweepDir, '2', 'overrides.yaml')));
}));

test('a composition error stops the sweep before any job runs; sweeps need -m', withWorld(async (w) => {
  const r = await fusionBench(w, ['-m', ...BASE, 'method.scaling_factr=0.1,0.2', `hydra.sweep.dir=${w.sweepDir}`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /scaling_factr/);
  assert.ok(!existsSync(join(w.sweepDir, '0')));
  const noM = await fusionBench(w, [...BASE, 'method.scaling_factor=0.1,0.2']);
  assert.equal(noM.code, 1);
  assert.match(noM.stderr, /Ambiguous value for argument 'method\.scaling_factor=0\.1,0\.2'/);
  const interval = await fusionBench(w, ['-m', ...BASE, 'method.scaling_factor=interval(0,1)', `hydra.sweep.dir=${w.sweepDir}`]);
  assert.equal(interval.code, 1);
  assert.match(interval.stderr, /BasicSweeper does not support sweep type : INTERVAL_SWEEP/);
}));

test('the default sweep dir (with ${now:…}) is one directory for all jobs of the sweep', withWorld(async (w) => {
  const r = await fusionBench(w, ['-m', ...BASE, 'method.scaling_factor=0.1,0.2,0.3']);
  assert.equal(r.code, 0, r.stderr);
  const parent = join(w.root, 'outputs', 'multirun', 'fabric_model_fusion');
  const stamps = readdirSync(parent);
  assert.equal(stamps.length, 1);
  assert.match(stamps[0], /^\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d$/);
  assert.deepEqual(readdirSync(join(parent, stamps[0])).filter((n) => /^\d+$/.test(n)).sort(), ['0', '1', '2']);
  assert.ok(existsSync(join(parent, stamps[0], 'multirun.yaml')));
}));

test('a bad evaluate_best_with stops the sweep before its first job', withWorld(async (w) => {
  const r = await fusionBench(w, ['-m', ...BASE, 'method.scaling_factor=0.1,0.2', '+sweep.evaluate_best_with={taskpool:no_such_pool}', `hydra.sweep.dir=${w.sweepDir}`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no_such_pool/);
  assert.ok(!existsSync(join(w.sweepDir, '0')));
}));

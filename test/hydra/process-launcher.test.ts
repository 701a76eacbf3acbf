/**
 * hydra/launcher=joblib (persistent worker processes, each with its own sweep cache) and submitit_local
 * (a process per job): the sweep's jobs run in processes of our CLI, side by side, and the sweep's
 * summary equals the sequential one's row for row; a job's failure, or its worker's death, fails that job only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joblibWorkers } from '../../src/hydra/process-launcher.js';
import { repoRoot } from '../helpers/paths.js';
import { comparable, demoSweep, demoSweepAsync, summaryRows } from '../helpers/sweeps.js';

function bestEvaluation(sweepDir: string) {
  const b = (JSON.parse(readFileSync(join(sweepDir, 'sweep_summary.json'), 'utf8')) as { best_evaluation: { status: string; swept: unknown; tasks: unknown; average: unknown; output_dir: string } }).best_evaluation;
  return { status: b.status, swept: b.swept, tasks: b.tasks, average: b.average, output_dir: b.output_dir };
}

test('joblib with 2 workers and submitit_local equal the sequential sweep; the jobs ran in worker processes with the sweep\'s clock, and a worker\'s later job started with its cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-pool-'));
  try {
    const lambdas = 'method.scaling_factor=0.1,0.5';
    // the selected job is evaluated once more after the sweep, where the launcher runs its jobs
    const best = ['+sweep.select=best', '+sweep.evaluate_best_with={fast_dev_run: true}'];
    const seq = demoSweep(dir, [lambdas, 'hydra.sweep.dir=seq', ...best]);
    assert.equal(seq.code, 0, seq.stderr);
    const jl = demoSweep(dir, [lambdas, 'hydra/launcher=joblib', 'hydra.launcher.n_jobs=2', 'hydra.sweep.dir=jl', '+stamp=${now:%H-%M-%S-%f}', ...best]);
    assert.equal(jl.code, 0, jl.stderr);
    assert.match(jl.stderr, /Launching 2 jobs in 2 local worker processes \(joblib, n_jobs=2/);
    const local = demoSweep(dir, [lambdas, 'hydra/launcher=submitit_local', 'hydra.launcher.cpus_per_task=1', 'hydra.sweep.dir=local']);
    assert.equal(local.code, 0, local.stderr);

    const expected = comparable(summaryRows(join(dir, 'seq')));
    assert.equal(expected.length, 2);
    assert.ok(expected.every((r) => r.status === 'completed'));
    assert.deepEqual(comparable(summaryRows(join(dir, 'jl'))), expected);
    assert.deepEqual(comparable(summaryRows(join(dir, 'local'))), expected);
    const seqBest = bestEvaluation(join(dir, 'seq'));
    assert.equal(seqBest.status, 'completed');
    assert.deepEqual(bestEvaluation(join(dir, 'jl')), { ...seqBest, output_dir: join(dir, 'jl', 'best') });
    // the selected job's evaluation went to a worker that had run a sweep job: it started with that job's cache
    const reused = /#2 completed \([\d.]+ s; worker (\d+), its job 2, (\d+) cached entries from its earlier jobs\)/.exec(jl.stderr);
    assert.ok(reused, jl.stderr);
    assert.ok(Number(reused[2]) > 0, reused[0]);
    const log2 = readFileSync(join(dir, 'jl', '.joblib', '2.log'), 'utf8');
    assert.match(log2, new RegExp(`^\\[joblib worker ${reused[1]}\\] job #2: this worker's job 2, sweep cache holding ${reused[2]} entries`));
    assert.match(log2, /Evaluating mnist/);
    // two workers, one per sweep job
    const workers = new Set([...jl.stderr.matchAll(/#[01] completed \([\d.]+ s; worker (\d+), its job 1\)/g)].map((m) => m[1]));
    assert.equal(workers.size, 2, jl.stderr);
    assert.ok(workers.has(reused[1]!));

    const returns = [0, 1].map((n) => JSON.parse(readFileSync(join(dir, 'jl', String(n), 'job_return.json'), 'utf8')) as { num: number; status: string; job: { stamp: string } });
    assert.deepEqual(returns.map((r) => [r.num, r.status]), [[0, 'completed'], [1, 'completed']]);
    assert.equal(returns[0]!.job.stamp, returns[1]!.job.stamp, '${now:} resolves to the sweep\'s start in every job');
    for (const n of [0, 1]) {
      assert.match(readFileSync(join(dir, 'jl', '.joblib', `${n}.log`), 'utf8'), /Evaluating mnist/);
      assert.ok(existsSync(join(dir, 'local', '.submitit', String(n), `${n}_0_log.out`)));
      assert.match(readFileSync(join(dir, 'jl', String(n), 'hydra.yaml'), 'utf8'), new RegExp(`\\n    num: ${n}\\n`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failing job of a joblib sweep is recorded with its error while its worker goes on to the next job; the sweep exits non-zero', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-pool-'));
  try {
    const r = demoSweep(dir, ['method.scaling_factor=oops,0.5', 'hydra/launcher=joblib', 'hydra.launcher.n_jobs=1', 'hydra.sweep.dir=s']);
    const first = /#0 failed \([\d.]+ s; worker (\d+), its job 1\)/.exec(r.stderr);
    assert.ok(first, r.stderr);
    assert.match(r.stderr, new RegExp(`#1 completed \\([\\d.]+ s; worker ${first[1]}, its job 2,`));
    assert.equal(r.code, 1);
    const rows = summaryRows(join(dir, 's'));
    assert.deepEqual(rows.map((x) => x.status), ['failed', 'completed']);
    assert.match(rows[0]!.error!, /scaling_factor' must be a finite number/);
    assert.match(r.stderr, /Error executing job with overrides: \['method\.scaling_factor=oops'\]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A copy of the demo's MNIST model whose weights are a FIFO no one writes: a job reading it stays there until stopped. */
function hangingModel(dir: string): { hang: string; model: string } {
  const hang = join(dir, 'hang');
  mkdirSync(hang);
  const model = join(repoRoot, 'demo', 'models', 'tiny-clip-mnist');
  copyFileSync(join(model, 'config.json'), join(hang, 'config.json'));
  assert.equal(spawnSync('mkfifo', [join(hang, 'model.safetensors')]).status, 0);
  return { hang, model };
}

test('a joblib worker that dies fails the job it was running, with its signal and log; a new worker runs the next job', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-pool-'));
  try {
    const { hang, model } = hangingModel(dir);
    const run = demoSweepAsync(dir, [`modelpool.models.mnist=${hang},${model}`, 'hydra/launcher=joblib', 'hydra.launcher.n_jobs=1', 'hydra.sweep.dir=s']);
    // the worker is forked before job #0 is announced
    await run.waitFor(/#0 : /);
    const kids = spawnSync('pgrep', ['-P', String(run.child.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    assert.equal(kids.length, 1, `one worker, got ${kids.join(' ')}`);
    process.kill(Number(kids[0]), 'SIGKILL');
    assert.equal(await run.done, 1, run.stderr());
    const rows = summaryRows(join(dir, 's'));
    assert.deepEqual(rows.map((x) => x.status), ['failed', 'completed']);
    assert.match(rows[0]!.error!, new RegExp(`joblib worker process ${kids[0]} ended \\(SIGKILL\\) while running this job .*log: ${join(dir, 's', '.joblib', 'worker-0.log')}`));
    const second = /#1 completed \([\d.]+ s; worker (\d+), its job 1\)/.exec(run.stderr());
    assert.ok(second, run.stderr());
    assert.notEqual(second[1], kids[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('n_jobs as joblib reads it: -1 all cores, -2 all but one, 0 refused', () => {
  assert.equal(joblibWorkers(-1, 8), 8);
  assert.equal(joblibWorkers(-2, 8), 7);
  assert.equal(joblibWorkers(null, 4), 4);
  assert.equal(joblibWorkers(3, 8), 3);
  assert.equal(joblibWorkers(-20, 2), 1);
  assert.throws(() => joblibWorkers(0, 8), /n_jobs must be a non-zero integer/);
});

test('processes started from the worker bundle find what their modules resolve beside themselves: the preprocessing thread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-pool-thread-'));
  try {
    // the thread's script is resolved from its module's import.meta.url, which the bundle must keep
    const env = { FUSION_BENCH_PREPROCESS_THREAD: '1' };
    const seq = demoSweep(dir, ['method.scaling_factor=0.3', 'hydra.sweep.dir=seq'], env);
    assert.equal(seq.code, 0, seq.stderr);
    for (const launcher of ['joblib', 'submitit_local']) {
      const r = demoSweep(dir, ['method.scaling_factor=0.3', `hydra/launcher=${launcher}`, `hydra.sweep.dir=${launcher}`], env);
      assert.equal(r.code, 0, `${launcher}: ${r.stderr}`);
      assert.deepEqual(comparable(summaryRows(join(dir, launcher))), comparable(summaryRows(join(dir, 'seq'))), launcher);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

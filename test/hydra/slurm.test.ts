/**
 * hydra/launcher=submitit_slurm against a real Slurm cluster (scripts/slurm-up.sh starts a one-node one):
 * the sweep's jobs run as Slurm array tasks, the summary equals the local sweep's row for row, failures
 * are recorded with their Slurm state and log, a second run submits only what is missing, a detached
 * sweep is collected by running the command again, and Ctrl-C cancels the array. Skips, saying why,
 * where Slurm does not take jobs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arrayStates, slurmSkip } from '../helpers/slurm.js';
import { comparable, demoSweep, demoSweepAsync, summaryRows } from '../helpers/sweeps.js';

const opts = { skip: slurmSkip, timeout: 600_000 };
const SLURM = 'hydra/launcher=submitit_slurm';
const LAMBDAS = 'method.scaling_factor=0.1,0.5';

function arraysOf(sweepDir: string): string[] {
  return (JSON.parse(readFileSync(join(sweepDir, '.submitit', 'submissions.json'), 'utf8')) as { array_id: string }[]).map((s) => s.array_id);
}

function jobReturn(sweepDir: string, n: number) {
  return JSON.parse(readFileSync(join(sweepDir, String(n), 'job_return.json'), 'utf8')) as { id: string; status: string; job: { job_env: unknown } };
}

test('a λ sweep of the demo through Slurm equals the local sweep; the jobs ran under Slurm; a second run submits only the missing job', opts, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-slurm-'));
  try {
    const local = demoSweep(dir, [LAMBDAS, 'hydra.sweep.dir=local']);
    assert.equal(local.code, 0, local.stderr);
    const r = demoSweep(dir, [LAMBDAS, SLURM, 'hydra.sweep.dir=slurm', '+job_env=${oc.env:SLURM_JOB_ID}']);
    assert.equal(r.code, 0, r.stderr);
    const sweep = join(dir, 'slurm');
    const expected = comparable(summaryRows(join(dir, 'local')));
    assert.deepEqual(comparable(summaryRows(sweep)), expected);
    assert.ok(summaryRows(sweep).every((row) => row.status === 'completed'), 'a fresh sweep says its jobs completed');
    assert.match(r.stderr, /\[slurm\] Submitted 2 jobs as Slurm array \d+/);
    assert.match(r.stderr, /\[slurm\] array \d+: 0 pending, 0 running, 2 done, 0 failed/);

    const [arrayId] = arraysOf(sweep);
    for (const n of [0, 1]) {
      const ret = jobReturn(sweep, n);
      assert.equal(ret.id, `${arrayId}_${n}`, 'hydra.job.id is the array task');
      // the override reached the job unresolved and resolved there, to the job's own Slurm id
      assert.match(readFileSync(join(sweep, String(n), 'config.yaml'), 'utf8'), /\njob_env: \$\{oc\.env:SLURM_JOB_ID\}\n/);
      assert.match(String(ret.job.job_env), /^\d+$/);
      assert.ok(existsSync(join(sweep, '.submitit', `${arrayId}_${n}`, `${arrayId}_${n}_0_log.out`)), 'the Slurm log is under submitit_folder');
    }
    assert.notEqual(String(jobReturn(sweep, 0).job.job_env), String(jobReturn(sweep, 1).job.job_env));
    assert.deepEqual([...arrayStates(arrayId!).values()], ['COMPLETED', 'COMPLETED']);

    // job 1 is lost (its run directory gone): the same command submits it alone and reuses job 0
    rmSync(join(sweep, '1'), { recursive: true });
    const again = demoSweep(dir, [LAMBDAS, SLURM, 'hydra.sweep.dir=slurm', '+job_env=${oc.env:SLURM_JOB_ID}']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /1 of 2 jobs already finished/);
    assert.match(again.stderr, /Submitted 1 jobs as Slurm array/);
    const rows = summaryRows(sweep);
    assert.deepEqual(rows.map((x) => x.status), ['reused', 'completed']);
    assert.deepEqual(comparable(rows).map((x) => ({ ...x, status: 'completed' })), expected);
    assert.equal(arraysOf(sweep).length, 2);
    assert.equal(jobReturn(sweep, 1).id, `${arraysOf(sweep)[1]}_0`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('failed jobs: one whose program fails and one that dies before writing a result are recorded with their Slurm state and log, while the other finishes', opts, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-slurm-'));
  try {
    // job 2's task exits in the setup lines, before our CLI runs: it leaves no result file
    // (the result files are on this machine's disk: no grace for a shared file system's late files)
    const r = demoSweep(dir, ['method.scaling_factor=0.1,oops,0.5', SLURM, 'hydra.sweep.dir=s', 'hydra.launcher.setup=["if [ $SLURM_ARRAY_TASK_ID = 2 ]; then echo dying >&2; exit 3; fi"]'], { FUSION_BENCH_SLURM_RESULT_GRACE_S: '0' });
    assert.equal(r.code, 1, r.stderr);
    const sweep = join(dir, 's');
    const rows = summaryRows(sweep);
    assert.deepEqual(rows.map((x) => x.status), ['completed', 'failed', 'failed']);
    const [arrayId] = arraysOf(sweep);
    assert.match(rows[1]!.error!, /scaling_factor' must be a finite number/);
    assert.ok(rows[1]!.error!.includes(`Slurm job ${arrayId}_1; log: ${join(sweep, '.submitit', `${arrayId}_1`, `${arrayId}_1_0_log.out`)}`), rows[1]!.error!);
    assert.match(rows[2]!.error!, new RegExp(`Slurm job ${arrayId}_2 ended FAILED .*without a result file; state: FAILED; log: \\S+${arrayId}_2_0_log\\.err`));
    assert.match(readFileSync(join(sweep, '.submitit', `${arrayId}_2`, `${arrayId}_2_0_log.err`), 'utf8'), /dying/);
    // a failed job is FAILED in Slurm too (non-zero exit), and nothing of the sweep is left queued
    assert.deepEqual(Object.fromEntries(arrayStates(arrayId!)), { 0: 'COMPLETED', 1: 'FAILED', 2: 'FAILED' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('detach: submit, print the array id, exit; the same command later collects the results, and evaluates the selected job on Slurm too', opts, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-slurm-'));
  try {
    const best = ['+sweep.select=best', '+sweep.evaluate_best_with={fast_dev_run: true}'];
    const first = demoSweep(dir, [LAMBDAS, SLURM, 'hydra.sweep.dir=d', 'hydra.launcher.detach=true', ...best]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /\[slurm\] Detached: 2 jobs in Slurm array (\d+) .*run the same command again to collect/);
    assert.ok(!existsSync(join(dir, 'd', 'sweep_summary.json')), 'no summary before the jobs are collected');
    const second = demoSweep(dir, [LAMBDAS, SLURM, 'hydra.sweep.dir=d', ...best]);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(summaryRows(join(dir, 'd')).map((x) => x.status), ['completed', 'completed']);
    // one submission for the sweep, one (after it) for the selected job's evaluation in <sweep dir>/best
    assert.equal((second.stderr.match(/Submitted/g) ?? []).length, 1, second.stderr);
    const arrays = arraysOf(join(dir, 'd'));
    assert.equal(arrays.length, 2);
    const summary = JSON.parse(readFileSync(join(dir, 'd', 'sweep_summary.json'), 'utf8')) as { best_evaluation: { status: string; output_dir: string } };
    assert.equal(summary.best_evaluation.status, 'completed');
    assert.equal(summary.best_evaluation.output_dir, join(dir, 'd', 'best'));
    assert.equal((JSON.parse(readFileSync(join(dir, 'd', 'best', 'job_return.json'), 'utf8')) as { id: string }).id, `${arrays[1]}_0`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Ctrl-C while waiting cancels the array and says so', opts, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-slurm-'));
  try {
    // jobs that may begin only in an hour are still pending when the interrupt arrives
    const run = demoSweepAsync(dir, [LAMBDAS, SLURM, 'hydra.sweep.dir=c', '+hydra.launcher.additional_parameters.begin=now+3600']);
    await run.waitFor(/\[slurm\] array \d+: /);
    run.child.kill('SIGINT');
    assert.equal(await run.done, 130);
    const m = /cancelled Slurm array (\d+) \(scancel\)/.exec(run.stderr());
    assert.ok(m, run.stderr());
    assert.match(run.stderr(), /array \d+: 2 pending, 0 running, 0 done, 0 failed/);
    const states = [...arrayStates(m[1]!).values()];
    assert.ok(states.length === 0 || states.every((s) => s === 'CANCELLED'), states.join(' '));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a sweep larger than MaxArraySize goes to Slurm as several arrays', opts, (t) => {
  const max = Number(/MaxArraySize\s*=\s*(\d+)/.exec(spawnSync('scontrol', ['show', 'config'], { encoding: 'utf8' }).stdout)?.[1] ?? 1001);
  if (max > 8) return t.skip(`this cluster's MaxArraySize is ${max} (scripts/slurm-up.sh sets 4): too many jobs to split here`);
  const dir = mkdtempSync(join(tmpdir(), 'fb-slurm-'));
  try {
    const values = Array.from({ length: max + 1 }, (_, i) => ((i + 1) / 10).toFixed(1));
    const r = demoSweep(dir, [`method.scaling_factor=${values.join(',')}`, SLURM, 'hydra.sweep.dir=big']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`Submitted ${max} jobs as Slurm array \\d+ \\(1 of 2: MaxArraySize is ${max}\\)`));
    assert.match(r.stderr, new RegExp(`Submitted 1 jobs as Slurm array \\d+ \\(2 of 2: MaxArraySize is ${max}\\)`));
    const rows = summaryRows(join(dir, 'big'));
    assert.deepEqual(rows.map((x) => [x.swept['method.scaling_factor'], x.status]), values.map((v) => [v, 'completed']));
    assert.equal(arraysOf(join(dir, 'big')).length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Slurm\'s SIGUSR2 before the time limit stops a running job cleanly: FAILED in Slurm, its row says why', opts, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-slurm-'));
  // job 1 waits on a hub that never answers; when its request arrives the job is running under Slurm
  const signalled: string[] = [];
  const server = http.createServer(() => {
    const sub = JSON.parse(readFileSync(join(dir, 'u', '.submitit', 'submissions.json'), 'utf8')) as { array_id: string }[];
    const id = `${sub[0]!.array_id}_1`;
    signalled.push(id);
    spawnSync('scancel', ['--signal=USR2', id]);
  });
  try {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const run = demoSweepAsync(dir, ['modelpool.models.mnist=${path.demo_dir}/models/tiny-clip-mnist,org/never-answers', SLURM, 'hydra.sweep.dir=u'], {
      HF_ENDPOINT: `http://127.0.0.1:${port}`,
      HF_HOME: join(dir, 'hf'),
      FUSION_BENCH_SLURM_RESULT_GRACE_S: '0',
    });
    assert.equal(await run.done, 1, run.stderr());
    assert.equal(signalled.length, 1);
    const rows = summaryRows(join(dir, 'u'));
    assert.deepEqual(rows.map((x) => x.status), ['completed', 'failed']);
    assert.match(rows[1]!.error!, /stopped by SIGUSR2/);
    const arrayId = signalled[0]!.split('_')[0]!;
    assert.equal(arrayStates(arrayId).get(1), 'FAILED');
    assert.deepEqual(readdirSync(join(dir, 'u', '1')).filter((f) => f.endsWith('.tmp')), []);
  } finally {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

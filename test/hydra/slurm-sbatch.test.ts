/**
 * The batch script of a Slurm job array: every key of hydra/launcher=submitit_slurm reaches sbatch, the
 * output goes under submitit_folder with the array task in its path, and sweeps above MaxArraySize split.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUserError } from '../../src/errors.js';
import { runApp } from '../../src/hydra/run-app.js';
import type { App } from '../../src/hydra/app.js';
import { arrayChunks, arrayScript, logPaths, sbatchOptions, slurmConf, taskFolder } from '../../src/hydra/slurm/sbatch.js';
import type { ConfigDict } from '../../src/config/values.js';

const full = {
  _target_: 'hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher',
  submitit_folder: '/sweep/.submitit/%j',
  timeout_min: 90, cpus_per_task: 4, gpus_per_node: 2, tasks_per_node: 1, mem_gb: 16, nodes: 1, name: 'fb',
  stderr_to_stdout: false, partition: 'gpu', qos: 'high', comment: 'merge', constraint: 'a100', exclude: 'n1,n2',
  gres: 'gpu:2', cpus_per_gpu: 8, gpus_per_task: 1, mem_per_gpu: '40G', mem_per_cpu: '4G', account: 'lab',
  signal_delay_s: 90, max_num_timeout: 2, additional_parameters: { mail_user: 'a@b.c', 'mail-type': 'END', exclusive: true },
  array_parallelism: 3, setup: ['module load cuda', 'export HF_HOME=/shared/hf'], srun_args: ['--cpu-bind=none'], detach: false,
} as unknown as ConfigDict;

test('every key of SlurmQueueConf reaches sbatch, as submitit writes it', () => {
  const conf = slurmConf(full);
  const opts = sbatchOptions(conf, 10, '/work');
  for (const o of [
    '--job-name=fb', '--array=0-9%3', '--output=/sweep/.submitit/%A_%a/%A_%a_0_log.out', '--error=/sweep/.submitit/%A_%a/%A_%a_0_log.err',
    '--chdir=/work', '--time=90', '--cpus-per-task=4', '--gpus-per-node=2', '--ntasks-per-node=1', '--mem=16GB', '--nodes=1',
    '--partition=gpu', '--qos=high', '--comment=merge', '--constraint=a100', '--exclude=n1,n2', '--gres=gpu:2', '--cpus-per-gpu=8',
    '--gpus-per-task=1', '--mem-per-gpu=40G', '--mem-per-cpu=4G', '--account=lab', '--signal=USR2@90', '--requeue',
    '--mail-user=a@b.c', '--mail-type=END', '--exclusive',
  ]) assert.ok(opts.includes(o), `${o} missing from ${opts.join(' ')}`);
  const script = arrayScript(conf, [{ env: { FUSION_BENCH_LAUNCHED_JOB: '{"num":0}' }, argv: ['node', 'cli.js', "x='a b'", '+e=${oc.env:SLURM_JOB_ID}'] }], '/work', 'header');
  assert.match(script, /\nmodule load cuda\nexport HF_HOME=\/shared\/hf\n/);
  assert.ok(script.includes('\nexport FUSION_BENCH_ORT_THREADS="${SLURM_CPUS_PER_TASK:-${SLURM_CPUS_ON_NODE:-}}"\n'));
  assert.match(script, /exec srun --unbuffered --ntasks=1 '--cpu-bind=none' "\$@"\n$/);
  // the overrides reach the job as they were given: ${...} is not expanded by the shell
  assert.ok(script.includes(`'node' 'cli.js' 'x='\\''a b'\\''' '+e=\${oc.env:SLURM_JOB_ID}'`), script);
  const merged = sbatchOptions(slurmConf({ ...full, stderr_to_stdout: true } as ConfigDict), 1, '/');
  assert.ok(merged.some((o) => o.startsWith('--output=')) && !merged.some((o) => o.startsWith('--error')), 'stderr_to_stdout: no --error');
});

test('the script is valid bash that runs the task its array index names', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-sbatch-'));
  try {
    const conf = slurmConf({ ...full, setup: [] } as ConfigDict);
    const tasks = [0, 1].map((n) => ({ env: { JOBNUM: String(n) }, argv: ['printf', '%s|', `n=${n}`, '${oc.env:SLURM_JOB_ID}', "it's"] }));
    const script = arrayScript(conf, tasks, dir, 'test').replace(/exec srun [^\n]*/, 'printf "%s|" "$FUSION_BENCH_ORT_THREADS"; exec "$@"');
    writeFileSync(join(dir, 'job.sh'), script);
    const r = spawnSync('bash', [join(dir, 'job.sh')], { encoding: 'utf8', env: { ...process.env, SLURM_ARRAY_TASK_ID: '1', SLURM_CPUS_PER_TASK: '', SLURM_CPUS_ON_NODE: '3' } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "3|n=1|${oc.env:SLURM_JOB_ID}|it's|");
    assert.equal(spawnSync('bash', [join(dir, 'job.sh')], { env: { ...process.env, SLURM_ARRAY_TASK_ID: '7' } }).status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('output folders per array task; arrays split at MaxArraySize; unknown keys refused', () => {
  const conf = slurmConf(full);
  assert.equal(taskFolder('/s/.submitit/%j', '42', 3), '/s/.submitit/42_3');
  assert.equal(taskFolder('/s/%A/%a/100%%', '42', 3), '/s/42/3/100%');
  assert.deepEqual(logPaths(conf, '42', 3), { out: '/sweep/.submitit/42_3/42_3_0_log.out', err: '/sweep/.submitit/42_3/42_3_0_log.err' });
  assert.deepEqual(arrayChunks([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(arrayChunks([1, 2], 1001), [[1, 2]]);
  assert.throws(() => slurmConf({ ...full, partitoin: 'x' } as ConfigDict), (e) => isUserError(e) && /no key 'partitoin'/.test((e as Error).message));
  assert.throws(() => slurmConf({ ...full, timeout_min: 0 } as ConfigDict), /timeout_min must be an integer >= 1/);
  assert.throws(() => slurmConf({ ...full, submitit_folder: '/s/%u' } as ConfigDict), /only %j, %A and %a/);
});

test('without Slurm, submitit_slurm is one clear error before any job runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-sbatch-'));
  try {
    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf', 'app.yaml'), 'x: 1\n');
    let ran = 0;
    const app: App = { async run() { ran++; return { report: null, reportPath: null }; } };
    const sink = { write: () => true } as unknown as NodeJS.WritableStream;
    const io = { stdout: sink, stderr: sink, env: { PATH: join(dir, 'no-bin') }, cwd: dir };
    await assert.rejects(
      runApp({ configPath: join(dir, 'conf'), configName: 'app', configDir: null, overrides: ['x=1,2', 'hydra/launcher=submitit_slurm', 'hydra.sweep.dir=s'] }, io, app, { multirun: true }),
      (e) => isUserError(e) && /sbatch was not found/.test((e as Error).message),
    );
    assert.equal(ran, 0);
    assert.ok(existsSync(join(dir, 's', '.submitit')), 'the batch script is kept for a look');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

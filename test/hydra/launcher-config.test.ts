/**
 * The launcher configs carry Hydra's plugin names and keys: `hydra/launcher=<name>` composes them and
 * `--cfg hydra` shows them as Hydra does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { binPath, repoRoot } from '../helpers/paths.js';

function cfgHydra(...overrides: string[]): string {
  const r = spawnSync(process.execPath, [binPath, '--config-name', 'demo', ...overrides, '--cfg', 'hydra', '--package', 'hydra.launcher'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

function keysOf(yaml: string): string[] {
  return yaml.split('\n').filter((l) => /^[a-z_]+:/.test(l)).map((l) => l.slice(0, l.indexOf(':')));
}

test('submitit_slurm has every key of SlurmQueueConf, Hydra\'s target and submitit_folder, plus detach', () => {
  const out = cfgHydra('hydra/launcher=submitit_slurm', 'hydra.launcher.partition=gpu');
  assert.match(out, /^# @package hydra\.launcher\n_target_: hydra_plugins\.hydra_submitit_launcher\.submitit_launcher\.SlurmLauncher\n/);
  assert.match(out, /\nsubmitit_folder: \$\{hydra\.sweep\.dir\}\/\.submitit\/%j\n/);
  assert.match(out, /\npartition: gpu\n/);
  const issueKeys = ['timeout_min', 'cpus_per_task', 'gpus_per_node', 'tasks_per_node', 'mem_gb', 'nodes', 'name', 'partition', 'qos', 'comment', 'constraint', 'exclude', 'gres', 'cpus_per_gpu', 'gpus_per_task', 'mem_per_gpu', 'mem_per_cpu', 'account', 'signal_delay_s', 'max_num_timeout', 'additional_parameters', 'array_parallelism', 'setup', 'submitit_folder'];
  const keys = keysOf(out);
  for (const k of [...issueKeys, 'stderr_to_stdout', 'srun_args', 'detach']) assert.ok(keys.includes(k), `missing ${k}`);
});

test('submitit_local and joblib: Hydra\'s targets and keys', () => {
  const local = cfgHydra('hydra/launcher=submitit_local');
  assert.match(local, /_target_: hydra_plugins\.hydra_submitit_launcher\.submitit_launcher\.LocalLauncher\n/);
  assert.deepEqual(keysOf(local), ['_target_', 'submitit_folder', 'timeout_min', 'cpus_per_task', 'gpus_per_node', 'tasks_per_node', 'mem_gb', 'nodes', 'name', 'stderr_to_stdout']);
  const joblib = cfgHydra('hydra/launcher=joblib', 'hydra.launcher.n_jobs=2');
  assert.match(joblib, /_target_: hydra_plugins\.hydra_joblib_launcher\.joblib_launcher\.JoblibLauncher\nn_jobs: 2\n/);
  assert.deepEqual(keysOf(joblib), ['_target_', 'n_jobs', 'backend', 'prefer', 'require', 'verbose', 'timeout', 'pre_dispatch', 'batch_size', 'temp_folder', 'max_nbytes', 'mmap_mode']);
});

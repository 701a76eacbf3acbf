/**
 * The batch script of one Slurm job array: hydra-submitit-launcher's SlurmQueueConf as `#SBATCH` lines
 * (every key reaches sbatch, as submitit writes them: underscores become dashes), the `setup` lines, and
 * one case per array task that runs our CLI on that task's job through `srun` (so that Slurm's USR2 warning
 * before the time limit, `signal_delay_s`, reaches the job). Pure text in, text out.
 */
import { UserError } from '../../errors.js';
import { isDict, toPlain, type ConfigDict, type ConfigValue } from '../../config/values.js';

/** The keys of hydra/launcher=submitit_slurm (SlurmQueueConf and fusion-bench's `detach`). */
export const SLURM_KEYS = [
  '_target_', 'submitit_folder', 'timeout_min', 'cpus_per_task', 'gpus_per_node', 'tasks_per_node', 'mem_gb', 'nodes', 'name',
  'stderr_to_stdout', 'partition', 'qos', 'comment', 'constraint', 'exclude', 'gres', 'cpus_per_gpu', 'gpus_per_task', 'mem_per_gpu',
  'mem_per_cpu', 'account', 'signal_delay_s', 'max_num_timeout', 'additional_parameters', 'array_parallelism', 'setup', 'srun_args', 'detach',
] as const;

/** Keys passed to sbatch as `--<key with dashes>=<value>` when set. */
const PLAIN_FLAGS = ['partition', 'qos', 'comment', 'constraint', 'exclude', 'gres', 'cpus_per_gpu', 'gpus_per_task', 'mem_per_gpu', 'mem_per_cpu', 'account', 'cpus_per_task', 'gpus_per_node', 'nodes'] as const;

export interface SlurmConf {
  raw: Record<string, unknown>;
  submititFolder: string;
  timeoutMin: number;
  cpusPerTask: number | null;
  signalDelayS: number;
  maxNumTimeout: number;
  arrayParallelism: number;
  stderrToStdout: boolean;
  setup: string[];
  srunArgs: string[];
  detach: boolean;
}

function intAt(raw: Record<string, unknown>, key: string, min: number, dflt: number | null): number | null {
  const v = raw[key];
  if (v === null || v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new UserError(`hydra.launcher.${key} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function stringList(raw: Record<string, unknown>, key: string): string[] {
  const v = raw[key];
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new UserError(`hydra.launcher.${key} must be a list of strings or null, got ${JSON.stringify(v)}`);
  return v.map(String);
}

/** Reads and checks `hydra.launcher` (resolved): an unknown key is refused, as Hydra's structured config refuses it. */
export function slurmConf(cfg: ConfigDict): SlurmConf {
  const raw = toPlain(cfg as ConfigValue) as Record<string, unknown>;
  const unknown = Object.keys(raw).filter((k) => !(SLURM_KEYS as readonly string[]).includes(k));
  if (unknown.length) throw new UserError(`hydra.launcher (submitit_slurm) has no key ${unknown.map((k) => `'${k}'`).join(', ')}; its keys: ${SLURM_KEYS.join(', ')}`);
  const folder = raw.submitit_folder;
  if (typeof folder !== 'string' || folder === '') throw new UserError(`hydra.launcher.submitit_folder must be a path, got ${JSON.stringify(folder)}`);
  if (/%[^jAa%]/.test(folder.replaceAll('%%', ''))) throw new UserError(`hydra.launcher.submitit_folder '${folder}': only %j, %A and %a are replaced in it`);
  const extra = raw.additional_parameters;
  if (extra !== null && extra !== undefined && !isDict(extra as ConfigValue) && typeof extra !== 'object') {
    throw new UserError(`hydra.launcher.additional_parameters must be a mapping, got ${JSON.stringify(extra)}`);
  }
  return {
    raw,
    submititFolder: folder,
    timeoutMin: intAt(raw, 'timeout_min', 1, 60)!,
    cpusPerTask: intAt(raw, 'cpus_per_task', 1, null),
    signalDelayS: intAt(raw, 'signal_delay_s', 0, 120)!,
    maxNumTimeout: intAt(raw, 'max_num_timeout', 0, 0)!,
    arrayParallelism: intAt(raw, 'array_parallelism', 1, 256)!,
    stderrToStdout: raw.stderr_to_stdout === true,
    setup: stringList(raw, 'setup'),
    srunArgs: stringList(raw, 'srun_args'),
    detach: raw.detach === true,
  };
}

/** Bash's single quotes around any text. */
export function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** A submitit folder for one array task (%j is the task's `<array>_<task>`, as submitit writes it for arrays). */
export function taskFolder(template: string, arrayId: string, task: number): string {
  return template.replace(/%(%|j|A|a)/g, (_m, c: string) => (c === '%' ? '%' : c === 'j' ? `${arrayId}_${task}` : c === 'A' ? arrayId : String(task)));
}

/** The same folder as Slurm's filename pattern (for --output). */
export function slurmPattern(template: string): string {
  return template.replaceAll('%j', '%A_%a');
}

/** Where the output of task `task` of array `arrayId` goes (stdout, and stderr unless stderr_to_stdout). */
export function logPaths(conf: SlurmConf, arrayId: string, task: number): { out: string; err: string | null } {
  const dir = taskFolder(conf.submititFolder, arrayId, task);
  return { out: `${dir}/${arrayId}_${task}_0_log.out`, err: conf.stderrToStdout ? null : `${dir}/${arrayId}_${task}_0_log.err` };
}

/** The `#SBATCH` options of an array of `count` tasks. */
export function sbatchOptions(conf: SlurmConf, count: number, chdir: string): string[] {
  const raw = conf.raw;
  const opts: string[] = [];
  const flag = (key: string, v: unknown) => {
    if (v === null || v === undefined || v === false) return;
    opts.push(v === true ? `--${key}` : `--${key}=${String(v)}`);
  };
  flag('job-name', raw.name);
  flag('array', `0-${count - 1}%${Math.min(count, conf.arrayParallelism)}`);
  const dir = slurmPattern(conf.submititFolder);
  flag('output', `${dir}/%A_%a_0_log.out`);
  if (!conf.stderrToStdout) flag('error', `${dir}/%A_%a_0_log.err`);
  flag('chdir', chdir);
  flag('time', conf.timeoutMin);
  flag('ntasks-per-node', raw.tasks_per_node ?? 1);
  for (const k of PLAIN_FLAGS) flag(k.replaceAll('_', '-'), raw[k]);
  if (raw.mem_gb !== null && raw.mem_gb !== undefined) flag('mem', `${String(raw.mem_gb)}GB`);
  flag('signal', `USR2@${conf.signalDelayS}`);
  flag('open-mode', 'append');
  if (conf.maxNumTimeout > 0) flag('requeue', true);
  const extra = (raw.additional_parameters ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(extra)) flag(k.replaceAll('_', '-'), v);
  for (const o of opts) if (/[\n\r]/.test(o)) throw new UserError(`hydra.launcher: a value holds a line break: ${JSON.stringify(o)}`);
  return opts;
}

export interface ArrayTask {
  /** The task's environment (FUSION_BENCH_LAUNCHED_JOB). */
  env: Record<string, string>;
  /** The command after srun: node and our CLI's arguments. */
  argv: string[];
}

/** The whole batch script of one array. */
export function arrayScript(conf: SlurmConf, tasks: readonly ArrayTask[], chdir: string, header: string): string {
  const lines = ['#!/bin/bash', `# ${header}`];
  for (const o of sbatchOptions(conf, tasks.length, chdir)) lines.push(`#SBATCH ${o}`);
  lines.push('', '# setup (hydra.launcher.setup)', ...conf.setup, '');
  // onnxruntime uses the CPUs Slurm allocated (cpus_per_task, else the task's share of the node), not all the node's cores
  lines.push('export FUSION_BENCH_ORT_THREADS="${SLURM_CPUS_PER_TASK:-${SLURM_CPUS_ON_NODE:-}}"');
  if (conf.maxNumTimeout > 0) lines.push(`export FUSION_BENCH_MAX_NUM_TIMEOUT=${conf.maxNumTimeout}`);
  lines.push('case "$SLURM_ARRAY_TASK_ID" in');
  tasks.forEach((t, i) => {
    const env = Object.entries(t.env).map(([k, v]) => `export ${k}=${shQuote(v)}`).join('; ');
    lines.push(`  ${i}) ${env}; set -- ${t.argv.map(shQuote).join(' ')} ;;`);
  });
  lines.push('  *) echo "fusion-bench: no job for array task $SLURM_ARRAY_TASK_ID" >&2; exit 2 ;;', 'esac');
  lines.push(`exec srun --unbuffered --ntasks=1 ${conf.srunArgs.map(shQuote).join(' ')} "$@"`.replace(/ {2,}/g, ' '));
  return lines.join('\n') + '\n';
}

/** Splits the jobs into arrays of at most `maxArraySize` tasks (Slurm's MaxArraySize: task ids below it). */
export function arrayChunks<T>(items: readonly T[], maxArraySize: number): T[][] {
  const size = Math.max(1, maxArraySize);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

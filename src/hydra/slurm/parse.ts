/**
 * What the launcher reads from Slurm's commands, as pure functions of their output (the fuzz target
 * `slurm-output` feeds them anything): the job id sbatch answers, MaxArraySize, and the task states of an
 * array from squeue (`%i|%T|%r`) and sacct (`JobID|State`).
 */
import { UserError } from '../../errors.js';

/** `sbatch --parsable` prints `<id>[;<cluster>]`. */
export function parseSbatchId(stdout: string, script: string): string {
  const id = stdout.trim().split(';')[0]!;
  if (!/^\d{1,18}$/.test(id)) throw new UserError(`sbatch answered '${stdout.trim().slice(0, 200)}' for ${script}: expected a job id`);
  return id;
}

/** MaxArraySize from `scontrol show config`; Slurm's default 1001 when absent or unreadable. */
export function parseMaxArraySize(stdout: string): number {
  const m = /^MaxArraySize\s*=\s*(\d{1,9})\s*$/m.exec(stdout);
  const n = m ? Number(m[1]) : 1001;
  return n >= 1 ? n : 1001;
}

/** `<array>_<task>` of this array → the first word of the state column (and the third column, if any). */
function tasksOf(stdout: string, arrayId: string, each: (task: number, cols: string[]) => void): void {
  for (const line of stdout.split('\n')) {
    const cols = line.trim().split('|');
    const m = /^(\d+)_(\d{1,9})$/.exec(cols[0] ?? '');
    if (m && m[1] === arrayId && cols[1]) each(Number(m[2]), cols);
  }
}

export function parseSqueueStates(stdout: string, arrayId: string): Map<number, { state: string; reason: string }> {
  const out = new Map<number, { state: string; reason: string }>();
  tasksOf(stdout, arrayId, (task, cols) => out.set(task, { state: cols[1]!.split(' ')[0]!, reason: cols[2] ?? '' }));
  return out;
}

export function parseSacctStates(stdout: string, arrayId: string): Map<number, string> {
  const out = new Map<number, string>();
  tasksOf(stdout, arrayId, (task, cols) => out.set(task, cols[1]!.split(' ')[0]!));
  return out;
}

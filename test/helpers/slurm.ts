/**
 * Whether a Slurm cluster takes jobs here (scripts/slurm-up.sh starts a one-node one as root): the
 * Slurm tests skip with the reason where it does not.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

function why(): string | false {
  const r = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', timeout: 30_000 });
  let status = '';
  try {
    status = readFileSync(`${process.env.FUSION_BENCH_SLURM_STATE ?? '/tmp/fusion-bench-slurm'}/status`, 'utf8').trim();
  } catch {
    // the up script never ran here
  }
  const hint = `run scripts/slurm-up.sh as root to start a one-node cluster${status ? `; it says: ${status}` : ''}`;
  if (r.error) return `Slurm is not installed (sinfo: ${r.error.message}); ${hint}`;
  if (r.status !== 0) return `Slurm does not answer (sinfo: ${r.stderr.trim()}); ${hint}`;
  if (!/^(idle|mixed|allocated|completing)/m.test(r.stdout)) return `no Slurm node takes jobs (sinfo: ${r.stdout.trim() || 'no nodes'}); ${hint}`;
  return false;
}

export const slurmSkip: string | false = why();

/** squeue's states of an array's tasks (task id → state), while Slurm remembers them. */
export function arrayStates(arrayId: string): Map<number, string> {
  const r = spawnSync('squeue', ['-h', '-r', '-t', 'all', '-j', arrayId, '-o', '%i|%T'], { encoding: 'utf8', timeout: 30_000 });
  const out = new Map<number, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(\d+)_(\d+)\|(\S+)/.exec(line.trim());
    if (m && m[1] === arrayId) out.set(Number(m[2]), m[3]!);
  }
  return out;
}

/**
 * The Slurm commands the launcher runs: sbatch, scontrol (release, MaxArraySize), squeue, scancel, and
 * sacct only where it answers (Debian's packages without slurmdbd have none: squeue and the result files
 * are enough while Slurm remembers finished jobs, MinJobAge).
 */
import { execFile, execFileSync } from 'node:child_process';
import { UserError } from '../../errors.js';
import { parseMaxArraySize, parseSacctStates, parseSbatchId, parseSqueueStates } from './parse.js';

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { env, timeout: 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      done({ code, stdout: String(stdout), stderr: String(stderr) || (err?.message ?? '') });
    });
  });
}

/** Terminal states: the job will not run again. */
export const FINAL_STATES = new Set(['COMPLETED', 'FAILED', 'TIMEOUT', 'CANCELLED', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE', 'REVOKED', 'SPECIAL_EXIT']);
export const PENDING_STATES = new Set(['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD', 'SUSPENDED', 'STOPPED']);

export class Slurm {
  private sacctWorks: boolean | null = null;

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** Submits a script held (its output folders are made before it runs); returns the array id. */
  async submitHeld(script: string): Promise<string> {
    const r = await run('sbatch', ['--parsable', '--hold', script], this.env);
    if (r.code !== 0) {
      const why = r.code === -1 && /ENOENT/.test(r.stderr) ? 'sbatch was not found (is this a Slurm login node?)' : r.stderr.trim();
      throw new UserError(`sbatch refused the job array ${script}: ${why}`);
    }
    return parseSbatchId(r.stdout, script);
  }

  async release(id: string): Promise<void> {
    const r = await run('scontrol', ['release', id], this.env);
    if (r.code !== 0) throw new UserError(`scontrol release ${id} failed: ${r.stderr.trim()}`);
  }

  /** Slurm's MaxArraySize (task ids must stay below it); 1001, Slurm's default, when it cannot be read. */
  async maxArraySize(): Promise<number> {
    const r = await run('scontrol', ['show', 'config'], this.env);
    return parseMaxArraySize(r.stdout);
  }

  /** The state of each task of an array that Slurm still knows (task id → state, reason). */
  async arrayStates(arrayId: string): Promise<Map<number, { state: string; reason: string }>> {
    const r = await run('squeue', ['-h', '-r', '-t', 'all', '-j', arrayId, '-o', '%i|%T|%r'], this.env);
    if (r.code !== 0) {
      if (/Invalid job id/i.test(r.stderr)) return new Map(); // forgotten (MinJobAge passed)
      throw new UserError(`squeue -j ${arrayId} failed: ${r.stderr.trim()}`);
    }
    return parseSqueueStates(r.stdout, arrayId);
  }

  /** sacct's states of an array's tasks, or null where sacct does not answer (no accounting storage). */
  async accountedStates(arrayId: string): Promise<Map<number, string> | null> {
    if (this.sacctWorks === false) return null;
    const r = await run('sacct', ['-n', '-P', '-X', '-j', arrayId, '-o', 'JobID,State'], this.env);
    if (r.code !== 0) {
      this.sacctWorks = false;
      return null;
    }
    this.sacctWorks = true;
    return parseSacctStates(r.stdout, arrayId);
  }

  /** Cancels arrays at once (on the way out of an interrupted wait); returns scancel's complaint, if any. */
  cancelSync(ids: readonly string[]): string | null {
    if (ids.length === 0) return null;
    try {
      execFileSync('scancel', [...ids], { env: this.env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }
}

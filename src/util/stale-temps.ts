import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Temporary names our writers give files beside their final name, with the writer's PID:
 * `.<name>.tmp-<pid>-<hex>` (the safetensors writer) and `.<name>.<pid>.<random>.tmp` (writeFileAtomic).
 * A process killed with SIGKILL (or by the OOM killer) cannot remove its own; the next writer into the
 * folder removes those whose process is gone.
 */
const TEMP_NAMES = [/^\..+\.tmp-(\d+)-[0-9a-f]{8}$/, /^\..+\.(\d+)\.[0-9a-z]{1,8}\.tmp$/];

/** The PID of the writer that named a temp file this way, or null when the name is not one of ours. */
export function tempWriterPid(name: string): number | null {
  for (const re of TEMP_NAMES) {
    const m = re.exec(name);
    if (m) return Number(m[1]);
  }
  return null;
}

/** Whether a process with this PID exists (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes our temp files in `dir` whose writer is no longer running; returns how many. The PID is only
 * meaningful on this machine: a folder shared with another host (NFS) could hold a live writer's temp
 * whose PID is unused here, so callers sweep only folders they are about to write into themselves.
 */
export function removeDeadTemps(dir: string): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const pid = tempWriterPid(name);
    if (pid === null || pid === process.pid || pidAlive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed++;
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
  return removed;
}

const swept = new Set<string>();

/** removeDeadTemps once per folder and process (for writers of many small files into the same folder). */
export function removeDeadTempsOnce(dir: string): void {
  if (swept.has(dir)) return;
  swept.add(dir);
  removeDeadTemps(dir);
}

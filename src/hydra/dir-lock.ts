/**
 * One run per run (or sweep) directory: two runs given the same folder would mix their records (a
 * config.yaml saying λ=0.9 next to a report for λ=0.1). A run holds `<dir>/.fusion-bench.lock`, created
 * exclusively (O_EXCL) with its PID and host, for its whole life; a second run stops with a message
 * naming the holder. A lock left by a process of this host that no longer exists (SIGKILL) is stale and
 * is taken over; Ctrl-C removes the lock with the other unfinished files.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { trackTemp, untrackTemp } from '../util/cleanup.js';
import { pidAlive } from '../util/stale-temps.js';

export const LOCK_NAME = '.fusion-bench.lock';

export interface DirLock {
  release(): void;
}


function owner(path: string): { pid: number; host: string } | null {
  try {
    const [pid, host] = readFileSync(path, 'utf8').split('\n');
    const n = Number(pid);
    return Number.isSafeInteger(n) && n > 0 ? { pid: n, host: host ?? '' } : null;
  } catch {
    return null;
  }
}

/** Takes the lock of `dir` (which must exist) or throws a UserError naming the run that holds it. */
export function lockDir(dir: string, what: string): DirLock {
  const path = join(dir, LOCK_NAME);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new UserError(`cannot lock ${what} ${dir}: ${(e as Error).message}`, { cause: e });
      const o = owner(path);
      const here = hostname();
      if (o !== null && (o.host !== here || pidAlive(o.pid))) {
        const who = o.host === here ? `PID ${o.pid}` : `PID ${o.pid} on ${o.host}`;
        throw new UserError(`${what} ${dir} is in use by another fusion-bench run (${who}); wait for it to finish, or give this run another directory. (If that process is gone, delete ${path}.)`);
      }
      // a dead holder of this host, or an unreadable lock: stale
      rmSync(path, { force: true });
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n${hostname()}\n`);
    } finally {
      closeSync(fd);
    }
    trackTemp(path);
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        untrackTemp(path);
        rmSync(path, { force: true });
      },
    };
  }
  throw new UserError(`cannot lock ${what} ${dir}: another run keeps taking ${path}`);
}

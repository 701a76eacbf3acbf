import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { pidAlive } from '../util/stale-temps.js';
import { ensureDir } from '../util/ensure-dir.js';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

/**
 * A lock file taken with an exclusive create (O_EXCL), so two processes never download the same blob at
 * once. Node has no flock, so a holder proves it is alive by touching the file every `staleMs / 3`; a lock
 * whose owner is a dead process on this host, or that nobody touched for `staleMs` (nor the download it
 * guards, see `activityMs`), is stale and is broken. Python's own lock files (empty, left in place after
 * each download) are old and so count as stale.
 */
export interface LockOptions {
  /** A lock untouched this long is stale (default 30 s). */
  staleMs?: number;
  /** How often a waiter looks again (default 100 ms). */
  pollMs?: number;
  /** The latest sign of life of the guarded work besides the lock file (e.g. the mtime of a temp download), in ms since the epoch. */
  activityMs?: () => number;
  /** Called once when we have waited 10 s, to tell the user why nothing happens. */
  onWait?: () => void;
}

interface Owner {
  pid: number;
  host: string;
}

function readOwner(path: string): Owner | null {
  try {
    const [pid, host] = readFileSync(path, 'utf8').split('\n');
    const n = Number(pid);
    return Number.isInteger(n) && n > 0 && host ? { pid: n, host } : null;
  } catch {
    return null;
  }
}


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Takes the lock once; true on success, false when someone else holds it. */
function tryCreate(path: string): number | null {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw e;
  }
  try {
    writeSync(fd, `${process.pid}\n${hostname()}\n`);
  } finally {
    closeSync(fd);
  }
  return statSync(path).ino;
}

/**
 * Moves a stale lock aside and deletes it. The rename is atomic, so of several breakers only one gets the
 * file; if what it got is not the file it judged (someone broke and re-took it meanwhile), it puts it back.
 */
function breakStale(path: string, judgedIno: number): void {
  const aside = `${path}.stale-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // gone already: someone else broke or released it
  }
  try {
    if (statSync(aside).ino !== judgedIno) {
      try {
        linkSync(aside, path);
      } catch {
        /* a third process took the lock meanwhile: theirs stands */
      }
    }
  } finally {
    try {
      unlinkSync(aside);
    } catch {
      /* already gone */
    }
  }
}

function isStale(path: string, staleMs: number, activityMs: (() => number) | undefined): { stale: boolean; ino: number } | null {
  let st;
  try {
    st = statSync(path);
  } catch {
    return null; // released between our create and our look
  }
  const owner = readOwner(path);
  if (owner !== null && owner.host === hostname() && !pidAlive(owner.pid)) return { stale: true, ino: st.ino };
  const last = Math.max(st.mtimeMs, activityMs?.() ?? 0);
  return { stale: Date.now() - last > staleMs, ino: st.ino };
}

/** Runs `fn` while holding the lock at `path` (created with its folders as needed). */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const staleMs = opts.staleMs ?? 30_000;
  const pollMs = opts.pollMs ?? 100;
  ensureDir(dirname(path), 'the lock folder');
  const started = Date.now();
  let told = false;
  let ino: number | null;
  for (;;) {
    ino = tryCreate(path);
    if (ino !== null) break;
    const s = isStale(path, staleMs, opts.activityMs);
    if (s?.stale) {
      breakStale(path, s.ino);
      continue;
    }
    if (s === null) continue;
    if (!told && Date.now() - started > 10_000) {
      told = true;
      opts.onWait?.();
    }
    await sleep(pollMs);
  }
  const ourIno = ino;
  const beat = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      /* broken by someone who judged us dead; the download's temp file keeps the result correct */
    }
  }, Math.max(50, Math.floor(staleMs / 3)));
  beat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(beat);
    try {
      if (statSync(path).ino === ourIno) unlinkSync(path);
    } catch {
      /* already gone */
    }
  }
}

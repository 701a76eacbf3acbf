import { closeSync, openSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { trackTemp, untrackTemp } from './cleanup.js';
import { UserError } from '../errors.js';
import { fsReason, isDiskError } from './ensure-dir.js';
import { removeDeadTempsOnce } from './stale-temps.js';
import { writeFully } from './write-fully.js';

/** A temporary name beside `path`, so the final rename stays on one file system. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
}

/**
 * Writes the whole file under a temporary name, then renames it: readers never see half a file, and an
 * interrupted process leaves none (no fsync: like Python's writers, this does not promise durability
 * against power loss, and an fsync here would flush a freshly written model with it).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  removeDeadTempsOnce(dirname(path));
  const tmp = tempPathFor(path);
  trackTemp(tmp);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeFully(fd, typeof data === 'string' ? Buffer.from(data) : data);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (isDiskError(e)) throw new UserError(`cannot write ${path}: ${fsReason(e)}`, { cause: e });
    throw e;
  } finally {
    untrackTemp(tmp);
  }
}

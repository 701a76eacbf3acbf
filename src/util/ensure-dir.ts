import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../errors.js';

/** A short reason for a file-system error code, for messages a user reads. */
export function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'EROFS':
      return 'the file system is read-only';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'the disk quota is exceeded';
    case 'EFBIG':
      return 'the file is too large (EFBIG: the file system\'s or the process\'s file size limit, ulimit -f)';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    case 'ENAMETOOLONG':
      return 'the name is too long';
    default:
      return code ? `${code}: ${(e as Error).message}` : String((e as Error)?.message ?? e);
  }
}

const DISK_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EROFS', 'EACCES', 'EPERM', 'EIO']);

/** An error of the disk or its permissions (the user's to fix), not of the program. */
export function isDiskError(e: unknown): e is NodeJS.ErrnoException {
  return DISK_ERRORS.has((e as NodeJS.ErrnoException | null)?.code ?? '');
}

/**
 * Creates the folder `path` and any missing parents, one level at a time: Node's recursive mkdir loops
 * forever (100 % CPU, deaf to signals) where the kernel answers ENOENT for a parent that exists, as procfs
 * does (`/proc/nope/x`). Here each level is tried once, so the work is bounded by the path's depth, and a
 * failure is one UserError naming `what` and the path. Returns the folders it created, outermost first
 * (for `removeEmptyDirs` when what was to be written there fails).
 */
export function ensureDir(path: string, what: string): string[] {
  const abs = resolve(path);
  const missing: string[] = [];
  for (let p = abs; ; ) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new UserError(`cannot create ${what} ${path}: ${p}: ${fsReason(e)}`, { cause: e });
      missing.push(p);
      const up = dirname(p);
      if (up === p) throw new UserError(`cannot create ${what} ${path}: the root ${p} does not exist`);
      p = up;
      continue;
    }
    if (!isDir) throw new UserError(`cannot create ${what} ${path}: ${p} is a file, not a folder`);
    break;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    const d = missing[i]!;
    try {
      mkdirSync(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // another process made it meanwhile
      if (code === 'EEXIST' && isDirectory(d)) continue;
      const why = code === 'ENOENT' ? `${dirname(d)} does not accept new folders` : fsReason(e);
      removeEmptyDirs(missing.slice(i + 1).reverse());
      throw new UserError(`cannot create ${what} ${path}: ${d}: ${why}`, { cause: e });
    }
  }
  return missing.reverse();
}

/** Removes these folders (as ensureDir returned them) innermost first, as long as they are empty. */
export function removeEmptyDirs(created: readonly string[]): void {
  for (let i = created.length - 1; i >= 0; i--) {
    try {
      rmdirSync(created[i]!);
    } catch {
      return; // not empty (or gone): the ones above it are not empty either
    }
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

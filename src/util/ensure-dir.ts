import { mkdirSync } from 'node:fs';
import { UserError } from '../errors.js';

/** Creates `dir` and its parents; a folder that cannot be made is a UserError naming it and what it is for. */
export function ensureDir(dir: string, what: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create ${what} ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

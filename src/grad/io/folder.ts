/** Writing a whole folder (a model, an adapter) so that readers never see half of it. */
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { trackTemp, untrackTemp } from '../../util/cleanup.js';

/**
 * Runs `fill` on an empty temporary folder beside `dir`, then replaces `dir` by it; on an error (or a
 * Ctrl-C, through the temp tracker) the temporary folder is removed and `dir` is left as it was.
 */
export async function writeFolderAtomic(dir: string, fill: (tmp: string) => Promise<void> | void): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  trackTemp(tmp);
  try {
    mkdirSync(tmp, { recursive: true });
    await fill(tmp);
    if (existsSync(dir) && statSync(dir).isDirectory()) rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    untrackTemp(tmp);
  }
}

import { UserError } from '../errors.js';
import { ensureDir } from '../util/ensure-dir.js';
import { createProgress } from '../util/progress.js';
import { exists, pointerPath, readTreeCache, snapshotDir, writeRef } from './cache-layout.js';
import { downloadWithSettings } from './download.js';
import { hubRefusal, isDefiniteAnswer, unreachableMiss } from './hub-errors.js';
import { HubHttpError, HubNetworkError } from './http.js';
import { filterRepoPaths } from './patterns.js';
import { commitListing, missError, resolveCommit } from './repo-listing.js';
import { describeRepo, type RepoType } from './repo-id.js';
import { resolveSettings, type HubCallOptions } from './settings.js';
import { repoCall } from './repo-call.js';

export interface SnapshotProgress {
  downloaded: number;
  /** Bytes of the files that were not cached yet. */
  total: number;
  filesDone: number;
  files: number;
}

export interface SnapshotDownloadOptions extends HubCallOptions {
  repoId: string;
  revision?: string;
  repoType?: RepoType;
  /** fnmatch globs; only matching files are fetched (`*.json`, `model.safetensors`, `data/`). */
  allowPatterns?: string | string[];
  ignorePatterns?: string | string[];
  /** Files downloaded at once (default 8, as Python). */
  maxWorkers?: number;
  forceDownload?: boolean;
  onProgress?: (p: SnapshotProgress) => void;
}

async function pool<T>(items: T[], workers: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown = null;
  const run = async (): Promise<void> => {
    while (failed === null && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, items.length)) }, run));
  if (failed !== null) throw failed;
}

/**
 * Downloads the files of a repo at a revision (those matching the patterns) into huggingface_hub's cache
 * and returns the snapshot folder (`…/snapshots/<commit>`), as Python's `snapshot_download`. Offline, or
 * when the hub cannot be reached, the cached snapshot of the revision answers (refs/ for branches and tags);
 * if the cached listing of that commit shows requested files missing from it, that is an error.
 */
export async function snapshotDownload(o: SnapshotDownloadOptions): Promise<string> {
  const s = resolveSettings(o);
  const { ref, revision, c, ctx } = repoCall(s, o);

  const r = await resolveCommit(c, ref, revision, s, ctx);
  if (!r.online) {
    if (r.commit !== null && exists(snapshotDir(c, r.commit))) {
      const listing = readTreeCache(c, r.commit);
      if (listing !== null) {
        const missing = filterRepoPaths(listing.keys(), o.allowPatterns, o.ignorePatterns).filter((p) => !exists(pointerPath(c, r.commit as string, p)));
        if (missing.length > 0) {
          const sample = missing.slice(0, 3).join(', ') + (missing.length > 3 ? `, … (${missing.length - 3} more)` : '');
          const why = r.failure === 'offline' ? 'offline mode is on (HF_HUB_OFFLINE=1)' : `the hub could not be reached (${(r.failure as Error).message})`;
          throw new UserError(
            `The cached snapshot of ${describeRepo(ref)} at revision '${revision}' (commit ${r.commit}) is incomplete: ` +
              `${missing.length} file(s) missing (${sample}), and ${why}. Download it again with network access.`,
          );
        }
      }
      return snapshotDir(c, r.commit);
    }
    throw missError(r.failure, ctx);
  }
  const commit = r.commit as string;

  let listing;
  try {
    listing = await commitListing(c, ref, commit, s);
  } catch (e) {
    if (isDefiniteAnswer(e)) throw hubRefusal(e, ctx);
    if (e instanceof HubHttpError || e instanceof HubNetworkError) throw unreachableMiss(e, ctx);
    throw e;
  }
  const files = filterRepoPaths(listing.keys(), o.allowPatterns, o.ignorePatterns);
  writeRef(c, revision, commit);

  const todo = files.filter((p) => o.forceDownload === true || !exists(pointerPath(c, commit, p)));
  const sizeOf = (p: string) => {
    const e = listing.get(p);
    return e === undefined ? 0 : (e.lfs_size ?? e.size);
  };
  const total = todo.reduce((n, p) => n + sizeOf(p), 0);
  const bar = todo.length > 0
    ? createProgress({ label: `${ref.repoId} (${todo.length} file${todo.length === 1 ? '' : 's'})`, total, unit: 'bytes', quiet: s.quiet, stream: s.progressStream })
    : null;
  let downloaded = 0;
  let filesDone = files.length - todo.length;
  const report = () => {
    bar?.set(downloaded);
    o.onProgress?.({ downloaded, total, filesDone, files: files.length });
  };
  await pool(todo, o.maxWorkers ?? 8, async (filename) => {
    let seen = 0;
    await downloadWithSettings(
      { ...s, quiet: true },
      {
        repoId: ref.repoId,
        repoType: ref.repoType,
        revision: commit,
        filename,
        forceDownload: o.forceDownload,
        onProgress: (p) => {
          downloaded += p.downloaded - seen;
          seen = p.downloaded;
          report();
        },
      },
    );
    // A blob shared with another file (or fetched by another process) arrives without bytes streamed.
    downloaded += sizeOf(filename) - seen;
    filesDone++;
    report();
  });
  bar?.finish();
  ensureDir(snapshotDir(c, commit), 'the snapshot folder');
  return snapshotDir(c, commit);
}

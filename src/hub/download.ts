import { writeFileSync } from 'node:fs';
import { ensureDir } from '../util/ensure-dir.js';
import { dirname } from 'node:path';
import { createProgress } from '../util/progress.js';
import {
  blobPath,
  etagOfTreeEntry,
  exists,
  linkSnapshotFile,
  lockPath,
  noExistPath,
  normalizeEtag,
  pointerPath,
  readRef,
  readTreeCache,
  tagCacheDir,
  writeRef,
  type RepoCache,
} from './cache-layout.js';
import { fetchBlob, tempActivity } from './blob-fetch.js';
import { withFileLock } from './file-lock.js';
import { cacheWriteError, hubRefusal, isDefiniteAnswer, offlineMiss, unreachableMiss, type ErrorContext } from './hub-errors.js';
import { authHeaders, header, hubRequest, HubHttpError, HubNetworkError, throwForStatus } from './http.js';
import { COMMIT_HASH, resolveUrl, validateFilename, type RepoType } from './repo-id.js';
import { resolveSettings, type HubCallOptions, type Settings } from './settings.js';
import { repoCall } from './repo-call.js';

export interface DownloadProgress {
  filename: string;
  downloaded: number;
  total: number;
}

export interface HfHubDownloadOptions extends HubCallOptions {
  repoId: string;
  /** Path inside the repo, `/`-separated. */
  filename: string;
  /** Branch, tag or commit hash (default `main`). */
  revision?: string;
  repoType?: RepoType;
  /** Download again even when the cache has the file. */
  forceDownload?: boolean;
  /** Called as bytes arrive (not called when the cache answers). */
  onProgress?: (p: DownloadProgress) => void;
}

/** What a HEAD on `resolve/` tells about a file. */
interface FileMetadata {
  commit: string;
  etag: string;
  size: number;
  /** Where to GET the bytes (the CDN for LFS files). */
  location: string;
}

/** The hub answered, but not like a Hugging Face hub (no X-Repo-Commit, no ETag, no size). */
class MetadataError extends Error {
  override name = 'MetadataError';
}

async function headMetadata(url: string, s: Settings): Promise<FileMetadata> {
  const res = await hubRequest(url, {
    method: 'HEAD',
    headers: { ...authHeaders(s.token), 'accept-encoding': 'identity' },
    timeoutMs: s.etagTimeoutMs,
    redirects: 'relative',
    minBytesPerSec: s.minBytesPerSec,
  });
  res.body.resume();
  await throwForStatus(res);
  const isRedirect = res.status >= 300 && res.status < 400;
  const commit = header(res.headers, 'x-repo-commit');
  const etag = normalizeEtag(header(res.headers, 'x-linked-etag') ?? header(res.headers, 'etag'));
  const sizeText = header(res.headers, 'x-linked-size') ?? (isRedirect ? null : header(res.headers, 'content-length'));
  const size = sizeText === null ? NaN : Number(sizeText);
  if (commit === null) throw new MetadataError(`${url} answered without an X-Repo-Commit header (is HF_ENDPOINT a Hugging Face hub?)`);
  if (!etag) throw new MetadataError(`${url} answered without an ETag, so the file cannot be cached reliably`);
  if (!Number.isInteger(size) || size < 0) throw new MetadataError(`${url} answered without the file's size`);
  if (/[/\\]/.test(etag) || etag === '.' || etag === '..') throw new MetadataError(`${url} answered with an unusable ETag '${etag}'`);
  const location = header(res.headers, 'location');
  return { commit, etag, size, location: location !== null ? new URL(location, res.url).toString() : res.url };
}

/** Python writes `.no_exist/<commit>/<file>` when the hub says a file is absent; we keep that record too. */
function recordMissing(c: RepoCache, e: HubHttpError, revision: string, filename: string): void {
  const commit = header(e.headers, 'x-repo-commit');
  if (commit === null || !COMMIT_HASH.test(commit)) return;
  try {
    const p = noExistPath(c, commit, filename);
    ensureDir(dirname(p), 'the hub cache folder');
    writeFileSync(p, '');
    writeRef(c, revision, commit);
  } catch {
    /* a read-only cache is fine */
  }
}

const STALE_MS = 30_000;

/**
 * Downloads one file of a hub repo into huggingface_hub's cache and returns the snapshot path
 * (`…/snapshots/<commit>/<filename>`, a symlink into blobs/). The cache answers without any request when
 * the revision is a commit already there; offline (HF_HUB_OFFLINE=1) or when the hub cannot be reached,
 * branches and tags resolve through refs/.
 */
export async function hfHubDownload(o: HfHubDownloadOptions): Promise<string> {
  return downloadWithSettings(resolveSettings(o), o);
}

/** hfHubDownload with the environment already read (snapshot downloads read it once for all files). */
export async function downloadWithSettings(s: Settings, o: Omit<HfHubDownloadOptions, keyof HubCallOptions>): Promise<string> {
  const { ref, revision, c, ctx } = repoCall(s, o, o.filename);
  validateFilename(o.filename);
  const force = o.forceDownload === true;

  // A commit is immutable: if its file is here, nothing needs asking.
  if (COMMIT_HASH.test(revision) && !force && exists(pointerPath(c, revision, o.filename))) {
    return pointerPath(c, revision, o.filename);
  }

  let meta: FileMetadata | null = null;
  let failure: unknown = null;
  if (s.offline) {
    failure = 'offline';
  } else {
    const tree = COMMIT_HASH.test(revision) ? readTreeCache(c, revision) : null;
    const entry = tree?.get(o.filename);
    if (entry !== undefined) {
      // The commit's listing (from a snapshot download) already names the blob: skip the HEAD.
      meta = { commit: revision, etag: etagOfTreeEntry(entry), size: entry.lfs_size ?? entry.size, location: resolveUrl(s.endpoint, ref, revision, o.filename) };
    } else {
      try {
        meta = await headMetadata(resolveUrl(s.endpoint, ref, revision, o.filename), s);
      } catch (e) {
        if (e instanceof HubHttpError && (e.errorCode === 'EntryNotFound' || e.errorCode === 'RevisionNotFound')) {
          if (e.errorCode === 'EntryNotFound') recordMissing(c, e, revision, o.filename);
          throw hubRefusal(e, ctx);
        }
        if (!(e instanceof HubHttpError || e instanceof HubNetworkError || e instanceof MetadataError)) throw e;
        failure = e;
      }
    }
  }

  if (meta === null) {
    // No answer from the hub: the cache may still know this revision.
    const commit = readRef(c, revision);
    if (commit !== null && !force) {
      const p = pointerPath(c, commit, o.filename);
      if (exists(p)) return p;
    }
    if (failure === 'offline') throw offlineMiss(ctx);
    if (isDefiniteAnswer(failure)) throw hubRefusal(failure, ctx);
    throw unreachableMiss(failure, ctx);
  }

  const blob = blobPath(c, meta.etag);
  const pointer = pointerPath(c, meta.commit, o.filename);
  if (!force && exists(pointer)) {
    try {
      writeRef(c, revision, meta.commit);
    } catch {
      /* a read-only cache still answers */
    }
    return pointer;
  }
  const m = meta;
  try {
    await fetchIntoCache(s, o, c, ctx, m, revision, blob, pointer, force);
  } catch (e) {
    throw cacheWriteError(e, ctx);
  }
  return pointer;
}

async function fetchIntoCache(
  s: Settings,
  o: Omit<HfHubDownloadOptions, keyof HubCallOptions>,
  c: RepoCache,
  ctx: ErrorContext,
  m: FileMetadata,
  revision: string,
  blob: string,
  pointer: string,
  force: boolean,
): Promise<void> {
  ensureDir(dirname(blob), 'the hub cache folder');
  tagCacheDir(s.hubCache);
  writeRef(c, revision, m.commit);
  await withFileLock(
    lockPath(c, m.etag),
    async () => {
      if (force || !exists(blob)) {
        const bar = createProgress({ label: o.filename, total: m.size, unit: 'bytes', quiet: s.quiet, stream: s.progressStream });
        let downloaded = 0;
        await fetchBlob({
          staleMs: STALE_MS,
          url: m.location,
          hubHost: new URL(s.endpoint).host,
          blob,
          etag: m.etag,
          size: m.size,
          filename: o.filename,
          ctx,
          s,
          onBytes: (n) => {
            downloaded += n;
            bar.add(n);
            o.onProgress?.({ filename: o.filename, downloaded, total: m.size });
          },
        });
        bar.finish();
      }
      // The snapshot link comes last: whoever sees it can rely on the blob behind it.
      linkSnapshotFile(blob, pointer);
    },
    { staleMs: STALE_MS, activityMs: () => tempActivity(blob), onWait: () => s.quiet || (s.progressStream ?? process.stderr).write(`waiting for another process downloading ${o.filename} (lock ${lockPath(c, m.etag)})\n`) },
  );
}

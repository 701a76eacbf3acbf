import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { readRef, readTreeCache, snapshotDir, writeRef, writeTreeCache, type RepoCache, type TreeEntry } from './cache-layout.js';
import { hubRefusal, isDefiniteAnswer, offlineMiss, unreachableMiss, type ErrorContext } from './hub-errors.js';
import { getJson, HubHttpError, HubNetworkError, nextLink } from './http.js';
import { COMMIT_HASH, describeRepo, repoInfoUrl, treeUrl, type RepoRef, type RepoType } from './repo-id.js';
import { resolveSettings, type HubCallOptions, type Settings } from './settings.js';
import { repoCall } from './repo-call.js';

/** The commit a branch or tag points to now (`HfApi.repo_info(...).sha`). */
export async function fetchCommit(ref: RepoRef, revision: string, s: Settings): Promise<string> {
  const url = repoInfoUrl(s.endpoint, ref, revision);
  const { data } = await getJson(url, s.token, s.etagTimeoutMs, s.minBytesPerSec);
  const sha = (data as { sha?: unknown } | null)?.sha;
  if (typeof sha !== 'string' || !COMMIT_HASH.test(sha)) throw new HubNetworkError(url, `${url} answered without a commit sha`);
  return sha;
}

interface RawTreeEntry {
  type?: string;
  path?: string;
  size?: number;
  oid?: string;
  lfs?: { oid?: string; sha256?: string; size?: number } | null;
  xetHash?: string;
}

/** Every file of a commit (`list_repo_tree(recursive=True)`), following the `Link: rel="next"` pages. */
export async function fetchTree(ref: RepoRef, commit: string, s: Settings): Promise<Map<string, TreeEntry>> {
  const out = new Map<string, TreeEntry>();
  let url: string | null = treeUrl(s.endpoint, ref, commit);
  const seen = new Set<string>();
  for (let page = 0; url !== null; page++) {
    // A next-page link that points back (or pages without end) would be followed forever.
    if (seen.has(url)) throw new HubNetworkError(url, `the tree listing of ${ref.repoId} repeats itself: its next page ${url} was already read`);
    if (page >= s.maxListPages) throw new HubNetworkError(url, `the tree listing of ${ref.repoId} goes on for more than ${s.maxListPages} pages`);
    seen.add(url);
    // the token goes to the hub's own host only, never to a host a next-page link names
    const sameHost = new URL(url).host === new URL(s.endpoint).host;
    const { data, headers } = await getJson(url, sameHost ? s.token : null, s.etagTimeoutMs, s.minBytesPerSec);
    if (!Array.isArray(data)) throw new HubNetworkError(url, `${url} did not answer with a list of files`);
    for (const e of data as RawTreeEntry[]) {
      if (e.type !== 'file' || typeof e.path !== 'string') continue;
      const entry: TreeEntry = { size: e.size ?? 0, blob_id: e.oid ?? '' };
      const sha = e.lfs?.oid ?? e.lfs?.sha256;
      if (e.lfs && sha) {
        entry.lfs_sha256 = sha;
        entry.lfs_size = e.lfs.size ?? e.size ?? 0;
      }
      if (e.xetHash) entry.xet_hash = e.xetHash;
      checkTreeEntry(ref, commit, e.path, entry);
      out.set(e.path, entry);
    }
    const next = nextLink(headers);
    url = next === null ? null : new URL(next, url).toString();
  }
  return out;
}

const PLAIN_NAME = (n: string) => n !== '' && n !== '.' && n !== '..' && !/[/\\\0]/.test(n);

/** A listing names files and blobs that become paths in the cache: a hostile or broken hub must not pick them. */
function checkTreeEntry(ref: RepoRef, commit: string, path: string, e: TreeEntry): void {
  const bad = (what: string) =>
    new UserError(`The hub's file listing of ${describeRepo(ref)} at ${commit} is unusable: ${what}. Nothing was written to the cache.`);
  if (path === '' || path.startsWith('/') || path.includes('\\') || path.split('/').some((p) => !PLAIN_NAME(p))) {
    throw bad(`it names a file ${JSON.stringify(path)}, which is not a plain relative path`);
  }
  for (const [k, v] of [['oid', e.blob_id], ['LFS oid', e.lfs_sha256]] as const) {
    if (v !== undefined && v !== '' && !PLAIN_NAME(v)) throw bad(`the ${k} of ${JSON.stringify(path)} is ${JSON.stringify(v)}, not a hash`);
  }
}

/** The listing of a commit: from trees/<commit>.json when there, else from the hub (then cached). */
export async function commitListing(c: RepoCache, ref: RepoRef, commit: string, s: Settings): Promise<Map<string, TreeEntry>> {
  const cached = readTreeCache(c, commit);
  if (cached !== null) return cached;
  const fresh = await fetchTree(ref, commit, s);
  try {
    writeTreeCache(c, commit, fresh);
  } catch {
    /* a read-only cache just lists again next time */
  }
  return fresh;
}

/** Files present under a snapshot folder (what an offline cache can tell without a listing). */
export function walkSnapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string): void => {
    let names: import('node:fs').Dirent[];
    try {
      names = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const n of names) {
      const rel = prefix === '' ? n.name : `${prefix}/${n.name}`;
      if (n.isDirectory()) walk(join(d, n.name), rel);
      else out.push(rel);
    }
  };
  walk(dir, '');
  return out.sort();
}

/** How a revision resolved: a commit (`online` when the hub answered or was not needed), or why not. */
export interface Resolution {
  commit: string | null;
  online: boolean;
  /** Why the hub could not answer ('offline', a HubHttpError or a HubNetworkError); null when it did. */
  failure: unknown;
}

/**
 * Finds the commit of `revision`: itself when it is a hash, the hub's answer when online, else refs/.
 * "Revision not found" from the hub is final (thrown); other failures fall back to the cache.
 */
export async function resolveCommit(c: RepoCache, ref: RepoRef, revision: string, s: Settings, ctx: ErrorContext): Promise<Resolution> {
  if (COMMIT_HASH.test(revision)) return { commit: revision, online: !s.offline, failure: s.offline ? 'offline' : null };
  let failure: unknown = 'offline';
  if (!s.offline) {
    try {
      return { commit: await fetchCommit(ref, revision, s), online: true, failure: null };
    } catch (e) {
      if (e instanceof HubHttpError && e.errorCode === 'RevisionNotFound') throw hubRefusal(e, ctx);
      if (!(e instanceof HubHttpError || e instanceof HubNetworkError)) throw e;
      failure = e;
    }
  }
  return { commit: readRef(c, revision), online: false, failure };
}

/** The error for "the hub did not answer and the cache cannot either". */
export function missError(failure: unknown, ctx: ErrorContext): UserError {
  if (failure === 'offline') return offlineMiss(ctx);
  if (isDefiniteAnswer(failure)) return hubRefusal(failure, ctx);
  return unreachableMiss(failure, ctx);
}

export interface ListRepoFilesOptions extends HubCallOptions {
  repoId: string;
  revision?: string;
  repoType?: RepoType;
  /** Only files under this folder of the repo (e.g. `data` or `default/train`). */
  pathInRepo?: string;
}

export interface RepoFileInfo {
  path: string;
  /** Null when only the cached snapshot's files were there to tell (offline, no listing cached). */
  size: number | null;
  /** The name its blob has (or will have) in the cache: the LFS sha256, else the git blob id; null as for size. */
  etag: string | null;
  lfs: boolean;
}

/**
 * Every file of a repo at a revision, sorted (for dataset discovery: `refs/convert/parquet` holds
 * `<config>/<split>/0000.parquet`, plain repos `data/<split>-….parquet`). Online it asks the hub (and caches
 * the listing by commit); offline it answers from that listing, or from the files of the cached snapshot.
 */
export async function listRepoTree(o: ListRepoFilesOptions): Promise<RepoFileInfo[]> {
  const s = resolveSettings(o);
  const { ref, revision, c, ctx } = repoCall(s, o);
  const prefix = (o.pathInRepo ?? '').replace(/^\/+|\/+$/g, '');
  const under = (p: string) => prefix === '' || p === prefix || p.startsWith(prefix + '/');

  const r = await resolveCommit(c, ref, revision, s, ctx);
  if (r.commit === null) throw missError(r.failure, ctx);
  let failure = r.failure;
  let listing = readTreeCache(c, r.commit);
  if (listing === null && r.online) {
    try {
      listing = await commitListing(c, ref, r.commit, s);
    } catch (e) {
      if (isDefiniteAnswer(e)) throw hubRefusal(e, ctx);
      if (!(e instanceof HubHttpError || e instanceof HubNetworkError)) throw e;
      failure = e;
    }
  }
  if (listing !== null) {
    if (r.online) {
      try {
        writeRef(c, revision, r.commit);
      } catch {
        /* read-only cache */
      }
    }
    return [...listing.entries()]
      .filter(([p]) => under(p))
      .map(([path, e]) => ({ path, size: e.lfs_size ?? e.size, etag: e.lfs_sha256 ?? e.blob_id, lfs: e.lfs_sha256 !== undefined }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
  // No listing of this commit anywhere: what the cached snapshot holds is the best offline answer.
  const files = walkSnapshot(snapshotDir(c, r.commit)).filter(under);
  if (files.length > 0) return files.map((path) => ({ path, size: null, etag: null, lfs: false }));
  throw missError(failure ?? 'offline', ctx);
}

/** The paths of `listRepoTree`. */
export async function listRepoFiles(o: ListRepoFilesOptions): Promise<string[]> {
  return (await listRepoTree(o)).map((f) => f.path);
}

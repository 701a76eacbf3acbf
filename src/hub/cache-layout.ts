import { existsSync, readFileSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from '../errors.js';
import { COMMIT_HASH, repoFolderName, type RepoRef } from './repo-id.js';
import { writeFileAtomic as writeAtomic } from '../util/atomic-write.js';
import { ensureDir } from '../util/ensure-dir.js';
import { putOwn } from '../util/own.js';

/**
 * huggingface_hub's cache layout, byte for byte, so a Python user's cache serves us and ours serves Python:
 *
 *   <hubCache>/models--org--name/blobs/<etag>                       file contents, named by ETag
 *   <hubCache>/models--org--name/snapshots/<commit>/<path>          relative symlink into ../blobs
 *   <hubCache>/models--org--name/refs/<revision>                     the commit a branch/tag pointed to
 *   <hubCache>/models--org--name/.no_exist/<commit>/<path>           empty: the file is known to be absent
 *   <hubCache>/models--org--name/trees/<commit>.json                 the listing of a commit (format_version 1)
 *   <hubCache>/.locks/models--org--name/<etag>.lock                  download lock
 */
export interface RepoCache {
  hubCache: string;
  /** `<hubCache>/models--org--name`. */
  storage: string;
  folderName: string;
}

export function repoCache(hubCache: string, ref: RepoRef): RepoCache {
  const folderName = repoFolderName(ref);
  return { hubCache, storage: join(hubCache, folderName), folderName };
}

export function blobPath(c: RepoCache, etag: string): string {
  // The ETag comes from the server and becomes a file name: it must be one plain name.
  if (etag === '' || etag === '.' || etag === '..' || /[/\\\0]/.test(etag)) {
    throw new UserError(`The hub named a file of ${c.folderName} by an unusable ETag or LFS oid ${JSON.stringify(etag)} (a blob name cannot hold path characters): refusing to write it into the cache.`);
  }
  return join(c.storage, 'blobs', etag);
}

export function snapshotDir(c: RepoCache, commit: string): string {
  return join(c.storage, 'snapshots', commit);
}

/** The snapshot file; refuses names that would land outside the snapshot folder. */
export function pointerPath(c: RepoCache, commit: string, filename: string): string {
  const base = resolve(c.storage, 'snapshots');
  const p = resolve(base, commit, ...filename.split('/'));
  if (!p.startsWith(base + sep) || filename.split('/').some((s) => s === '..' || s === '.' || s === '')) {
    throw new UserError(`The hub listed a file ${JSON.stringify(filename)} in ${c.folderName} at ${commit} whose name leaves its folder: refusing to write it into the cache.`);
  }
  return p;
}

export function lockPath(c: RepoCache, etag: string): string {
  return join(c.hubCache, '.locks', c.folderName, `${etag}.lock`);
}

export function noExistPath(c: RepoCache, commit: string, filename: string): string {
  return join(c.storage, '.no_exist', commit, ...filename.split('/'));
}

export function treeCachePath(c: RepoCache, commit: string): string {
  return join(c.storage, 'trees', `${commit}.json`);
}

/** Strips `W/` and quotes from an ETag header (`_normalize_etag`). */
export function normalizeEtag(etag: string | null | undefined): string | null {
  if (etag === null || etag === undefined) return null;
  return etag.replace(/^W\//, '').replace(/^"+|"+$/g, '');
}

function tmpSibling(path: string, suffix = '.tmp'): string {
  return `${path}.${randomBytes(4).toString('hex')}${suffix}`;
}

/** util's atomic write, creating the folder first (cache folders appear on demand). */
function writeFileAtomic(path: string, data: string): void {
  ensureDir(dirname(path), 'the hub cache folder');
  writeAtomic(path, data);
}

/** `refs/<revision>`; a revision whose parts would leave the refs folder is refused. */
function refPath(c: RepoCache, revision: string): string {
  const parts = revision.split('/');
  if (parts.some((x) => x === '' || x === '.' || x === '..' || x.includes('\\') || x.includes('\0'))) {
    throw new UserError(`revision ${JSON.stringify(revision)} is not a usable branch or tag name`);
  }
  return join(c.storage, 'refs', ...parts);
}

/**
 * The commit a branch or tag was last seen at, or null; a commit hash resolves to itself. A ref file
 * that does not hold a commit hash (damaged, or written by hand) is an error naming it: its content
 * becomes a folder name, so it is never used as it is.
 */
export function readRef(c: RepoCache, revision: string): string | null {
  if (COMMIT_HASH.test(revision)) return revision;
  const p = refPath(c, revision);
  let commit: string;
  try {
    const st = statSync(p);
    if (!st.isFile()) return null;
    if (st.size > 4096) throw new UserError(`the hub cache's ref file ${p} is ${st.size} bytes, not a commit hash; delete it to look the revision up again`);
    commit = readFileSync(p, 'utf8').trim();
  } catch (e) {
    if (e instanceof UserError) throw e;
    return null;
  }
  if (commit === '') return null;
  if (!COMMIT_HASH.test(commit)) {
    throw new UserError(`the hub cache's ref file ${p} holds ${JSON.stringify(commit.slice(0, 80))}, not a 40-hex commit hash; delete it to look the revision up again`);
  }
  return commit;
}

/** Records `revision → commit` unless the revision is the commit itself (`_cache_commit_hash_for_specific_revision`). */
export function writeRef(c: RepoCache, revision: string, commit: string): void {
  if (revision === commit) return;
  const p = refPath(c, revision);
  try {
    if (readFileSync(p, 'utf8') === commit) return;
  } catch {
    /* absent: write it */
  }
  writeFileAtomic(p, commit);
}

/**
 * Points `pointer` at `blob` with a relative symlink (`../../../blobs/<etag>`, as Python makes on Linux).
 * The link is made under a temp name and renamed over `pointer`, so the snapshot path is never missing or
 * half-made once it has existed.
 */
export function linkSnapshotFile(blob: string, pointer: string): void {
  ensureDir(dirname(pointer), 'the snapshot folder');
  const target = relative(dirname(pointer), blob);
  const tmp = tmpSibling(pointer, '.link');
  symlinkSync(target, tmp);
  try {
    renameSync(tmp, pointer);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** One entry of a commit's listing, as `trees/<commit>.json` stores it. */
export interface TreeEntry {
  size: number;
  blob_id: string;
  lfs_sha256?: string;
  lfs_size?: number;
  xet_hash?: string;
}

const TREE_FORMAT = 1;

/** A commit's listing from the cache, or null when absent, unreadable or of another format. */
export function readTreeCache(c: RepoCache, commit: string): Map<string, TreeEntry> | null {
  try {
    const data = JSON.parse(readFileSync(treeCachePath(c, commit), 'utf8')) as { format_version?: number; files?: Record<string, TreeEntry> };
    if (data.format_version !== TREE_FORMAT || typeof data.files !== 'object' || data.files === null || Array.isArray(data.files)) return null;
    const entries = Object.entries(data.files);
    // A damaged or hand-edited listing is ignored (listed again), never trusted: its ids become file names.
    if (!entries.every(([name, e]) => isRepoFileName(name) && isTreeEntry(e))) return null;
    return new Map(entries);
  } catch {
    return null;
  }
}

/** A repo-relative file name that stays inside its snapshot folder. */
function isRepoFileName(name: string): boolean {
  return name.split('/').every((p) => p !== '' && p !== '.' && p !== '..' && !p.includes('\\') && !p.includes('\0'));
}

function isTreeEntry(e: unknown): e is TreeEntry {
  if (e === null || typeof e !== 'object') return false;
  const t = e as Record<string, unknown>;
  const hex = (v: unknown, n: number) => typeof v === 'string' && v.length === n && /^[0-9a-f]+$/.test(v);
  return (
    Number.isSafeInteger(t.size) && (t.size as number) >= 0 && hex(t.blob_id, 40) &&
    (t.lfs_sha256 === undefined || hex(t.lfs_sha256, 64)) &&
    (t.lfs_size === undefined || (Number.isSafeInteger(t.lfs_size) && (t.lfs_size as number) >= 0)) &&
    (t.xet_hash === undefined || typeof t.xet_hash === 'string')
  );
}

export function writeTreeCache(c: RepoCache, commit: string, entries: Map<string, TreeEntry>): void {
  const files: Record<string, TreeEntry> = {};
  for (const k of [...entries.keys()].sort()) putOwn(files, k, entries.get(k) as TreeEntry);
  writeFileAtomic(treeCachePath(c, commit), JSON.stringify({ format_version: TREE_FORMAT, files }, null, 1));
}

/** The ETag a file will have in blobs/: the LFS sha256 for LFS files, the git blob id otherwise. */
export function etagOfTreeEntry(e: TreeEntry): string {
  return e.lfs_sha256 ?? e.blob_id;
}

/**
 * Marks the cache folder for backup tools (the Cache Directory Tagging standard), as huggingface_hub does
 * before its first download; best effort.
 */
export function tagCacheDir(hubCache: string): void {
  const tag = join(hubCache, 'CACHEDIR.TAG');
  if (existsSync(tag)) return;
  try {
    writeFileAtomic(
      tag,
      'Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag (Hugging Face hub cache).\n# For information about cache directory tags, see:\n#\thttps://bford.info/cachedir/\n',
    );
  } catch {
    /* read-only or racing: either is fine */
  }
}

export function exists(p: string): boolean {
  return existsSync(p);
}

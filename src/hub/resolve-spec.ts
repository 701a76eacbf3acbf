import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { snapshotDownload, type SnapshotDownloadOptions } from './snapshot.js';
import { checkRepoType, DEFAULT_REVISION, validateRepoId, type RepoType } from './repo-id.js';

export type RepoSpec =
  | { kind: 'local'; path: string }
  | { kind: 'hub'; repoId: string; revision: string; repoType: RepoType };

export interface ResolveSpecOptions {
  /** Folder that relative paths are taken from (default process.cwd()). */
  cwd?: string;
  repoType?: RepoType;
}

function isPathLike(spec: string): boolean {
  return spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('~') || spec.includes('\\') || spec.split('/').length > 2;
}

/**
 * Tells a local model/dataset from a hub one, as fusion_bench's `resolve_repo_path`: an existing path is
 * local (after `hf://` / `huggingface://` is stripped); anything else must be a repo id, optionally with
 * `@revision` (`org/name@v1.0`, `org/name@<commit>`).
 */
export function resolveRepoOrPath(spec: string, opts: ResolveSpecOptions = {}): RepoSpec {
  const repoType = checkRepoType(opts.repoType ?? 'model');
  let s = spec.trim();
  if (s === '') throw new UserError(`Empty ${repoType} name: expected a local folder or a Hugging Face repo id like 'org/name'`);
  if (/^modelscope:\/\//.test(s)) throw new UserError(`'${spec}': ModelScope is not supported; use a Hugging Face repo id or a local folder`);
  const viaHubPrefix = /^(hf|huggingface):\/\//.test(s);
  s = s.replace(/^(hf|huggingface):\/\//, '');
  const expanded = s === '~' || s.startsWith('~/') ? homedir() + s.slice(1) : s;
  const abs = isAbsolute(expanded) ? expanded : resolve(opts.cwd ?? process.cwd(), expanded);
  try {
    statSync(abs);
    return { kind: 'local', path: abs };
  } catch {
    /* not a local path: a repo id then */
  }
  const at = s.indexOf('@');
  const repoId = at < 0 ? s : s.slice(0, at);
  const revision = at < 0 ? DEFAULT_REVISION : s.slice(at + 1);
  if (!viaHubPrefix && isPathLike(repoId)) {
    throw new UserError(`${repoType} path '${spec}' does not exist (resolved to ${abs}), and it is not a Hugging Face repo id like 'org/name'`);
  }
  try {
    validateRepoId(repoId);
  } catch (e) {
    throw new UserError(`'${spec}' is neither an existing local path (${abs}) nor a valid Hugging Face repo id: ${(e as Error).message}`);
  }
  if (revision === '') throw new UserError(`'${spec}': empty revision after '@' (expected a branch, tag or commit hash)`);
  return { kind: 'hub', repoId, revision, repoType };
}

/** resolveRepoOrPath, then a local folder as is, or the hub snapshot downloaded into the cache. */
export async function resolveRepoPath(spec: string, opts: ResolveSpecOptions & Omit<SnapshotDownloadOptions, 'repoId' | 'revision' | 'repoType'> = {}): Promise<string> {
  const r = resolveRepoOrPath(spec, opts);
  if (r.kind === 'local') return r.path;
  return snapshotDownload({ ...opts, repoId: r.repoId, revision: r.revision, repoType: r.repoType });
}

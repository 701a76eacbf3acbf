import { repoCache, type RepoCache } from './cache-layout.js';
import type { ErrorContext } from './hub-errors.js';
import { checkRepoType, DEFAULT_REVISION, validateRepoId, type RepoRef, type RepoType } from './repo-id.js';
import type { Settings } from './settings.js';

/** What every hub call works from: the checked repo, the revision asked for, its cache folder and the error context. */
export interface RepoCall {
  ref: RepoRef;
  revision: string;
  c: RepoCache;
  ctx: ErrorContext;
}

export function repoCall(s: Settings, o: { repoId: string; repoType?: RepoType; revision?: string }, filename?: string): RepoCall {
  const ref: RepoRef = { repoId: o.repoId, repoType: checkRepoType(o.repoType ?? 'model') };
  validateRepoId(ref.repoId);
  const revision = o.revision ?? DEFAULT_REVISION;
  const ctx: ErrorContext = { ref, revision, ...(filename !== undefined ? { filename } : {}), endpoint: s.endpoint, hubCache: s.hubCache, tokenSent: s.token !== null };
  return { ref, revision, c: repoCache(s.hubCache, ref), ctx };
}

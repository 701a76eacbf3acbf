import { UserError } from '../errors.js';
import { HubHttpError, HubNetworkError } from './http.js';
import { describeRepo, type RepoRef } from './repo-id.js';

/** What a hub error message needs to name. */
export interface ErrorContext {
  ref: RepoRef;
  revision: string;
  /** Absent for whole-repo calls (snapshot, listing). */
  filename?: string;
  endpoint: string;
  hubCache: string;
  tokenSent: boolean;
}

function what(ctx: ErrorContext): string {
  return ctx.filename === undefined
    ? `${describeRepo(ctx.ref)} at revision '${ctx.revision}'`
    : `file '${ctx.filename}' of ${describeRepo(ctx.ref)} at revision '${ctx.revision}'`;
}

const TOKEN_HINT = 'set HF_TOKEN (or write the token to $HF_HOME/token)';

/** A hub answer that means the request can never work as asked (the repo, revision or file is wrong, or access is denied). */
export function isDefiniteAnswer(e: unknown): e is HubHttpError {
  return e instanceof HubHttpError && (e.errorCode !== null || e.status === 401 || e.status === 403 || e.status === 404);
}

/** The hub said "no" (not found, gated, private, bad token): one message naming the repo, file and revision. */
export function hubRefusal(e: HubHttpError, ctx: ErrorContext): UserError {
  const url = `${ctx.endpoint}/${ctx.ref.repoType === 'model' ? '' : ctx.ref.repoType + 's/'}${ctx.ref.repoId}`;
  const tokenNote = ctx.tokenSent ? 'the token that was sent has no access to it' : 'no token was sent';
  let msg: string;
  if (e.errorCode === 'EntryNotFound') {
    msg = `File '${ctx.filename ?? '?'}' was not found in ${describeRepo(ctx.ref)} at revision '${ctx.revision}' (${ctx.endpoint}).`;
  } else if (e.errorCode === 'RevisionNotFound') {
    msg = `Revision '${ctx.revision}' was not found in ${describeRepo(ctx.ref)} (${ctx.endpoint}): expected a branch, a tag or a commit hash.`;
  } else if (e.errorCode === 'GatedRepo') {
    msg = `${describeRepo(ctx.ref)} is gated (HTTP ${e.status}) so ${what(ctx)} cannot be downloaded: request access at ${url}, then ${TOKEN_HINT}; ${tokenNote}.`;
  } else if (e.status === 401 && e.errorMessage === 'Invalid credentials in Authorization header') {
    msg = `The hub token was rejected by ${ctx.endpoint} while fetching ${what(ctx)}: check HF_TOKEN or $HF_HOME/token.`;
  } else if (e.errorCode === 'RepoNotFound' || e.status === 401 || e.status === 404) {
    const typeHint = ctx.ref.repoType === 'model' ? " (is it a dataset? then the repo type must be 'dataset')" : '';
    msg = `${describeRepo(ctx.ref)} was not found on ${ctx.endpoint} (HTTP ${e.status}) while fetching ${what(ctx)}: check the id${typeHint}; if the repo is private, ${TOKEN_HINT} — ${tokenNote}.`;
  } else if (e.status === 403) {
    msg = `Access to ${what(ctx)} was refused by ${ctx.endpoint} (HTTP 403${e.errorMessage ? `: ${e.errorMessage}` : ''}); ${TOKEN_HINT} with an account that has access — ${tokenNote}.`;
  } else {
    msg = `${ctx.endpoint} answered HTTP ${e.status} for ${what(ctx)}.`;
  }
  return new UserError(msg, { cause: e });
}

/** Offline mode is on and the cache cannot answer. */
export function offlineMiss(ctx: ErrorContext): UserError {
  return new UserError(
    `Cannot find ${what(ctx)} in the local cache (${ctx.hubCache}) and offline mode is on (HF_HUB_OFFLINE=1): ` +
      `download it once with network access, or unset HF_HUB_OFFLINE.`,
  );
}

/** The hub could not be reached (or answered nonsense) and the cache cannot answer. */
export function unreachableMiss(e: unknown, ctx: ErrorContext): UserError {
  const why = e instanceof HubNetworkError || e instanceof HubHttpError || e instanceof Error ? e.message : String(e);
  return new UserError(
    `Cannot download ${what(ctx)}: ${why}; and it is not in the local cache (${ctx.hubCache}). ` +
      `Check the network and HF_ENDPOINT (now ${ctx.endpoint}), or set HF_HUB_OFFLINE=1 to use only cached files.`,
    { cause: e },
  );
}

const CANNOT_WRITE = new Set(['EROFS', 'EACCES', 'EPERM']);

/**
 * A file-system error while writing into the cache, as one message: a cache that cannot be written (a
 * read-only mount, a shared cache owned by someone else) says so and how to use it anyway; a full disk
 * names the cache. Anything else is returned unchanged.
 */
export function cacheWriteError(e: unknown, ctx: ErrorContext): unknown {
  const errno = ((e instanceof UserError ? e.cause : e) ?? null) as NodeJS.ErrnoException | null;
  const code = errno?.code;
  if (code !== undefined && CANNOT_WRITE.has(code)) {
    return new UserError(
      `Cannot download ${what(ctx)}: the hub cache ${ctx.hubCache} is read-only (${code === 'EROFS' ? 'read-only file system' : 'permission denied'}` +
        `${errno?.path ? ` at ${errno.path}` : ''}). ` +
        `Point HF_HUB_CACHE (or HF_HOME) at a writable folder, or set HF_HUB_OFFLINE=1 to use only the files already in it.`,
      { cause: e },
    );
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new UserError(`Cannot download ${what(ctx)}: no space left in the hub cache ${ctx.hubCache} (${code}).`, { cause: e });
  }
  return e;
}

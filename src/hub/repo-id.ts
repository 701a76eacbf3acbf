import { UserError } from '../errors.js';

export type RepoType = 'model' | 'dataset' | 'space';

/** A repository on the hub, as every hub function takes it. */
export interface RepoRef {
  repoId: string;
  repoType: RepoType;
}

export const DEFAULT_REVISION = 'main';

/** A full 40-hex commit id: such a revision never moves, so the cache can answer without asking. */
export const COMMIT_HASH = /^[0-9a-f]{40}$/;

const PART = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

/** The rules of huggingface_hub's `validate_repo_id`, as a UserError naming the id. */
export function validateRepoId(repoId: string): void {
  const why = (msg: string): never => {
    throw new UserError(`Invalid Hugging Face repo id '${repoId}': ${msg}`);
  };
  const parts = repoId.split('/');
  if (parts.length > 2) why("expected 'name' or 'namespace/name'");
  if (repoId.length > 96) why('at most 96 characters');
  for (const p of parts) {
    if (!PART.test(p)) why("use letters, digits, '-', '_' or '.', not starting or ending with '-' or '.'");
  }
  if (repoId.includes('--') || repoId.includes('..')) why("'--' and '..' are not allowed");
  if (repoId.endsWith('.git')) why("it cannot end with '.git'");
}

export function checkRepoType(repoType: string): RepoType {
  if (repoType === 'model' || repoType === 'dataset' || repoType === 'space') return repoType;
  throw new UserError(`Invalid repo type '${repoType}': expected 'model', 'dataset' or 'space'`);
}

/** The cache folder name: `models--org--name`, `datasets--org--name` (file_download.repo_folder_name). */
export function repoFolderName(ref: RepoRef): string {
  return [`${ref.repoType}s`, ...ref.repoId.split('/')].join('--');
}

/** Python's `urllib.parse.quote(s, safe)`: everything but unreserved characters and `safe` is %-escaped. */
export function pyQuote(s: string, safe = '/'): string {
  let out = '';
  for (const ch of s) {
    if (/[A-Za-z0-9_.~-]/.test(ch) || safe.includes(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function urlPrefix(repoType: RepoType): string {
  return repoType === 'model' ? '' : `${repoType}s/`;
}

/** `hf_hub_url`: where a file of a revision is resolved. */
export function resolveUrl(endpoint: string, ref: RepoRef, revision: string, filename: string): string {
  return `${endpoint}/${urlPrefix(ref.repoType)}${ref.repoId}/resolve/${pyQuote(revision, '')}/${pyQuote(filename)}`;
}

/** `HfApi.repo_info` with a revision: `{sha, siblings: [{rfilename}]}`. */
export function repoInfoUrl(endpoint: string, ref: RepoRef, revision: string): string {
  return `${endpoint}/api/${ref.repoType}s/${ref.repoId}/revision/${pyQuote(revision, '')}`;
}

/** `HfApi.list_repo_tree`: a paginated JSON array of entries (`Link: <…>; rel="next"`). */
export function treeUrl(endpoint: string, ref: RepoRef, revision: string, pathInRepo = '', recursive = true): string {
  const path = pathInRepo === '' ? '' : '/' + pyQuote(pathInRepo.replace(/^\/+|\/+$/g, ''));
  return `${endpoint}/api/${ref.repoType}s/${ref.repoId}/tree/${pyQuote(revision, '')}${path}?recursive=${recursive ? 'true' : 'false'}&expand=false`;
}

/** A filename inside a repo must stay inside the snapshot folder (`_get_pointer_path`'s check). */
export function validateFilename(filename: string): void {
  const parts = filename.split('/');
  if (filename === '' || filename.startsWith('/') || parts.some((p) => p === '..' || p === '.' || p === '') || filename.includes('\\')) {
    throw new UserError(`Invalid file name '${filename}' in a Hugging Face repo: expected a relative path like 'dir/file.json', without '..', '.', '\\' or empty parts`);
  }
}

/** How a repo is named in messages: `dataset 'org/name'`, `model 'org/name'`. */
export function describeRepo(ref: RepoRef): string {
  return `${ref.repoType} '${ref.repoId}'`;
}

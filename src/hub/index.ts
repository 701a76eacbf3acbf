// The hub client: downloads into (and reads from) huggingface_hub's own cache layout.
export { readHubEnv, isTrue, DEFAULT_ENDPOINT, type EnvVars, type HubEnv } from './env.js';
export type { HubCallOptions } from './settings.js';
export { hfHubDownload, type HfHubDownloadOptions, type DownloadProgress } from './download.js';
export { snapshotDownload, type SnapshotDownloadOptions, type SnapshotProgress } from './snapshot.js';
export { listRepoFiles, listRepoTree, type ListRepoFilesOptions, type RepoFileInfo } from './repo-listing.js';
export { resolveRepoOrPath, resolveRepoPath, type RepoSpec, type ResolveSpecOptions } from './resolve-spec.js';
export { repoFolderName, validateRepoId, COMMIT_HASH, type RepoType, type RepoRef } from './repo-id.js';
export { filterRepoPaths } from './patterns.js';

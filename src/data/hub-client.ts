/**
 * What dataset loading needs from the Hugging Face hub: the file list of a dataset repo at a revision,
 * and a local path for one of its files (downloaded into huggingface_hub's cache, or found there offline).
 */
import { hfHubDownload, listRepoFiles, type HubCallOptions } from '../hub/index.js';

export interface DatasetRepo {
  repoId: string;
  revision?: string | undefined;
}

export interface DatasetHubClient {
  listRepoFiles(repo: DatasetRepo): Promise<string[]>;
  download(file: DatasetRepo & { filename: string }): Promise<string>;
}

/**
 * The client over src/hub. Settings come from the environment (HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE,
 * HF_HUB_OFFLINE) unless `settings` overrides them.
 */
export function hubClient(settings: HubCallOptions = {}): DatasetHubClient {
  const rev = (r: DatasetRepo): { revision?: string } => (r.revision !== undefined ? { revision: r.revision } : {});
  return {
    listRepoFiles: (r) => listRepoFiles({ ...settings, repoId: r.repoId, repoType: 'dataset', ...rev(r) }),
    download: (f) => hfHubDownload({ ...settings, repoId: f.repoId, repoType: 'dataset', filename: f.filename, ...rev(f) }),
  };
}

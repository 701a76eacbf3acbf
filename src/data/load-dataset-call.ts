/**
 * A config's `_target_: datasets.load_dataset` call, positional `_args_` included
 * (e.g. `_args_: [ufldl-stanford/svhn, cropped_digits]`), mapped onto `loadImageClassificationDataset`.
 * Python's signature: load_dataset(path, name=None, data_dir=None, data_files=None, split=None, …).
 */
import { UserError } from '../errors.js';
import type { DataFilesSpec } from './data-files.js';
import type { LoadDatasetOptions } from './load.js';

const POSITIONAL = ['path', 'name', 'data_dir', 'data_files', 'split'] as const;
// Accepted and without effect here (caching, download and streaming knobs of the Python library).
const IGNORED = new Set(['cache_dir', 'download_mode', 'verification_mode', 'keep_in_memory', 'num_proc', 'trust_remote_code', 'token', 'streaming', 'storage_options', 'download_config', 'save_infos']);

export function loadDatasetOptionsFromCall(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>, where = 'datasets.load_dataset'): LoadDatasetOptions {
  if (args.length > POSITIONAL.length) throw new UserError(`${where}: takes at most ${POSITIONAL.length} positional arguments (${POSITIONAL.join(', ')}), got ${args.length}`);
  const named: Record<string, unknown> = {};
  args.forEach((v, i) => (named[POSITIONAL[i]!] = v));
  for (const [k, v] of Object.entries(kwargs)) {
    if (k in named) throw new UserError(`${where}: '${k}' is given both positionally and by name`);
    named[k] = v;
  }
  const str = (k: string, required: boolean): string | undefined => {
    const v = named[k];
    if (v === undefined || v === null) {
      if (required) throw new UserError(`${where}: '${k}' is required`);
      return undefined;
    }
    if (typeof v !== 'string') throw new UserError(`${where}: '${k}' must be a string, got ${JSON.stringify(v)}`);
    return v;
  };
  const opts: LoadDatasetOptions = { path: str('path', true)!, split: str('split', true)! };
  const name = str('name', false);
  if (name !== undefined) opts.name = name;
  const dataDir = str('data_dir', false);
  if (dataDir !== undefined) opts.data_dir = dataDir;
  const revision = named.revision === undefined || named.revision === null ? undefined : str('revision', false);
  if (revision !== undefined) opts.revision = revision;
  if (named.data_files !== undefined && named.data_files !== null) opts.data_files = named.data_files as DataFilesSpec;
  for (const k of Object.keys(named)) {
    if (!(POSITIONAL as readonly string[]).includes(k) && k !== 'revision' && !IGNORED.has(k)) {
      throw new UserError(`${where}: argument '${k}' is not supported (supported: ${[...POSITIONAL, 'revision'].join(', ')})`);
    }
  }
  return opts;
}

export const FER2013_TARGET = 'fusion_bench.dataset.fer2013.load_fer2013';

/**
 * fusion_bench's `load_fer2013(path="clip-benchmark/wds_fer2013", split="train")`: `load_dataset(path,
 * split=split)` of a WebDataset repo, with its `jpg` / `cls` columns renamed to image / label (and
 * `__key__`, `__url__` dropped). That repo holds tar shards only, so the rows come from the hub's parquet
 * export (see load.ts), which keeps the WebDataset column names: here they are read under those names.
 */
export function fer2013OptionsFromCall(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>, where = FER2013_TARGET): LoadDatasetOptions {
  const params = ['path', 'split'] as const;
  if (args.length > params.length) throw new UserError(`${where}: takes at most ${params.length} positional arguments (${params.join(', ')}), got ${args.length}`);
  const named: Record<string, unknown> = {};
  args.forEach((v, i) => (named[params[i]!] = v));
  for (const [k, v] of Object.entries(kwargs)) {
    if (!(params as readonly string[]).includes(k)) throw new UserError(`${where}: argument '${k}' is not supported (it takes ${params.join(', ')})`);
    if (k in named) throw new UserError(`${where}: '${k}' is given both positionally and by name`);
    named[k] = v;
  }
  named.path ??= 'clip-benchmark/wds_fer2013';
  named.split ??= 'train';
  return { ...loadDatasetOptionsFromCall([], named, where), imageColumn: 'jpg', labelColumn: 'cls' };
}

/**
 * A model directory in transformers' `save_pretrained` layout: `config.json` plus `model.safetensors`
 * (or shards + index above the shard size), each file written under a temporary name and renamed; the
 * safetensors writer removes weight files of an earlier save that the new one does not use.
 */
import { basename, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { parseShardSize, writeSafetensors } from '../tensor/safetensors-write.js';
import { dtypeSize, numel } from '../tensor/dtype.js';
import type { StateDict } from '../tensor/types.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { ensureDir, removeEmptyDirs } from '../util/ensure-dir.js';
import { createProgress } from '../util/progress.js';

/** transformers' default `max_shard_size` ("5GB" = 5·10⁹ bytes). */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

export interface SavePretrainedOptions {
  maxShardBytes?: number;
  /** Where the progress bar draws; null or absent keeps the save quiet. */
  status?: NodeJS.WritableStream | null;
  /** transformers' `push_to_hub`: upload the saved folder (repo id default: the folder's name). */
  pushToHub?: { repoId?: string; commitMessage?: string; token?: string; revision?: string; private: boolean };
}

const SAVE_KWARGS = ['max_shard_size', 'safe_serialization', 'push_to_hub', 'repo_id', 'commit_message', 'private', 'token', 'revision'];

/**
 * `save_pretrained` keyword arguments (a program's `merged_model_save_kwargs`): `max_shard_size` is
 * honoured; `safe_serialization` can only be true (pickles are never written); anything else is refused
 * rather than ignored.
 */
export function savePretrainedOptions(kwargs: Record<string, unknown> | undefined): SavePretrainedOptions {
  for (const k of Object.keys(kwargs ?? {})) {
    if (!SAVE_KWARGS.includes(k)) throw new UserError(`merged_model_save_kwargs.${k}: not an option fusion-bench's save_pretrained takes; it takes ${SAVE_KWARGS.join(', ')}`);
  }
  if (kwargs?.safe_serialization === false) throw new UserError('merged_model_save_kwargs.safe_serialization: false would write a pickle (pytorch_model.bin); fusion-bench writes safetensors only');
  const push = kwargs?.push_to_hub;
  if (push !== undefined && push !== null && typeof push !== 'boolean') throw new UserError(`merged_model_save_kwargs.push_to_hub: expected true or false, got ${JSON.stringify(push)}`);
  const str = (k: string): string | undefined => {
    const v = kwargs?.[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v === '') throw new UserError(`merged_model_save_kwargs.${k}: expected a string, got ${JSON.stringify(v)}`);
    return v;
  };
  const pushOpts = push === true ? { repoId: str('repo_id'), commitMessage: str('commit_message'), token: str('token'), revision: str('revision'), private: kwargs?.private === true } : undefined;
  if (push !== true) for (const k of ['repo_id', 'commit_message', 'private', 'token', 'revision']) if (kwargs?.[k] !== undefined) throw new UserError(`merged_model_save_kwargs.${k} is only used with push_to_hub: true`);
  const size = kwargs?.max_shard_size;
  const out: SavePretrainedOptions = pushOpts ? { pushToHub: pushOpts } : {};
  if (size === undefined || size === null) return out;
  if (typeof size !== 'string' && typeof size !== 'number') throw new UserError(`max_shard_size: expected a size such as "5GB" or a number of bytes, got ${JSON.stringify(size)}`);
  return { ...out, maxShardBytes: parseShardSize(size) };
}

/** Writes `stateDict` (streamed) and `configJson` (already serialised) into `dir`. */
export async function savePretrained(dir: string, stateDict: StateDict, configJson: string | null, opts: SavePretrainedOptions = {}): Promise<string[]> {
  const created = ensureDir(dir, 'the model directory');
  try {
    return await writeModel(dir, stateDict, configJson, opts);
  } catch (e) {
    removeEmptyDirs(created); // a failed save leaves no empty model folder behind
    throw e;
  }
}

async function writeModel(dir: string, stateDict: StateDict, configJson: string | null, opts: SavePretrainedOptions): Promise<string[]> {
  // merged models compute their tensors while they are written, so this is the merge's progress too
  let total = 0;
  for (const n of stateDict.names()) {
    const i = stateDict.info(n);
    total += numel(i.shape) * dtypeSize(i.dtype);
  }
  const bar = createProgress({ label: `Saving ${dir}`, total, unit: 'bytes', stream: opts.status ?? undefined, quiet: (opts.status ?? null) === null });
  let written;
  try {
    written = await writeSafetensors(join(dir, 'model.safetensors'), stateDict, {
      metadata: { format: 'pt' },
      maxShardBytes: opts.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES,
      onProgress: (done) => bar.set(done),
    });
  } finally {
    bar.finish();
  }
  if (configJson !== null) writeFileAtomic(join(dir, 'config.json'), configJson);
  if (opts.pushToHub) {
    const p = opts.pushToHub;
    const repoId = p.repoId ?? basename(resolve(dir));
    const { uploadFolder } = await import('../hub/upload.js');
    const r = await uploadFolder({ repoId, folder: dir, commitMessage: p.commitMessage, revision: p.revision, private: p.private, ...(p.token !== undefined ? { token: p.token } : {}) });
    opts.status?.write(`Pushed ${r.files.length} files to the hub repository ${repoId}${r.commitUrl ? ` (${r.commitUrl})` : ''}\n`);
  }
  return [...written.files, ...(written.indexPath ? [written.indexPath] : [])];
}

/**
 * A model directory in transformers' `save_pretrained` layout: `config.json` plus `model.safetensors`
 * (or shards + index above the shard size), each file written under a temporary name and renamed; the
 * safetensors writer removes weight files of an earlier save that the new one does not use.
 */
import { join } from 'node:path';
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
}

const SAVE_KWARGS = ['max_shard_size', 'safe_serialization', 'push_to_hub'];

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
  if (kwargs?.push_to_hub === true) {
    throw new UserError('merged_model_save_kwargs.push_to_hub: uploading to the hub is not supported yet; the model is saved locally at merged_model_save_path (upload it with `huggingface-cli upload`)');
  }
  const size = kwargs?.max_shard_size;
  if (size === undefined || size === null) return {};
  if (typeof size !== 'string' && typeof size !== 'number') throw new UserError(`max_shard_size: expected a size such as "5GB" or a number of bytes, got ${JSON.stringify(size)}`);
  return { maxShardBytes: parseShardSize(size) };
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
  return [...written.files, ...(written.indexPath ? [written.indexPath] : [])];
}

/**
 * A model directory in transformers' `save_pretrained` layout: `config.json` plus `model.safetensors`
 * (or shards + index above the shard size), each file written under a temporary name and renamed; the
 * safetensors writer removes weight files of an earlier save that the new one does not use.
 */
import { mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { writeSafetensors } from '../tensor/safetensors-write.js';
import type { StateDict } from '../tensor/types.js';

/** transformers' default `max_shard_size` ("5GB" = 5·10⁹ bytes). */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
}

export interface SavePretrainedOptions {
  maxShardBytes?: number;
}

/** Writes `stateDict` (streamed) and `configJson` (already serialised) into `dir`. */
export async function savePretrained(dir: string, stateDict: StateDict, configJson: string | null, opts: SavePretrainedOptions = {}): Promise<string[]> {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create the model directory ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const written = await writeSafetensors(join(dir, 'model.safetensors'), stateDict, {
    metadata: { format: 'pt' },
    maxShardBytes: opts.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES,
  });
  if (configJson !== null) writeFileAtomic(join(dir, 'config.json'), configJson);
  return [...written.files, ...(written.indexPath ? [written.indexPath] : [])];
}

/**
 * Reading a float32 tensor into a caller's buffer. The StateDict contract hands out a fresh array per
 * `loadF32`, and allocating fresh memory costs more than the read itself (page faults on ~350 MB per
 * ViT-B/32 model: ~1 s against ~0.05 s into a reused buffer), so merging reads the tensors it only
 * reads into scratch buffers where the state dict can fill one (safetensors files and sharded
 * checkpoints can, widening float16/bfloat16 on the way); anything else falls back to `loadF32`.
 */
import type { ReadBatch } from '../tensor/io/read-batch.js';
import type { PieceFile } from '../tensor/io/read-helper.js';
import type { StateDict } from '../tensor/types.js';

/**
 * A StateDict that can also fill a given buffer (which must hold at least the tensor's values). Given a
 * batch, a file-backed one may queue its reads there: the values are in `out` once the batch has run.
 */
export interface ReadIntoStateDict extends StateDict {
  /** Fills `out` (its first numel values) and returns the view of them. */
  loadF32Into(name: string, out: Float32Array, batch?: ReadBatch): Float32Array;
  /** Fills `out` with the flat tensor's values from `start` on (files can; computed tensors cannot). */
  loadF32RangeInto?(name: string, start: number, out: Float32Array, batch?: ReadBatch): Float32Array;
  /**
   * Where tensor `name`'s values lie in a file, when reading them there (float32, or float16/bfloat16
   * widened) gives exactly what loadF32 gives: a helper thread may then read and use pieces itself.
   * Null when not (computed tensors, other dtypes, a view that rounds).
   */
  pieceFile?(name: string): PieceFile | null;
}

export function pieceFileOf(sd: StateDict, name: string): PieceFile | null {
  const f = (sd as Partial<ReadIntoStateDict>).pieceFile;
  return typeof f === 'function' ? f.call(sd, name) : null;
}

/** A state dict that reads pieces of tensors. */
export type RangeReadStateDict = ReadIntoStateDict & Required<Pick<ReadIntoStateDict, 'loadF32RangeInto'>>;

export function canReadRanges(sd: StateDict): sd is RangeReadStateDict {
  return canReadInto(sd) && typeof sd.loadF32RangeInto === 'function';
}

export function canReadInto(sd: StateDict): sd is ReadIntoStateDict {
  return typeof (sd as Partial<ReadIntoStateDict>).loadF32Into === 'function';
}

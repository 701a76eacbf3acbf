/**
 * The tensor boundary every other layer talks to: a state dict whose tensors are read (or computed) one
 * at a time, so that merging holds a few tensors per model in memory, never whole models.
 */

/** safetensors dtype names. */
export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL' | 'U16' | 'U32' | 'U64';

export interface TensorInfo {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** A tensor held in memory: `data` is row-major, in float32 whatever the dtype it came from or goes to. */
export interface Tensor extends TensorInfo {
  readonly data: Float32Array;
}

/**
 * Name → tensor, loaded lazily. `names()` is in the checkpoint's order. `loadF32` converts floating
 * dtypes to float32 (integer tensors too, where they fit exactly, for buffers such as position_ids).
 * Implementations: a safetensors file or sharded checkpoint on disk, an in-memory dict, a merge whose
 * `loadF32` computes the merged tensor on demand.
 * Every `loadF32` / `loadRaw` call returns a fresh array that the caller owns and may modify.
 */
export interface StateDict {
  names(): readonly string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  loadF32(name: string): Float32Array;
  /**
   * Optional: the tensor's stored bytes, little-endian, in `info(name).dtype` (exact, no conversion).
   * Writers use it to copy tensors whose dtype does not change (e.g. int64 position_ids) bit for bit.
   */
  loadRaw?(name: string): Uint8Array;
  /** Frees file handles or caches; a closed state dict must not be used again. */
  close?(): void;
}

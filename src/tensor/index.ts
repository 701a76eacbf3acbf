/** The tensor layer's public surface: dtypes, lazy state dicts, safetensors reading and writing. */
export type { DType, Tensor, TensorInfo, StateDict } from './types.js';
export {
  DTYPES, DTYPE_SIZES, dtypeSize, isDType, isFloatDType, numel, decodeToF32, encodeFromF32,
  f16ToF32, f32ToF16, bf16ToF32, f32ToBf16, f64ToF32, f32ToF64,
} from './dtype.js';
export { openSafetensors, SafetensorsFile, MAX_HEADER_BYTES, type SafetensorsEntry } from './safetensors-read.js';
export { openCheckpoint, ShardedCheckpoint, SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME, type Checkpoint } from './checkpoint.js';
export {
  writeSafetensors, writeSafetensorsSync, parseShardSize, type WriteSafetensorsOptions, type WrittenCheckpoint,
} from './safetensors-write.js';
export { MemoryStateDict, makeTensor, materialize, stateDictFromArrays } from './memory-state-dict.js';

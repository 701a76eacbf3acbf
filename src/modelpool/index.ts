/** Model pools by fusion_bench's names, for the registry. */
import { BaseModelPool } from './base-pool.js';
import { CLIPVisionModelPool } from './clip-vision-pool.js';

export { BaseModelPool, type BaseModelPoolConfig } from './base-pool.js';
export { CLIPVisionModelPool, type CLIPVisionModelPoolConfig } from './clip-vision-pool.js';
export { isModel, type Model, type ModelConfig } from './model.js';
export { resolveModelDir, setHubResolver } from './resolve-model-dir.js';

export const MODELPOOLS = {
  'fusion_bench.modelpool.BaseModelPool': BaseModelPool,
  'fusion_bench.modelpool.base_pool.BaseModelPool': BaseModelPool,
  'fusion_bench.modelpool.CLIPVisionModelPool': CLIPVisionModelPool,
  'fusion_bench.modelpool.clip_vision.CLIPVisionModelPool': CLIPVisionModelPool,
  'fusion_bench.modelpool.clip_vision.modelpool.CLIPVisionModelPool': CLIPVisionModelPool,
} as const;

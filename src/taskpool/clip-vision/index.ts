/** fusion_bench's CLIPVisionModelTaskPool and its pieces. */
export { CLIPVisionModelTaskPool, type TaskPoolStats } from './taskpool.js';
export type { CLIPVisionModelTaskPoolConfig, TaskPoolOptions } from './options.js';
export { computeZeroShotHead, zeroShotLogits, type ZeroShotHead } from './zero-shot-head.js';
export { ClassificationMetrics, type TaskResult } from './metrics.js';
export { buildReport, modelInfo, type ModelInfo, type TaskPoolReport } from './report.js';
export { PretrainedClip } from './pretrained-clip.js';

import { CLIPVisionModelTaskPool } from './taskpool.js';

/** The task pool by fusion_bench's names, for the registry (params: test_datasets is the one positional). */
export const CLIP_VISION_TASKPOOLS = {
  'fusion_bench.taskpool.CLIPVisionModelTaskPool': CLIPVisionModelTaskPool,
  'fusion_bench.taskpool.clip_vision.CLIPVisionModelTaskPool': CLIPVisionModelTaskPool,
  'fusion_bench.taskpool.clip_vision.taskpool.CLIPVisionModelTaskPool': CLIPVisionModelTaskPool,
} as const;

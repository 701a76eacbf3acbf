/** Merging methods by fusion_bench's names (the `_target_` of its method configs), for the registry. */
import type { MergeAlgorithmClass } from './base.js';
import { DareSimpleAverage } from './dare/simple-average.js';
import { DareTaskArithmetic } from './dare/task-arithmetic.js';
import { DareTiesMerging } from './dare/ties-merging.js';
import { DummyAlgorithm } from './dummy.js';
import { LinearInterpolationAlgorithm } from './linear-interpolation.js';
import { MagMaxAlgorithm } from './magmax.js';
import { ModelStock } from './model-stock.js';
import { SimpleAverageAlgorithm } from './simple-average.js';
import { SlerpMergeAlgorithm } from './slerp.js';
import { TaskArithmeticAlgorithm } from './task-arithmetic.js';
import { TiesMergingAlgorithm } from './ties-merging.js';
import { WeightedAverageAlgorithm } from './weighted-average.js';
import { CLIPLayerWiseAdaMergingAlgorithm, CLIPTaskWiseAdaMergingAlgorithm } from './gradient/adamerging-clip.js';
import { FisherMergingForCLIPVisionModel } from './gradient/fisher-merging-clip.js';
import { ImageClassificationFineTuningForCLIP } from './gradient/clip-finetune.js';

export type { MergeAlgorithm, MergeAlgorithmClass } from './base.js';
export type { PoolInput } from './sources.js';
export {
  DareSimpleAverage, DareTaskArithmetic, DareTiesMerging, DummyAlgorithm, LinearInterpolationAlgorithm, MagMaxAlgorithm, ModelStock,
  SimpleAverageAlgorithm, SlerpMergeAlgorithm, TaskArithmeticAlgorithm, TiesMergingAlgorithm, WeightedAverageAlgorithm,
};

/** Every name fusion_bench exports each class under (`fusion_bench.method.X` and its module path). */
export const METHODS: Readonly<Record<string, MergeAlgorithmClass>> = {
  'fusion_bench.method.DummyAlgorithm': DummyAlgorithm,
  'fusion_bench.method.dummy.DummyAlgorithm': DummyAlgorithm,
  'fusion_bench.method.SimpleAverageAlgorithm': SimpleAverageAlgorithm,
  'fusion_bench.method.simple_average.SimpleAverageAlgorithm': SimpleAverageAlgorithm,
  'fusion_bench.method.WeightedAverageAlgorithm': WeightedAverageAlgorithm,
  'fusion_bench.method.weighted_average.WeightedAverageAlgorithm': WeightedAverageAlgorithm,
  'fusion_bench.method.weighted_average.weighted_average.WeightedAverageAlgorithm': WeightedAverageAlgorithm,
  'fusion_bench.method.TaskArithmeticAlgorithm': TaskArithmeticAlgorithm,
  'fusion_bench.method.task_arithmetic.TaskArithmeticAlgorithm': TaskArithmeticAlgorithm,
  'fusion_bench.method.task_arithmetic.task_arithmetic.TaskArithmeticAlgorithm': TaskArithmeticAlgorithm,
  'fusion_bench.method.TiesMergingAlgorithm': TiesMergingAlgorithm,
  'fusion_bench.method.ties_merging.TiesMergingAlgorithm': TiesMergingAlgorithm,
  'fusion_bench.method.ties_merging.ties_merging.TiesMergingAlgorithm': TiesMergingAlgorithm,
  'fusion_bench.method.DareSimpleAverage': DareSimpleAverage,
  'fusion_bench.method.dare.DareSimpleAverage': DareSimpleAverage,
  'fusion_bench.method.dare.simple_average.DareSimpleAverage': DareSimpleAverage,
  'fusion_bench.method.DareTaskArithmetic': DareTaskArithmetic,
  'fusion_bench.method.dare.DareTaskArithmetic': DareTaskArithmetic,
  'fusion_bench.method.dare.task_arithmetic.DareTaskArithmetic': DareTaskArithmetic,
  'fusion_bench.method.DareTiesMerging': DareTiesMerging,
  'fusion_bench.method.dare.DareTiesMerging': DareTiesMerging,
  'fusion_bench.method.dare.ties_merging.DareTiesMerging': DareTiesMerging,
  'fusion_bench.method.MagMaxAlgorithm': MagMaxAlgorithm,
  'fusion_bench.method.magmax.MagMaxAlgorithm': MagMaxAlgorithm,
  'fusion_bench.method.magmax.magmax.MagMaxAlgorithm': MagMaxAlgorithm,
  'fusion_bench.method.LinearInterpolationAlgorithm': LinearInterpolationAlgorithm,
  'fusion_bench.method.linear.LinearInterpolationAlgorithm': LinearInterpolationAlgorithm,
  'fusion_bench.method.linear.linear_interpolation.LinearInterpolationAlgorithm': LinearInterpolationAlgorithm,
  'fusion_bench.method.SlerpMergeAlgorithm': SlerpMergeAlgorithm,
  'fusion_bench.method.slerp.SlerpMergeAlgorithm': SlerpMergeAlgorithm,
  'fusion_bench.method.slerp.slerp.SlerpMergeAlgorithm': SlerpMergeAlgorithm,
  'fusion_bench.method.ModelStock': ModelStock,
  'fusion_bench.method.model_stock.ModelStock': ModelStock,
  'fusion_bench.method.model_stock.model_stock.ModelStock': ModelStock,
  'fusion_bench.method.CLIPTaskWiseAdaMergingAlgorithm': CLIPTaskWiseAdaMergingAlgorithm,
  'fusion_bench.method.adamerging.CLIPTaskWiseAdaMergingAlgorithm': CLIPTaskWiseAdaMergingAlgorithm,
  'fusion_bench.method.adamerging.clip_task_wise_adamerging.CLIPTaskWiseAdaMergingAlgorithm': CLIPTaskWiseAdaMergingAlgorithm,
  'fusion_bench.method.CLIPLayerWiseAdaMergingAlgorithm': CLIPLayerWiseAdaMergingAlgorithm,
  'fusion_bench.method.adamerging.CLIPLayerWiseAdaMergingAlgorithm': CLIPLayerWiseAdaMergingAlgorithm,
  'fusion_bench.method.adamerging.clip_layer_wise_adamerging.CLIPLayerWiseAdaMergingAlgorithm': CLIPLayerWiseAdaMergingAlgorithm,
  'fusion_bench.method.FisherMergingForCLIPVisionModel': FisherMergingForCLIPVisionModel,
  'fusion_bench.method.fisher_merging.FisherMergingForCLIPVisionModel': FisherMergingForCLIPVisionModel,
  'fusion_bench.method.fisher_merging.clip_fisher_merging.FisherMergingForCLIPVisionModel': FisherMergingForCLIPVisionModel,
  'fusion_bench.method.ImageClassificationFineTuningForCLIP': ImageClassificationFineTuningForCLIP,
  'fusion_bench.method.classification.ImageClassificationFineTuningForCLIP': ImageClassificationFineTuningForCLIP,
  'fusion_bench.method.classification.clip_finetune.ImageClassificationFineTuningForCLIP': ImageClassificationFineTuningForCLIP,
};

/** Merging methods by fusion_bench's names (the `_target_` of its method configs), for the registry. */
import type { MergeAlgorithmClass } from './base.js';
import type { Model } from '../modelpool/model.js';
import type { MergeResult } from './result.js';
import { DareSimpleAverage } from './dare/simple-average.js';
import { DareTaskArithmetic } from './dare/task-arithmetic.js';
import { DareTiesMerging } from './dare/ties-merging.js';
import { DummyAlgorithm } from './dummy.js';
import { MaxModelPredictorAlgorithm, SimpleEnsembleAlgorithm, WeightedEnsembleAlgorithm } from './ensemble.js';
import { LinearInterpolationAlgorithm } from './linear-interpolation.js';
import { MagMaxAlgorithm } from './magmax.js';
import { ModelStock } from './model-stock.js';
import { SimpleAverageAlgorithm } from './simple-average.js';
import { SlerpMergeAlgorithm } from './slerp.js';
import { EMRMerging } from './emr-merging.js';
import { WUDIMerging } from './wudi.js';
import { IsotropicMergingInCommonAndTaskSubspace, IsotropicMergingInCommonSubspace, TaskSingularVectorMerging } from './svd-merging.js';
import { TallMaskTaskArithmeticAlgorithm } from './tall-mask.js';
import { TaskArithmeticAlgorithm } from './task-arithmetic.js';
import { TiesMergingAlgorithm } from './ties-merging.js';
import { WeightedAverageAlgorithm } from './weighted-average.js';
import { CLIPLayerWiseAdaMergingAlgorithm, CLIPTaskWiseAdaMergingAlgorithm } from './gradient/adamerging-clip.js';
import { FisherMergingForCLIPVisionModel } from './gradient/fisher-merging-clip.js';
import { ImageClassificationFineTuningForCLIP } from './gradient/clip-finetune.js';
import { RegMeanAlgorithmForCLIP } from './regmean/clip-regmean.js';

export type { MergeAlgorithm, MergeAlgorithmClass } from './base.js';
export type { PoolInput } from './sources.js';
export type { ParamDef } from './param-def.js';
export { Ensemble, PerTaskModels, type MergeResult } from './result.js';
export {
  DareSimpleAverage, DareTaskArithmetic, DareTiesMerging, DummyAlgorithm, LinearInterpolationAlgorithm, MagMaxAlgorithm, ModelStock,
  SimpleAverageAlgorithm, SlerpMergeAlgorithm, TaskArithmeticAlgorithm, TiesMergingAlgorithm, WeightedAverageAlgorithm,
  MaxModelPredictorAlgorithm, SimpleEnsembleAlgorithm, WeightedEnsembleAlgorithm, TallMaskTaskArithmeticAlgorithm,
  TaskSingularVectorMerging, IsotropicMergingInCommonSubspace, IsotropicMergingInCommonAndTaskSubspace, WUDIMerging, EMRMerging,
  RegMeanAlgorithmForCLIP,
};

/** Every name fusion_bench exports each class under (`fusion_bench.method.X` and its module path). */
export const METHODS: Readonly<Record<string, MergeAlgorithmClass<Model | MergeResult>>> = {
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
  'fusion_bench.method.SimpleEnsembleAlgorithm': SimpleEnsembleAlgorithm,
  'fusion_bench.method.ensemble.SimpleEnsembleAlgorithm': SimpleEnsembleAlgorithm,
  'fusion_bench.method.WeightedEnsembleAlgorithm': WeightedEnsembleAlgorithm,
  'fusion_bench.method.ensemble.WeightedEnsembleAlgorithm': WeightedEnsembleAlgorithm,
  'fusion_bench.method.MaxModelPredictorAlgorithm': MaxModelPredictorAlgorithm,
  'fusion_bench.method.ensemble.MaxModelPredictorAlgorithm': MaxModelPredictorAlgorithm,
  'fusion_bench.method.tall_mask.TallMaskTaskArithmeticAlgorithm': TallMaskTaskArithmeticAlgorithm,
  'fusion_bench.method.TallMaskTaskArithmeticAlgorithm': TallMaskTaskArithmeticAlgorithm,
  'fusion_bench.method.tall_mask.task_arithmetic.TallMaskTaskArithmeticAlgorithm': TallMaskTaskArithmeticAlgorithm,
  'fusion_bench.method.TaskSingularVectorMerging': TaskSingularVectorMerging,
  'fusion_bench.method.task_singular_vector.TaskSingularVectorMerging': TaskSingularVectorMerging,
  'fusion_bench.method.task_singular_vector.TSVM.TaskSingularVectorMerging': TaskSingularVectorMerging,
  'fusion_bench.method.IsotropicMergingInCommonSubspace': IsotropicMergingInCommonSubspace,
  'fusion_bench.method.ISO_C_Merge': IsotropicMergingInCommonSubspace,
  'fusion_bench.method.isotropic_merging.ISO_C_Merge': IsotropicMergingInCommonSubspace,
  'fusion_bench.method.isotropic_merging.IsotropicMergingInCommonSubspace': IsotropicMergingInCommonSubspace,
  'fusion_bench.method.isotropic_merging.iso.IsotropicMergingInCommonSubspace': IsotropicMergingInCommonSubspace,
  'fusion_bench.method.IsotropicMergingInCommonAndTaskSubspace': IsotropicMergingInCommonAndTaskSubspace,
  'fusion_bench.method.ISO_CTS_Merge': IsotropicMergingInCommonAndTaskSubspace,
  'fusion_bench.method.isotropic_merging.ISO_CTS_Merge': IsotropicMergingInCommonAndTaskSubspace,
  'fusion_bench.method.isotropic_merging.IsotropicMergingInCommonAndTaskSubspace': IsotropicMergingInCommonAndTaskSubspace,
  'fusion_bench.method.isotropic_merging.iso.IsotropicMergingInCommonAndTaskSubspace': IsotropicMergingInCommonAndTaskSubspace,
  'fusion_bench.method.WUDIMerging': WUDIMerging,
  'fusion_bench.method.wudi.WUDIMerging': WUDIMerging,
  'fusion_bench.method.wudi.wudi.WUDIMerging': WUDIMerging,
  'fusion_bench.method.emr_merging.EMRMerging': EMRMerging,
  'fusion_bench.method.emr_merging.emr_merging.EMRMerging': EMRMerging,
  'fusion_bench.method.CLIPTaskWiseAdaMergingAlgorithm': CLIPTaskWiseAdaMergingAlgorithm,
  'fusion_bench.method.adamerging.CLIPTaskWiseAdaMergingAlgorithm': CLIPTaskWiseAdaMergingAlgorithm,
  'fusion_bench.method.adamerging.clip_task_wise_adamerging.CLIPTaskWiseAdaMergingAlgorithm': CLIPTaskWiseAdaMergingAlgorithm,
  'fusion_bench.method.CLIPLayerWiseAdaMergingAlgorithm': CLIPLayerWiseAdaMergingAlgorithm,
  'fusion_bench.method.adamerging.CLIPLayerWiseAdaMergingAlgorithm': CLIPLayerWiseAdaMergingAlgorithm,
  'fusion_bench.method.adamerging.clip_layer_wise_adamerging.CLIPLayerWiseAdaMergingAlgorithm': CLIPLayerWiseAdaMergingAlgorithm,
  'fusion_bench.method.FisherMergingForCLIPVisionModel': FisherMergingForCLIPVisionModel,
  'fusion_bench.method.fisher_merging.FisherMergingForCLIPVisionModel': FisherMergingForCLIPVisionModel,
  'fusion_bench.method.fisher_merging.clip_fisher_merging.FisherMergingForCLIPVisionModel': FisherMergingForCLIPVisionModel,
  'fusion_bench.method.RegMeanAlgorithmForCLIP': RegMeanAlgorithmForCLIP,
  'fusion_bench.method.regmean.RegMeanAlgorithmForCLIP': RegMeanAlgorithmForCLIP,
  'fusion_bench.method.regmean.clip_regmean.RegMeanAlgorithmForCLIP': RegMeanAlgorithmForCLIP,
  'fusion_bench.method.ImageClassificationFineTuningForCLIP': ImageClassificationFineTuningForCLIP,
  'fusion_bench.method.classification.ImageClassificationFineTuningForCLIP': ImageClassificationFineTuningForCLIP,
  'fusion_bench.method.classification.clip_finetune.ImageClassificationFineTuningForCLIP': ImageClassificationFineTuningForCLIP,
};

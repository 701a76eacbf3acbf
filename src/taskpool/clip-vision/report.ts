/**
 * The report in fusion_bench's shape and key order: `model_info`, one `{accuracy, loss}` per task in
 * config order, then `average` (the mean of the task accuracies and of the task losses).
 */
import type { StateDict } from '../../tensor/types.js';
import type { TaskResult } from './metrics.js';
import { putOwn } from '../../util/own.js';

export interface ModelInfo {
  trainable_params: number;
  all_params: number;
  trainable_percentage: number;
  name?: string;
}

export type TaskPoolReport = Record<string, ModelInfo | TaskResult | Partial<TaskResult>>;

/**
 * count_parameters over the evaluated vision model (the module fusion_bench puts in place of
 * `clip_model.vision_model`): its `vision_model.*` parameter tensors, position_ids buffers excluded; a
 * whole CLIPModel checkpoint thus counts only its vision tower. A model from a pool has requires_grad
 * set throughout, so all of them are trainable.
 */
export function modelInfo(sd: StateDict, name?: string): ModelInfo {
  let all = 0;
  for (const n of sd.names()) {
    if (!n.startsWith('vision_model.') || n.endsWith('.position_ids')) continue;
    all += sd.info(n).shape.reduce((a, b) => a * b, 1);
  }
  const info: ModelInfo = { trainable_params: all, all_params: all, trainable_percentage: all > 0 ? 1.0 : NaN };
  if (name !== undefined) info.name = name;
  return info;
}

/** The parameter counts of several models together (an ensemble's members). */
export function modelInfoSum(infos: readonly ModelInfo[], name?: string): ModelInfo {
  const all = infos.reduce((s, i) => s + i.all_params, 0);
  const info: ModelInfo = { trainable_params: all, all_params: all, trainable_percentage: all > 0 ? 1.0 : NaN };
  if (name !== undefined) info.name = name;
  return info;
}

export function buildReport(info: ModelInfo, results: ReadonlyArray<readonly [string, TaskResult]>): TaskPoolReport {
  const report: TaskPoolReport = { model_info: info };
  for (const [task, r] of results) putOwn(report as Record<string, unknown>, task, { accuracy: r.accuracy, loss: r.loss });
  // fusion_bench skips the average when a task is itself named "average".
  if (!Object.hasOwn(report, 'average')) {
    const avg: Partial<TaskResult> = {};
    if (results.length > 0) {
      avg.accuracy = results.reduce((s, [, r]) => s + r.accuracy, 0) / results.length;
      avg.loss = results.reduce((s, [, r]) => s + r.loss, 0) / results.length;
    }
    report.average = avg;
  }
  return report;
}

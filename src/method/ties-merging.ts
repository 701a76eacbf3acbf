/**
 * fusion_bench's TiesMergingAlgorithm: θ₀ + λ·TIES(τ₁…τₙ) (see ties-core.ts). `remove_keys` leave the
 * merge and keep their pretrained values: fusion_bench drops them from the merged state dict and then
 * fails to load it strictly, so keeping θ₀ is what it evidently means.
 */
import type { Model } from '../modelpool/model.js';
import { baseAddScaled } from './f32.js';
import { Params } from './params.js';
import { isMerged, loadTaskVectorSources, mergedModel, Scratch, type PoolInput, type Source, type SourceSet } from './sources.js';
import { keepFraction, TiesMerger, trimThresholds, type TaskVectorReader, type TiesMergeFunc } from './ties-core.js';
import { taskVectorReader } from './task-vectors.js';

const NAME = 'TiesMergingAlgorithm';
const MERGE_FUNCS: readonly TiesMergeFunc[] = ['sum', 'mean', 'max'];

export interface TiesOptions {
  readonly scaling_factor: number;
  readonly threshold: number;
  readonly remove_keys: readonly string[];
  readonly merge_func: TiesMergeFunc;
}

/** Reads the TIES keys of a method config (shared with DareTiesMerging). */
export function tiesOptions(p: Params, merge_func_default?: TiesMergeFunc): TiesOptions {
  return {
    scaling_factor: p.number('scaling_factor'),
    threshold: p.number('threshold', { min: 0, max: 100 }),
    remove_keys: p.stringList('remove_keys'),
    // fusion_bench keeps the part after the last '-' ("dis-mean" → "mean").
    merge_func: p.oneOf('merge_func', MERGE_FUNCS, merge_func_default, (s) => s.split('-').at(-1)!),
  };
}

/** The tensors TIES merges: floating ones not in `remove_keys`. */
export function tiesNames(base: Source, removeKeys: readonly string[]): string[] {
  const removed = new Set(removeKeys);
  const sd = base.model.stateDict;
  return sd.names().filter((n) => !removed.has(n) && isMerged(sd.info(n)));
}

/** First pass (thresholds), then the lazy merged model. */
export function tiesMerge(owner: string, set: SourceSet, base: Source, reader: TaskVectorReader, opts: TiesOptions): Model {
  const thresholds = trimThresholds(reader, keepFraction(opts.threshold));
  const merger = new TiesMerger(reader, thresholds, opts.merge_func);
  const taking = new Set(reader.names);
  const scratch = new Scratch(); // the merged tensor itself is a fresh array from merger.merge
  return mergedModel(owner, base, set, (name) => {
    if (!taking.has(name)) return base.model.stateDict.loadF32(name);
    const { base: theta0, tvs } = reader.read(name, scratch);
    const merged = merger.merge(tvs);
    baseAddScaled(merged, theta0, opts.scaling_factor, merged);
    return merged;
  });
}

export class TiesMergingAlgorithm {
  static readonly configKeys: readonly string[] = ['scaling_factor', 'threshold', 'remove_keys', 'merge_func'];
  readonly scaling_factor: number;
  readonly threshold: number;
  readonly remove_keys: readonly string[];
  readonly merge_func: TiesMergeFunc;

  constructor(config: Record<string, unknown>) {
    const o = tiesOptions(new Params(config, NAME), 'sum');
    this.scaling_factor = o.scaling_factor;
    this.threshold = o.threshold;
    this.remove_keys = o.remove_keys;
    this.merge_func = o.merge_func;
  }

  async run(input: PoolInput): Promise<Model> {
    const { set, base, finetuned } = await loadTaskVectorSources(NAME, input);
    try {
      const reader = taskVectorReader(base, finetuned, tiesNames(base, this.remove_keys));
      return tiesMerge(NAME, set, base, reader, this);
    } catch (e) {
      set.close();
      throw e;
    }
  }
}

/** fusion_bench's DareTiesMerging: TIES merging over task vectors after DARE's random drop. */
import type { Model } from '../../modelpool/model.js';
import { Params } from '../params.js';
import { loadTaskVectorSources, type PoolInput } from '../sources.js';
import { taskVectorReader } from '../task-vectors.js';
import { tiesMerge, tiesNames, tiesOptions, type TiesOptions } from '../ties-merging.js';
import { dareReader, type DareOptions } from './dare-reader.js';
import { dareOptions } from './options.js';
import type { RunContext } from '../../run-context.js';

const NAME = 'DareTiesMerging';

export class DareTiesMerging {
  static readonly configKeys: readonly string[] = [
    'sparsity_ratio', 'only_on_linear_weights', 'rescale', 'scaling_factor', 'threshold', 'remove_keys', 'merge_func',
  ];
  readonly dare: DareOptions;
  readonly ties: TiesOptions;

  constructor(config: Record<string, unknown>, ctx?: RunContext) {
    const p = new Params(config, NAME);
    this.dare = dareOptions(p, undefined, ctx);
    this.ties = tiesOptions(p);
  }

  async run(input: PoolInput): Promise<Model> {
    const { set, base, finetuned } = await loadTaskVectorSources(NAME, input);
    try {
      const reader = dareReader(taskVectorReader(base, finetuned, tiesNames(base, this.ties.remove_keys)), base, finetuned, this.dare);
      return tiesMerge(NAME, set, base, reader, this.ties);
    } catch (e) {
      set.close();
      throw e;
    }
  }
}

/**
 * fusion_bench's SimpleAverageAlgorithm: the mean of the regular models (`_pretrained_` excluded),
 * summed in model order then divided by their count, in float32; the first model gives names and config.
 */
import { UserError } from '../errors.js';
import type { Model } from '../modelpool/model.js';
import { addInPlace, divInPlace } from './f32.js';
import { Params } from './params.js';
import { loadChecked, mergedModel, Scratch, toPool, type PoolInput } from './sources.js';

const NAME = 'SimpleAverageAlgorithm';

export class SimpleAverageAlgorithm {
  static readonly configKeys: readonly string[] = ['show_pbar', 'inplace'];
  readonly show_pbar: boolean;
  readonly inplace: boolean;

  constructor(config: Record<string, unknown> = {}) {
    const p = new Params(config, NAME);
    this.show_pbar = p.bool('show_pbar', false);
    this.inplace = p.bool('inplace', true);
  }

  async run(input: PoolInput): Promise<Model> {
    const pool = toPool(input);
    const names = pool.modelNames;
    if (names.length === 0) throw new UserError(`${NAME}: the model pool has no models to average`);
    const set = await loadChecked(NAME, pool, names);
    const models = set.list;
    const scratch = new Scratch();
    return mergedModel(NAME, models[0]!, set, (name) => {
      const acc = models[0]!.model.stateDict.loadF32(name);
      for (let k = 1; k < models.length; k++) addInPlace(acc, scratch.read(models[k]!.model.stateDict, name, 0));
      divInPlace(acc, models.length);
      return acc;
    });
  }
}

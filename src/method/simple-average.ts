/**
 * fusion_bench's SimpleAverageAlgorithm: the mean of the regular models (`_pretrained_` excluded),
 * summed in model order then divided by their count, in float32; the first model gives names and config.
 */
import { UserError } from '../errors.js';
import type { Model } from '../modelpool/model.js';
import { addInPlace, divInPlace } from './f32.js';
import { readParams, type ParamDef } from './param-def.js';
import { loadChecked, mergedModel, Scratch, toPool, type PoolInput } from './sources.js';

const NAME = 'SimpleAverageAlgorithm';

export class SimpleAverageAlgorithm {
  static readonly params: readonly ParamDef[] = [
    { name: 'show_pbar', type: 'bool', default: false, doc: 'show a progress bar (status stream)' },
    { name: 'inplace', type: 'bool', default: true, doc: "fusion_bench's in-place flag; inputs are never modified here" },
  ];
  static readonly configKeys: readonly string[] = SimpleAverageAlgorithm.params.map((d) => d.name);
  static readonly summary = 'simple average of the models (_pretrained_ excluded)';
  readonly show_pbar: boolean;
  readonly inplace: boolean;

  constructor(config: Record<string, unknown> = {}) {
    const v = readParams(NAME, SimpleAverageAlgorithm.params, config);
    this.show_pbar = v.show_pbar as boolean;
    this.inplace = v.inplace as boolean;
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

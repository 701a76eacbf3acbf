/** fusion_bench's DummyAlgorithm: returns the `_pretrained_` model (or the first one) unchanged. */
import { isModel, type Model } from '../modelpool/model.js';
import { readParams, type ParamDef } from './param-def.js';
import { toPool, type PoolInput } from './sources.js';

export class DummyAlgorithm {
  static readonly params: readonly ParamDef[] = [];
  static readonly configKeys: readonly string[] = [];
  static readonly summary = 'returns the pretrained (or first) model unchanged';

  constructor(config: Record<string, unknown> = {}) {
    readParams('DummyAlgorithm', DummyAlgorithm.params, config);
  }

  /** A model given instead of a pool is returned as is, as fusion_bench does with an `nn.Module`. */
  async run(input: PoolInput | Model): Promise<Model> {
    if (isModel(input)) return input;
    return toPool(input).loadPretrainedOrFirstModel();
  }
}

/** fusion_bench's DummyAlgorithm: returns the `_pretrained_` model (or the first one) unchanged. */
import { isModel, type Model } from '../modelpool/model.js';
import { Params } from './params.js';
import { toPool, type PoolInput } from './sources.js';

export class DummyAlgorithm {
  static readonly configKeys: readonly string[] = [];

  constructor(config: Record<string, unknown> = {}) {
    new Params(config, 'DummyAlgorithm');
  }

  /** A model given instead of a pool is returned as is, as fusion_bench does with an `nn.Module`. */
  async run(input: PoolInput | Model): Promise<Model> {
    if (isModel(input)) return input;
    return toPool(input).loadPretrainedOrFirstModel();
  }
}

/** fusion_bench's DummyAlgorithm: returns the `_pretrained_` model (or the first one) unchanged. */
import type { Model } from '../modelpool/model.js';
import { Params } from './params.js';
import { toPool, type PoolInput } from './sources.js';

export class DummyAlgorithm {
  static readonly configKeys: readonly string[] = [];

  constructor(config: Record<string, unknown> = {}) {
    new Params(config, 'DummyAlgorithm');
  }

  async run(input: PoolInput): Promise<Model> {
    return toPool(input).loadPretrainedOrFirstModel();
  }
}

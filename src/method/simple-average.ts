/**
 * fusion_bench's SimpleAverageAlgorithm: the mean of the regular models (`_pretrained_` excluded),
 * summed in model order then divided by their count, in float32; the first model gives names and config.
 */
import type { Model } from '../modelpool/model.js';
import { addInPlace, divInPlace } from './f32.js';
import { readParams, type ParamDef } from './param-def.js';
import type { PoolInput } from './sources.js';
import { runTensorMerge } from './tensor-merge.js';

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
    return runTensorMerge(NAME, input, 'models', {
      combine(t, out) {
        const acc = t.model(0, out ?? new Float32Array(t.numel));
        for (let k = 1; k < t.count; k++) addInPlace(acc, t.model(k, 1));
        divInPlace(acc, t.count);
        return acc;
      },
    });
  }
}

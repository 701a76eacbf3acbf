/**
 * fusion_bench's WeightedAverageAlgorithm: Σᵢ wᵢ·θᵢ over the regular models, weights optionally
 * normalised to sum to one (in double, as numpy does), each product and sum rounded to float32.
 */
import { UserError } from '../errors.js';
import type { Model } from '../modelpool/model.js';
import { baseAddScaled, f32 } from './f32.js';
import { readParams, type ParamDef } from './param-def.js';
import { toPool, type PoolInput } from './sources.js';
import { runTensorMerge } from './tensor-merge.js';

const NAME = 'WeightedAverageAlgorithm';

export class WeightedAverageAlgorithm {
  static readonly params: readonly ParamDef[] = [
    { name: 'normalize', type: 'bool', doc: 'divide the weights by their sum first' },
    { name: 'weights', type: 'float[]', doc: 'one weight per model, in the pool order' },
    { name: 'verbose', type: 'bool', default: true, doc: 'log the weights' },
  ];
  static readonly configKeys: readonly string[] = WeightedAverageAlgorithm.params.map((d) => d.name);
  static readonly summary = 'weighted average Σ wᵢ·θᵢ of the models';
  readonly normalize: boolean;
  readonly weights: readonly number[];
  readonly verbose: boolean;

  constructor(config: Record<string, unknown>) {
    const v = readParams(NAME, WeightedAverageAlgorithm.params, config);
    this.normalize = v.normalize as boolean;
    this.weights = v.weights as number[];
    this.verbose = v.verbose as boolean;
  }

  async run(input: PoolInput): Promise<Model> {
    const pool = toPool(input);
    const names = pool.modelNames;
    if (this.weights.length !== names.length) {
      throw new UserError(`${NAME}: ${this.weights.length} weights for ${names.length} models (${names.join(', ')}); give one weight per model`);
    }
    if (names.length === 0) throw new UserError(`${NAME}: the model pool has no models to merge`);
    let w = [...this.weights];
    if (this.normalize) {
      const total = w.reduce((a, b) => a + b, 0);
      if (total === 0) throw new UserError(`${NAME}: cannot normalize weights that sum to zero`);
      w = w.map((x) => x / total);
    }
    return runTensorMerge(NAME, pool, 'models', {
      combine(t, out) {
        const acc = t.model(0, out ?? new Float32Array(t.numel));
        const w0 = f32(w[0]!);
        for (let i = 0; i < acc.length; i++) acc[i] = w0 * acc[i]!;
        for (let k = 1; k < t.count; k++) baseAddScaled(acc, acc, w[k]!, t.model(k, 1)); // acc + f32(wₖ·x)
        return acc;
      },
    });
  }
}

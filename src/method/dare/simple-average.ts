/** fusion_bench's DareSimpleAverage: DareTaskArithmetic with scaling factor 1 / (number of models). */
import type { Model } from '../../modelpool/model.js';
import { Params } from '../params.js';
import type { PoolInput } from '../sources.js';
import type { DareOptions } from './dare-reader.js';
import { dareOptions } from './options.js';
import type { RunContext } from '../../run-context.js';
import { dareTaskArithmetic } from './task-arithmetic.js';

const NAME = 'DareSimpleAverage';

export class DareSimpleAverage {
  static readonly configKeys: readonly string[] = ['sparsity_ratio', 'only_on_linear_weights', 'rescale'];
  readonly dare: DareOptions;

  constructor(config: Record<string, unknown>, ctx?: RunContext) {
    this.dare = dareOptions(new Params(config, NAME), true, ctx);
  }

  async run(input: PoolInput): Promise<Model> {
    return dareTaskArithmetic(NAME, input, (n) => 1 / n, this.dare);
  }
}

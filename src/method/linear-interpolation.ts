/**
 * fusion_bench's LinearInterpolationAlgorithm: (1 − t)·θ₁ + t·θ₂ for a pool of exactly two models (all
 * names, special ones included), via `state_dict_weighted_sum`: zero weights skipped, unit weights added
 * without a product.
 */
import type { Model } from '../modelpool/model.js';
import { addInPlace, baseAddScaled } from './f32.js';
import { readParams, type ParamDef } from './param-def.js';
import { checkTwoModels, type PoolInput } from './sources.js';
import { runTensorMerge } from './tensor-merge.js';

const NAME = 'LinearInterpolationAlgorithm';

/** acc += w·x the way `state_dict_weighted_sum` does it (acc + f32(w·x), w as float32). */
export function accumulateWeighted(acc: Float32Array, x: Float32Array, w: number): void {
  if (w === 0) return;
  if (w === 1) return addInPlace(acc, x);
  baseAddScaled(acc, acc, w, x);
}

export class LinearInterpolationAlgorithm {
  static readonly params: readonly ParamDef[] = [{ name: 't', type: 'float', min: 0, max: 1, doc: 'interpolation factor: (1 − t)·θa + t·θb' }];
  static readonly configKeys: readonly string[] = LinearInterpolationAlgorithm.params.map((d) => d.name);
  static readonly summary = 'linear interpolation of two models';
  readonly t: number;

  constructor(config: Record<string, unknown>) {
    this.t = readParams(NAME, LinearInterpolationAlgorithm.params, config).t as number;
  }

  async run(input: PoolInput): Promise<Model> {
    const pool = checkTwoModels(NAME, input);
    const t = this.t;
    return runTensorMerge(NAME, pool, 'all-models', {
      combine(inputs, out) {
        const acc = out ? out.subarray(0, inputs.numel).fill(0) : new Float32Array(inputs.numel);
        accumulateWeighted(acc, inputs.model(0), 1 - t);
        accumulateWeighted(acc, inputs.model(1), t);
        return acc;
      },
    });
  }
}

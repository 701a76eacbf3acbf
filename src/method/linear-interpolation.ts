/**
 * fusion_bench's LinearInterpolationAlgorithm: (1 − t)·θ₁ + t·θ₂ for a pool of exactly two models (all
 * names, special ones included), via `state_dict_weighted_sum`: zero weights skipped, unit weights added
 * without a product.
 */
import type { Model } from '../modelpool/model.js';
import { f32 } from './f32.js';
import { readParams, type ParamDef } from './param-def.js';
import { loadTwoModels, mergedModel, type PoolInput } from './sources.js';

const NAME = 'LinearInterpolationAlgorithm';

/** acc += w·x the way `state_dict_weighted_sum` does it. */
export function accumulateWeighted(acc: Float32Array, x: Float32Array, w: number): void {
  if (w === 0) return;
  if (w === 1) {
    for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + x[i]!;
    return;
  }
  const w32 = f32(w);
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + f32(w32 * x[i]!);
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
    const { set, primary, secondary } = await loadTwoModels(NAME, input);
    const t = this.t;
    return mergedModel(NAME, primary, set, (name) => {
      const a = primary.model.stateDict.loadF32(name);
      const acc = new Float32Array(a.length);
      accumulateWeighted(acc, a, 1 - t);
      accumulateWeighted(acc, secondary.model.stateDict.loadF32(name), t);
      return acc;
    });
  }
}

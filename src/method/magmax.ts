/**
 * fusion_bench's MagMaxAlgorithm: per element, the task vector of largest magnitude (later models win
 * ties, `>=`), scaled and added to the pretrained weights.
 */
import type { Model } from '../modelpool/model.js';
import { baseAddScaled, f32 } from './f32.js';
import { readParams, type ParamDef } from './param-def.js';
import { loadTaskVectorSources, mergedModel, Scratch, type PoolInput } from './sources.js';

const NAME = 'MagMaxAlgorithm';

export class MagMaxAlgorithm {
  static readonly params: readonly ParamDef[] = [
    { name: 'scaling_factor', type: 'float', default: 0.5, doc: 'λ: θ₀ + λ·(per element, the task vector of largest magnitude)' },
    { name: 'inplace', type: 'bool', default: true, doc: "fusion_bench's in-place flag; inputs are never modified here" },
  ];
  static readonly configKeys: readonly string[] = MagMaxAlgorithm.params.map((d) => d.name);
  static readonly summary = 'MagMax: per element the largest-magnitude task vector';
  readonly scaling_factor: number;
  readonly inplace: boolean;

  constructor(config: Record<string, unknown> = {}) {
    const v = readParams(NAME, MagMaxAlgorithm.params, config);
    this.scaling_factor = v.scaling_factor as number;
    this.inplace = v.inplace as boolean;
  }

  async run(input: PoolInput): Promise<Model> {
    const { set, base, finetuned } = await loadTaskVectorSources(NAME, input);
    const scratch = new Scratch();
    return mergedModel(NAME, base, set, (name) => {
      const theta0 = scratch.read(base.model.stateDict, name, 0);
      const best = finetuned[0]!.model.stateDict.loadF32(name);
      for (let i = 0; i < best.length; i++) best[i] = best[i]! - theta0[i]!;
      for (let k = 1; k < finetuned.length; k++) {
        const x = scratch.read(finetuned[k]!.model.stateDict, name, 1);
        for (let i = 0; i < best.length; i++) {
          const tv = f32(x[i]! - theta0[i]!);
          if (Math.abs(tv) >= Math.abs(best[i]!)) best[i] = tv;
        }
      }
      baseAddScaled(best, theta0, this.scaling_factor, best);
      return best;
    });
  }
}

/**
 * fusion_bench's MagMaxAlgorithm: per element, the task vector of largest magnitude (later models win
 * ties, `>=`), scaled and added to the pretrained weights.
 */
import type { Model } from '../modelpool/model.js';
import { baseAddScaled, f32 } from './f32.js';
import { Params } from './params.js';
import { loadTaskVectorSources, mergedModel, Scratch, type PoolInput } from './sources.js';

const NAME = 'MagMaxAlgorithm';

export class MagMaxAlgorithm {
  static readonly configKeys: readonly string[] = ['scaling_factor', 'inplace'];
  readonly scaling_factor: number;
  readonly inplace: boolean;

  constructor(config: Record<string, unknown> = {}) {
    const p = new Params(config, NAME);
    this.scaling_factor = p.number('scaling_factor', { dflt: 0.5 });
    this.inplace = p.bool('inplace', true);
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

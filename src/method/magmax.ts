/**
 * fusion_bench's MagMaxAlgorithm: per element, the task vector of largest magnitude (later models win
 * ties, `>=`), scaled and added to the pretrained weights.
 */
import type { Model } from '../modelpool/model.js';
import { baseAddScaled, maxAbsInto } from './f32.js';
import { readParams, type ParamDef } from './param-def.js';
import type { PoolInput } from './sources.js';
import { runTensorMerge } from './tensor-merge.js';

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
    return runTensorMerge(NAME, input, 'task-vectors', {
      combine(t, out) {
        const best = t.taskVector(0, out ?? new Float32Array(t.numel));
        for (let k = 1; k < t.count; k++) maxAbsInto(best, t.taskVector(k, 1));
        return best;
      },
      finish: (t, best) => {
        baseAddScaled(best, t.base(), this.scaling_factor, best);
        return best;
      },
    });
  }
}

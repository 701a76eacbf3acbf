/**
 * fusion_bench's TaskArithmeticAlgorithm: θ₀ + λ·Σᵢ(θᵢ − θ₀). As in fusion_bench, the task vectors are
 * summed first (in model order), the sum is scaled, then added to the pretrained weights, all in float32.
 * Inside a sweep the sums are kept (src/method/task-vector-sum.ts), so later jobs only read θ₀.
 */
import type { Model } from '../modelpool/model.js';
import { addDiff, baseAddScaled, subInPlace } from './f32.js';
import { Params } from './params.js';
import { loadTaskVectorSources, mergedModel, readInto, Scratch, type PoolInput } from './sources.js';
import { sharedTaskVectorSums, taskVectorSumKey } from './task-vector-sum.js';
import { runContext, type RunContext } from '../run-context.js';

const NAME = 'TaskArithmeticAlgorithm';

export class TaskArithmeticAlgorithm {
  static readonly configKeys: readonly string[] = ['scaling_factor', 'inplace'];
  readonly scaling_factor: number;
  readonly inplace: boolean;

  constructor(config: Record<string, unknown>, private readonly ctx: RunContext = runContext()) {
    const p = new Params(config, NAME);
    this.scaling_factor = p.number('scaling_factor');
    this.inplace = p.bool('inplace', true);
  }

  async run(input: PoolInput): Promise<Model> {
    const { pool, set, base, finetuned } = await loadTaskVectorSources(NAME, input);
    const s = this.scaling_factor;
    const scratch = new Scratch();
    let sums;
    try {
      sums = await sharedTaskVectorSums(this.ctx, taskVectorSumKey(pool, base, finetuned));
    } catch (e) {
      set.close();
      throw e;
    }
    return mergedModel(NAME, base, set, (name, into) => {
      const theta0 = scratch.read(base.model.stateDict, name, 0);
      const kept = sums?.get(name);
      if (kept !== undefined) {
        const out = into ? into.subarray(0, kept.length) : new Float32Array(kept.length);
        baseAddScaled(out, theta0, s, kept);
        return out;
      }
      // the accumulator becomes the merged tensor: the caller's buffer, or fresh memory it will own
      const first = finetuned[0]!.model.stateDict;
      const acc = into ? readInto(first, name, into) : first.loadF32(name);
      subInPlace(acc, theta0);
      for (let k = 1; k < finetuned.length; k++) addDiff(acc, scratch.read(finetuned[k]!.model.stateDict, name, 1), theta0);
      sums?.set(name, acc.slice());
      baseAddScaled(acc, theta0, s, acc);
      return acc;
    });
  }
}

/**
 * fusion_bench's TallMaskTaskArithmeticAlgorithm (TALL masks, Wang et al., ICML 2024): one model per
 * task, θ₀ + maskₜ ⊙ τ_MTL, where τ_MTL = Σⱼ τⱼ (float32, model order) and
 * maskₜ = |τₜ| > λ·|τ_MTL − τₜ|.
 *
 * This follows the paper, not fusion_bench's code: its `generate_task_masks` is handed θ₀ where the
 * paper has the zero vector (so it compares |θ₀ − τₜ| instead of |τₜ|), and at this commit its run
 * crashes before that. The shared τ_MTL and one bit per parameter per task are held (not N models);
 * each task's model is computed from them tensor by tensor when read.
 */
import { f32 } from './f32.js';
import { BitMask, forEachTaskVectors, maskedTaskModels } from './masked-task-models.js';
import { readParams, type ParamDef } from './param-def.js';
import type { PerTaskModels } from './result.js';
import { loadTaskVectorSources, type PoolInput } from './sources.js';

const NAME = 'TallMaskTaskArithmeticAlgorithm';

export class TallMaskTaskArithmeticAlgorithm {
  static readonly params: readonly ParamDef[] = [
    { name: 'tall_mask_lambda', type: 'float', min: 0, doc: 'λ: task t keeps the entries where |τₜ| > λ·|Σⱼτⱼ − τₜ|' },
    { name: 'debug', type: 'int', default: 0, doc: 'accepted as fusion_bench does; not used' },
    { name: 'verbose', type: 'int', default: 0, doc: 'accepted as fusion_bench does; not used' },
  ];
  static readonly configKeys: readonly string[] = TallMaskTaskArithmeticAlgorithm.params.map((d) => d.name);
  static readonly summary = 'TALL masks: one model per task, θ₀ + maskₜ ⊙ Σ task vectors';
  readonly tall_mask_lambda: number;

  constructor(config: Record<string, unknown>) {
    this.tall_mask_lambda = readParams(NAME, TallMaskTaskArithmeticAlgorithm.params, config).tall_mask_lambda as number;
  }

  async run(input: PoolInput): Promise<PerTaskModels> {
    const { set, base, finetuned } = await loadTaskVectorSources(NAME, input);
    const lambda = f32(this.tall_mask_lambda);
    const mtl = new Map<string, Float32Array>();
    const masks = finetuned.map(() => new Map<string, BitMask>());
    forEachTaskVectors(set, base, finetuned, (name, tvs) => {
      const sum = new Float32Array(tvs[0]!.length);
      for (const tv of tvs) for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + tv[i]!;
      mtl.set(name, sum);
      tvs.forEach((tv, t) => {
        const m = new BitMask(tv.length);
        for (let i = 0; i < tv.length; i++) m.set(i, Math.abs(tv[i]!) > f32(Math.abs(f32(sum[i]! - tv[i]!)) * lambda));
        masks[t]!.set(name, m);
      });
    });
    return maskedTaskModels(NAME, set, base, finetuned, { shared: mtl, masks, scales: null }, 'every-task');
  }
}

/**
 * fusion_bench's EMRMerging (Elect, Mask & Rescale; Huang et al., NeurIPS 2024): per element the elected
 * sign of Σ τᵢ (zero counts as negative, as fusion_bench's `_sign`), the unified vector
 * τ_uni = max over tasks of |τᵢ| where τᵢ agrees with it, times that sign; per task a mask (τᵢ agrees)
 * and a rescaler Σ mean|τᵢ| / Σ mean|τ_uni ⊙ maskᵢ| (means per tensor, summed over tensors, float32).
 * Task i's model is θ₀ + τ_uni ⊙ maskᵢ · rescalerᵢ; the task pool evaluates each task with its own model
 * (fusion_bench's modulated model switches modulators per task). Held as τ_uni plus a bit per parameter
 * per task.
 */
import { UserError } from '../errors.js';
import { f32 } from './f32.js';
import { BitMask, forEachTaskVectors, maskedTaskModels } from './masked-task-models.js';
import { readParams, type ParamDef } from './param-def.js';
import type { PerTaskModels } from './result.js';
import { loadTaskVectorSources, type PoolInput } from './sources.js';

const NAME = 'EMRMerging';

/** torch.mean of |x| over a tensor, to float32 (summed in float64: float32 noise against torch's cascade). */
function meanAbs(x: Float32Array, mask?: BitMask): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(mask ? x[i]! * mask.get(i) : x[i]!);
  return f32(s / x.length);
}

export class EMRMerging {
  static readonly params: readonly ParamDef[] = [];
  static readonly configKeys: readonly string[] = [];
  static readonly summary = 'EMR merging: one unified task vector, per-task masks and rescalers';

  constructor(config: Record<string, unknown> = {}) {
    readParams(NAME, EMRMerging.params, config);
  }

  async run(input: PoolInput): Promise<PerTaskModels> {
    const { set, base, finetuned } = await loadTaskVectorSources(NAME, input);
    const n = finetuned.length;
    const unified = new Map<string, Float32Array>();
    const masks = finetuned.map(() => new Map<string, BitMask>());
    const scales = new Float32Array(n);
    const newScales = new Float32Array(n);
    forEachTaskVectors(set, base, finetuned, (name, tvs) => {
      const len = tvs[0]!.length;
      const flag = new Int8Array(len);
      for (let i = 0; i < len; i++) {
        let s = 0;
        for (const tv of tvs) s = f32(s + tv[i]!); // state_dict_sum: zeros + Σ, in model order
        flag[i] = s > 0 ? 1 : -1;
      }
      const max = new Float32Array(len);
      tvs.forEach((tv, m) => {
        const mask = new BitMask(len);
        for (let i = 0; i < len; i++) {
          const agrees = tv[i]! * flag[i]! > 0;
          mask.set(i, agrees);
          const a = agrees ? Math.abs(tv[i]!) : 0;
          if (a > max[i]!) max[i] = a;
        }
        masks[m]!.set(name, mask);
        scales[m] = scales[m]! + meanAbs(tv);
      });
      for (let i = 0; i < len; i++) max[i] = max[i]! * flag[i]!;
      unified.set(name, max);
      masks.forEach((mm, m) => (newScales[m] = newScales[m]! + meanAbs(max, mm.get(name)!)));
    });
    const rescalers = Array.from(scales, (s, m) => f32(s / newScales[m]!));
    const bad = rescalers.findIndex((r) => !Number.isFinite(r));
    if (bad >= 0) {
      set.close();
      throw new UserError(`${NAME}: model '${finetuned[bad]!.name}' has no entry agreeing with the elected signs (its task vector is zero?), so its rescaler ${scales[bad]} / ${newScales[bad]} is undefined`);
    }
    return maskedTaskModels(NAME, set, base, finetuned, { shared: unified, masks, scales: rescalers }, 'own-task');
  }
}

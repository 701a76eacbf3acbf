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
import type { Model } from '../modelpool/model.js';
import { f32 } from './f32.js';
import { readParams, type ParamDef } from './param-def.js';
import { PerTaskModels } from './result.js';
import { isMerged, loadTaskVectorSources, Scratch, type PoolInput } from './sources.js';
import { ComputedStateDict } from './computed-state-dict.js';

const NAME = 'TallMaskTaskArithmeticAlgorithm';

/** Bit i of a packed mask. */
function bit(mask: Uint8Array, i: number): number {
  return (mask[i >>> 3]! >>> (i & 7)) & 1;
}

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
    const sd = base.model.stateDict;
    const lambda = f32(this.tall_mask_lambda);
    const n = finetuned.length;
    const mtl = new Map<string, Float32Array>();
    const masks = finetuned.map(() => new Map<string, Uint8Array>());
    try {
      const scratch = new Scratch();
      for (const name of sd.names()) {
        if (!isMerged(sd.info(name))) continue;
        const theta0 = scratch.read(sd, name, 0);
        const tvs = finetuned.map((f, t) => {
          const tv = scratch.read(f.model.stateDict, name, t + 1);
          for (let i = 0; i < tv.length; i++) tv[i] = tv[i]! - theta0[i]!;
          return tv;
        });
        const sum = new Float32Array(theta0.length);
        for (const tv of tvs) for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + tv[i]!;
        mtl.set(name, sum);
        for (let t = 0; t < n; t++) {
          const tv = tvs[t]!;
          const m = new Uint8Array((tv.length + 7) >>> 3);
          for (let i = 0; i < tv.length; i++) {
            const keep = Math.abs(tv[i]!) > f32(Math.abs(f32(sum[i]! - tv[i]!)) * lambda);
            m[i >>> 3]! |= +keep << (i & 7);
          }
          masks[t]!.set(name, m);
        }
      }
    } catch (e) {
      set.close();
      throw e;
    }
    const build = (task: string): Model => {
      const t = finetuned.findIndex((f) => f.name === task);
      const mask = masks[t]!;
      const stateDict = new ComputedStateDict({
        names: sd.names(),
        info: (name) => sd.info(name),
        compute: (name) => {
          const out = sd.loadF32(name);
          const s = mtl.get(name);
          if (s === undefined) return out; // integer buffers: θ₀'s
          const m = mask.get(name)!;
          // θ₀ + mask·τ_MTL with the float 0/1 mask: masked-out entries add 0·τ (NaN only where τ is)
          for (let i = 0; i < out.length; i++) out[i] = out[i]! + bit(m, i) * s[i]!;
          return out;
        },
        raw: (name) => (isMerged(sd.info(name)) ? undefined : sd.loadRaw?.(name)),
      });
      return { stateDict, config: base.model.config, source: `${NAME} model for ${task}` };
    };
    return new PerTaskModels(finetuned.map((f) => f.name), build, 'every-task', () => set.close());
  }
}

/**
 * fusion_bench's ModelStock: per tensor, the angle between fine-tuned task vectors (averaged over pairs
 * for more than two models) sets a ratio t = k·cos / ((k−1)·cos + 1 + ε) that interpolates between the
 * fine-tuned average and the pretrained weights. Everything is per tensor, so no global pass is needed.
 */
import { UserError } from '../errors.js';
import type { Model } from '../modelpool/model.js';
import { addInPlace, f32 } from './f32.js';
import { readParams, type ParamDef } from './param-def.js';
import { loadChecked, mergedModel, toPool, type PoolInput } from './sources.js';

const NAME = 'ModelStock';
const EPS = 1e-8;

/** fusion_bench's `compute_angle` for one tensor: degrees, from float32 cosines. */
export function angleDegrees(a: Float32Array, b: Float32Array, ref: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < ref.length; i++) {
    const x = f32(a[i]! - ref[i]!);
    const y = f32(b[i]! - ref[i]!);
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  const denom = Math.sqrt(f32(f32(na) * f32(nb))) + EPS;
  let cos = f32(f32(dot) / f32(denom));
  cos = Math.min(1, Math.max(-1, cos));
  return f32(Math.acos(cos)) * (180 / Math.PI);
}

/** fusion_bench's `compute_ratio`, in double as numpy does. */
export function stockRatio(angleDeg: number, k: number): number {
  const c = Math.cos(angleDeg * (Math.PI / 180));
  return (k * c) / ((k - 1) * c + 1 + EPS);
}

export class ModelStock {
  static readonly params: readonly ParamDef[] = [
    { name: 'ignore_keys', type: 'str[]', default: [], doc: 'tensors that get the plain fine-tuned average' },
    { name: 'model_save_path', type: 'str', default: null, doc: 'also save the merged model here' },
    { name: 'model_save_kwargs', type: 'any', default: null, doc: 'accepted as fusion_bench does; not used' },
  ];
  static readonly configKeys: readonly string[] = ModelStock.params.map((d) => d.name);
  static readonly summary = 'Model Stock: per-tensor interpolation by the angle between task vectors';
  readonly ignore_keys: readonly string[];
  readonly model_save_path: string | null;

  constructor(config: Record<string, unknown> = {}) {
    const v = readParams(NAME, ModelStock.params, config);
    this.ignore_keys = v.ignore_keys as string[];
    this.model_save_path = v.model_save_path as string | null;
  }

  async run(input: PoolInput): Promise<Model> {
    const pool = toPool(input);
    if (!pool.hasPretrained) throw new UserError(`${NAME}: the model pool needs a '_pretrained_' model`);
    if (pool.modelNames.length < 2) throw new UserError(`${NAME}: requires at least 2 fine-tuned models, the pool has ${pool.modelNames.length}`);
    const set = await loadChecked(NAME, pool, ['_pretrained_', ...pool.modelNames]);
    const [base, ...finetuned] = set.list;
    const ignored = new Set(this.ignore_keys);
    const k = finetuned.length;
    const merged = mergedModel(NAME, base!, set, (name) => {
      const w = finetuned.map((f) => f.model.stateDict.loadF32(name));
      // The fine-tuned average: (w1 + w2) / 2 for two models, else zeros + Σ wᵢ then / k.
      const avg = w[0]!;
      for (let i = 1; i < k; i++) addInPlace(avg, w[i]!);
      const div = f32(k === 2 ? 2.0 : k);
      if (ignored.has(name)) {
        for (let i = 0; i < avg.length; i++) avg[i] = avg[i]! / div;
        return avg;
      }
      // Angles need the untouched tensors; w[0] is about to become the average, so keep a copy.
      const theta0 = base!.model.stateDict.loadF32(name);
      let angle: number;
      if (k === 2) {
        angle = angleDegrees(finetuned[0]!.model.stateDict.loadF32(name), w[1]!, theta0);
      } else {
        const first = finetuned[0]!.model.stateDict.loadF32(name);
        const ws = [first, ...w.slice(1)];
        let sum = 0;
        let count = 0;
        for (let i = 0; i < k; i++) {
          for (let j = i + 1; j < k; j++) {
            sum += angleDegrees(ws[i]!, ws[j]!, theta0);
            count++;
          }
        }
        angle = sum / count;
      }
      const r = stockRatio(angle, k);
      const r32 = f32(r);
      const q32 = f32(1.0 - r);
      for (let i = 0; i < avg.length; i++) avg[i] = f32(f32(avg[i]! / div) * r32) + f32(theta0[i]! * q32);
      return avg;
    });
    if (this.model_save_path !== null) {
      try {
        await pool.saveModel(merged, this.model_save_path);
      } catch (e) {
        merged.stateDict.close?.(); // releases the source models' files
        throw e;
      }
    }
    return merged;
  }
}

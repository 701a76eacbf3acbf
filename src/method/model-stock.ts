/**
 * fusion_bench's ModelStock: per tensor, the angle between fine-tuned task vectors (averaged over pairs
 * for more than two models) sets a ratio t = k·cos / ((k−1)·cos + 1 + ε) that interpolates between the
 * fine-tuned average and the pretrained weights. Everything is per tensor, so no global pass is needed.
 */
import { UserError } from '../errors.js';
import type { Model } from '../modelpool/model.js';
import { F32Arena, kernelsFor, type WasmKernels } from '../tensor/kernels/arena.js';
import { addInPlace, divInPlace, f32 } from './f32.js';
import { readParams, type ParamDef } from './param-def.js';
import { toPool, type PoolInput } from './sources.js';
import { runTensorMerge } from './tensor-merge.js';

const NAME = 'ModelStock';
const EPS = 1e-8;

/**
 * Σ τᵢ·τⱼ for every pair i ≤ j (row-major k × k, upper triangle), τ = f32(w − θ₀), in float64: the dot
 * products and squared norms of fusion_bench's `compute_angle` for all pairs at once, each task vector
 * computed once per block of the tensor instead of twice per pair. In a WebAssembly arena the block's sums
 * run as SIMD (two float64 lanes: each product exact, the sums' order not a sequential loop's, ~1e-16
 * relative); outside one (GramBuffers with `simd` false) the sequential float64 loop.
 */
export function taskVectorGram(ws: readonly Float32Array[], ref: Float32Array, buffers: GramBuffers = new GramBuffers(ws.length)): Float64Array {
  const k = ws.length;
  const n = ref.length;
  const { tau, g, stride, kernels } = buffers;
  const B = GramBuffers.BLOCK;
  g.fill(0);
  for (let s = 0; s < n; s += B) {
    const len = Math.min(n, s + B) - s;
    for (let i = 0; i < k; i++) {
      const w = ws[i]!;
      const o = i * stride;
      for (let p = 0; p < len; p++) tau[o + p] = w[s + p]! - ref[s + p]!;
    }
    if (kernels) {
      kernels.gramAdd(tau.byteOffset, k, stride, len, g.byteOffset);
      continue;
    }
    for (let i = 0; i < k; i++) {
      for (let j = i; j < k; j++) {
        const oi = i * stride;
        const oj = j * stride;
        let d = g[i * k + j]!;
        for (let p = 0; p < len; p++) d += tau[oi + p]! * tau[oj + p]!;
        g[i * k + j] = d;
      }
    }
  }
  return Float64Array.from(g);
}

/** taskVectorGram's buffers for k task vectors, made once per merge: in an arena unless `simd` is false. */
export class GramBuffers {
  static readonly BLOCK = 2048;
  readonly tau: Float32Array;
  readonly g: Float64Array;
  readonly stride: number;
  readonly kernels: WasmKernels | null;

  constructor(k: number, simd = true) {
    const B = GramBuffers.BLOCK;
    // τ's block in slots 0…k−1, the sums (k² doubles) in slot k
    const arena = simd && 2 * k * k <= B ? F32Arena.create(k + 1, B) : null;
    this.kernels = arena && kernelsFor(arena.view(0, 1));
    if (arena && this.kernels) {
      this.stride = (arena.view(1, 0).byteOffset - arena.view(0, 0).byteOffset) / 4;
      this.tau = arena.view(0, (k - 1) * this.stride + B);
      this.g = new Float64Array(arena.buffer, arena.view(k, 0).byteOffset, k * k);
    } else {
      this.stride = B;
      this.tau = new Float32Array(k * B);
      this.g = new Float64Array(k * k);
    }
  }
}

/** fusion_bench's `compute_angle` of task vectors i and j from their Gram sums: degrees, from float32 cosines. */
export function angleDegrees(g: Float64Array, k: number, i: number, j: number): number {
  const dot = g[i * k + j]!;
  const na = g[i * k + i]!;
  const nb = g[j * k + j]!;
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
    const ignored = new Set(this.ignore_keys);
    const k = pool.modelNames.length;
    const gram = new GramBuffers(k);
    // On the merge runner: the models read into its arena (both threads), sums by the SIMD kernels.
    const merged = await runTensorMerge(NAME, pool, 'task-vectors', {
      combine(t, out) {
        const w = Array.from({ length: k }, (_, i) => (i === 0 ? t.model(0, out ?? new Float32Array(t.numel)) : t.model(i)));
        // The fine-tuned average: (w1 + w2) / 2 for two models, else zeros + Σ wᵢ then / k — in w[0],
        // once the angles (which need the untouched tensors) are known.
        const average = () => {
          for (let i = 1; i < k; i++) addInPlace(w[0]!, w[i]!);
          return w[0]!;
        };
        const div = f32(k === 2 ? 2.0 : k);
        if (ignored.has(t.name)) {
          const avg = average();
          divInPlace(avg, div);
          return avg;
        }
        const theta0 = t.base();
        const g = taskVectorGram(w, theta0, gram);
        let sum = 0;
        let count = 0;
        for (let i = 0; i < k; i++) {
          for (let j = i + 1; j < k; j++) {
            sum += angleDegrees(g, k, i, j);
            count++;
          }
        }
        const angle = sum / count; // one pair for two models: exactly its angle
        const avg = average();
        const r = stockRatio(angle, k);
        const r32 = f32(r);
        const q32 = f32(1.0 - r);
        for (let i = 0; i < avg.length; i++) avg[i] = f32(f32(avg[i]! / div) * r32) + f32(theta0[i]! * q32);
        return avg;
      },
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

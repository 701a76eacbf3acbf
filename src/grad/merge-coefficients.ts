/**
 * AdaMerging's merged model as a function of its coefficients, and the chain rule back to them:
 * θ = θ₀ + Σᵢ λᵢ,ₗ τᵢ (task-wise: one λ per model; layer-wise: one per model and parameter tensor, as
 * fusion_bench's TaskWiseMergedModel / LayerWiseMergedModel count "layers"), λ clamped to [0, 1] when
 * `clamp` is set. The tower's gradient d loss / dθ (ClipVisionGradSession, weights as graph inputs) gives
 * d loss / dλᵢ,ₗ = ⟨d loss / dθₗ, τᵢ,ₗ⟩ on the host, so the task vectors never enter the ONNX graph.
 */

export type CoefficientMode = 'task_wise' | 'layer_wise';

const f = Math.fround;

export class MergeCoefficients {
  /**
   * `keys`: the merged tensors in fusion_bench's layer order (the pretrained model's named_parameters);
   * `taskVectors[i].get(key)` = θᵢ − θ₀ (float32, held in memory: the dominant cost of a run).
   */
  constructor(
    readonly mode: CoefficientMode,
    readonly keys: readonly string[],
    private readonly base: ReadonlyMap<string, Float32Array>,
    private readonly taskVectors: readonly ReadonlyMap<string, Float32Array>[],
    readonly clamp: boolean,
  ) {
    for (const k of keys) {
      const n = base.get(k)?.length;
      if (n === undefined) throw new Error(`merge coefficients: the pretrained model has no tensor ${k}`);
      taskVectors.forEach((tv, i) => {
        if (tv.get(k)?.length !== n) throw new Error(`merge coefficients: task vector ${i} has no tensor ${k} of ${n} values`);
      });
    }
  }

  get models(): number {
    return this.taskVectors.length;
  }

  /** Coefficients per model: 1 (task-wise) or one per tensor (layer-wise). */
  get perModel(): number {
    return this.mode === 'task_wise' ? 1 : this.keys.length;
  }

  /** The coefficient shape as fusion_bench stores it: [models] or [models, layers]. */
  get shape(): number[] {
    return this.mode === 'task_wise' ? [this.models] : [this.models, this.keys.length];
  }

  /** fusion_bench's initial weights: `init_values` everywhere (default 1/num_models). */
  initial(initValue?: number): Float32Array {
    return new Float32Array(this.models * this.perModel).fill(f(initValue ?? 1 / this.models));
  }

  private coefficient(w: Float32Array, model: number, layer: number): number {
    const v = w[model * this.perModel + (this.mode === 'task_wise' ? 0 : layer)]!;
    return this.clamp ? Math.min(1, Math.max(0, v)) : v;
  }

  /**
   * The merged tensors for coefficients `w`, in fusion_bench's float32 order: model by model,
   * θ ← θ + τᵢ · λ (each product rounded, then the sum). `into` is reused when given.
   */
  merge(w: Float32Array, into?: Map<string, Float32Array>): Map<string, Float32Array> {
    const out = into ?? new Map<string, Float32Array>();
    for (const k of this.keys) {
      const acc = this.mergeTensor(w, k, out.get(k));
      out.set(k, acc);
    }
    return out;
  }

  /** One merged tensor (see merge), into `out` when it has the right length. */
  mergeTensor(w: Float32Array, key: string, out?: Float32Array): Float32Array {
    this.checkShape(w);
    const layer = this.keys.indexOf(key);
    if (layer < 0) throw new Error(`merge coefficients: ${key} is not a merged tensor`);
    const b = this.base.get(key)!;
    const acc = out && out.length >= b.length ? out.subarray(0, b.length) : new Float32Array(b.length);
    acc.set(b);
    for (let i = 0; i < this.models; i++) {
      const lam = f(this.coefficient(w, i, layer));
      const tv = this.taskVectors[i]!.get(key)!;
      for (let e = 0; e < acc.length; e++) acc[e] = f(acc[e]! + f(tv[e]! * lam));
    }
    return acc;
  }

  /**
   * d loss / dλ from d loss / dθ (for the tensors present in `grads`), through the clamp (zero outside
   * [0, 1], as torch's clamp backward). Dot products accumulate in double. Same shape as `w`.
   */
  gradient(w: Float32Array, grads: ReadonlyMap<string, Float32Array>): Float32Array {
    this.checkShape(w);
    const acc = new Float64Array(w.length);
    this.keys.forEach((k, layer) => {
      const g = grads.get(k);
      if (!g) return;
      for (let i = 0; i < this.models; i++) {
        const tv = this.taskVectors[i]!.get(k)!;
        let s = 0;
        for (let e = 0; e < g.length; e++) s += g[e]! * tv[e]!;
        acc[i * this.perModel + (this.mode === 'task_wise' ? 0 : layer)]! += s;
      }
    });
    const out = new Float32Array(w.length);
    for (let j = 0; j < w.length; j++) {
      const pass = !this.clamp || (w[j]! >= 0 && w[j]! <= 1);
      out[j] = pass ? acc[j]! : 0;
    }
    return out;
  }

  private checkShape(w: Float32Array): void {
    if (w.length !== this.models * this.perModel) {
      throw new Error(`merge coefficients: ${w.length} values, expected [${this.shape.join(', ')}]`);
    }
  }
}

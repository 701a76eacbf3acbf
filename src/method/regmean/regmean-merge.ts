/**
 * fusion_bench's `merging_with_regmean_weights` for one run, kept as running sums so memory does not grow
 * with the number of models: per Gram matrix Σᵢ R(Gᵢ), per merged linear weight Σᵢ R(Gᵢ)·Wᵢᵀ (float32,
 * as torch sums them), where Gᵢ is model i's mean input Gram matrix and R scales its off-diagonal entries
 * by `reduce_non_diagonal_ratio`. The merged weight is (Σ R(Gᵢ))⁻¹ Σ R(Gᵢ)·Wᵢᵀ, transposed back — solved
 * in float64 by Cholesky where torch.inverse runs LU in float32.
 */
import { UserError } from '../../errors.js';
import { f32 } from '../f32.js';
import { cholesky, choleskySolve, NotPositiveDefiniteError, type SolveOptions } from '../linalg/solve.js';

/**
 * torch's `reduce_non_diagonal_elements` in place: G ⊙ (diag(1 − r) + r), the mask rounded to float32 as
 * torch builds it (the diagonal factor is f32(f32(1 − r) + f32(r)), 1 for any r in [0, 1]).
 */
export function reduceNonDiagonal(g: Float32Array, d: number, ratio: number): void {
  const off = f32(ratio);
  const diag = f32(f32(1 - ratio) + off);
  for (let i = 0; i < d; i++) {
    const row = i * d;
    for (let j = 0; j < d; j++) g[row + j] = f32(g[row + j]! * (i === j ? diag : off));
  }
}

/** Float32 transpose of an m×n matrix (for weight_transpose: false, where the weight is used as [in, out]). */
export function transposeF32(a: Float32Array, m: number, n: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = a[i * n + j]!;
  return out;
}

function addInto(acc: Float32Array, x: Float32Array): void {
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + x[i]!;
}

/** A linear module merged by RegMean: its weight's key and the Gram matrix of its input. */
export interface RegMeanModule {
  readonly module: string;
  readonly key: string;
  /** [out, in] of the checkpoint (torch's Linear layout). */
  readonly shape: readonly [number, number];
  readonly gram: number;
}

/** A product R·Wᵀ (float32) of a d×d matrix with an [n, d] weight: an onnxruntime Gemm in practice. */
export type ProductF32 = (r: Float32Array, w: Float32Array, d: number, n: number) => Promise<Float32Array>;

export class RegMeanSums {
  private readonly sumG: (Float32Array | null)[];
  private readonly sumGW = new Map<string, Float32Array>();
  private readonly rows: number[] = [];
  models = 0;

  constructor(
    readonly owner: string,
    /** Width of each Gram matrix. */
    readonly dims: readonly number[],
    readonly modules: readonly RegMeanModule[],
    readonly ratio: number,
    readonly weightTranspose: boolean,
  ) {
    this.sumG = dims.map(() => null);
    if (!weightTranspose) {
      for (const m of modules) {
        if (m.shape[0] !== dims[m.gram]) {
          throw new UserError(`${owner}: weight_transpose: false multiplies the [${dims[m.gram]}, ${dims[m.gram]}] Gram matrix of '${m.module}' by its weight [${m.shape.join(', ')}] as stored, which needs ${dims[m.gram]} rows (torch.matmul fails here too); use weight_transpose: true for nn.Linear weights`);
        }
      }
    }
  }

  /**
   * Adds one model: `sums[u]` is Σ xᵀx of Gram matrix u over its `rows` token rows (consumed: it is
   * normalised and reduced in place); `weight(key)` the model's tensor.
   */
  async add(sums: Float32Array[], rows: number, weight: (key: string) => Float32Array, product: ProductF32): Promise<void> {
    for (const [u, g] of sums.entries()) {
      // fusion_bench keeps the mean over token rows: Σ xᵀx / rows.
      for (let i = 0; i < g.length; i++) g[i] = f32(g[i]! / rows);
      reduceNonDiagonal(g, this.dims[u]!, this.ratio);
    }
    for (const m of this.modules) {
      const d = this.dims[m.gram]!;
      const w = weight(m.key);
      // R·Wᵀ ([in, out]); without weight_transpose, R·W with W read as [in, cols].
      const p = this.weightTranspose ? await product(sums[m.gram]!, w, d, m.shape[0]) : await product(sums[m.gram]!, transposeF32(w, m.shape[0], m.shape[1]), d, m.shape[1]);
      const acc = this.sumGW.get(m.key);
      if (acc) addInto(acc, p);
      else this.sumGW.set(m.key, p.slice());
    }
    for (const [u, g] of sums.entries()) {
      const acc = this.sumG[u];
      if (acc) addInto(acc, g);
      else this.sumG[u] = g.slice();
    }
    this.rows.push(rows);
    this.models++;
  }

  /**
   * The merged weights, Gram matrix by Gram matrix (one factorisation per Gram matrix, shared by
   * q/k/v_proj), freeing the sums as it goes. A singular Σ R(Gᵢ) is a UserError: torch.inverse fails on an
   * exactly singular one and returns meaningless values for one singular up to rounding.
   */
  async solve(opts: SolveOptions): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    const totalRows = this.rows.reduce((a, b) => a + b, 0);
    for (const [u, d] of this.dims.entries()) {
      const users = this.modules.filter((m) => m.gram === u);
      const g = this.sumG[u];
      this.sumG[u] = null;
      if (users.length === 0 || !g) continue;
      const names = users.map((m) => `'${m.module}'`).join(', ');
      const a = Float64Array.from(g);
      for (let i = 0; i < d; i++) {
        if (a[i * d + i] === 0) {
          throw new UserError(`${this.owner}: input feature ${i} of ${names} is 0 on every token row of every model, so Σ R(Gᵢ) is singular (fusion_bench's torch.inverse fails on it too)`);
        }
      }
      let L: Float64Array;
      try {
        L = await cholesky(a, d, opts);
      } catch (e) {
        if (!(e instanceof NotPositiveDefiniteError)) throw e;
        const few = this.ratio === 1 && totalRows < d ? ` — with reduce_non_diagonal_ratio 1 the sum has rank at most ${totalRows} (the token rows of all ${this.models} models) < ${d}` : '';
        throw new UserError(
          `${this.owner}: the summed Gram matrix of ${names} ([${d}, ${d}]) is singular (pivot ${e.index}: ${e.pivot.toPrecision(3)})${few}; ` +
            `fusion_bench's torch.inverse fails or returns meaningless values here. Lower reduce_non_diagonal_ratio (below 1 the diagonal keeps it invertible) or raise num_regmean_examples`,
        );
      }
      for (const m of users) {
        const gw = this.sumGW.get(m.key)!;
        this.sumGW.delete(m.key);
        const cols = this.weightTranspose ? m.shape[0] : m.shape[1];
        const x = await choleskySolve(L, d, Float64Array.from(gw), cols, opts); // [in, cols]
        const merged = this.weightTranspose ? new Float32Array(m.shape[0] * m.shape[1]) : Float32Array.from(x);
        if (this.weightTranspose) {
          const [o, n] = m.shape;
          for (let i = 0; i < n; i++) for (let j = 0; j < o; j++) merged[j * n + i] = x[i * o + j]!;
        }
        out.set(m.key, merged);
      }
    }
    return out;
  }
}

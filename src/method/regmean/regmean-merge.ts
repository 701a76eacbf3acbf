/**
 * fusion_bench's `merging_with_regmean_weights` for one run, kept as running sums so memory does not grow
 * with the number of models: per Gram matrix Σᵢ R(Gᵢ), per merged linear weight Σᵢ R(Gᵢ)·Wᵢᵀ, where Gᵢ is model i's mean input Gram matrix and R scales its off-diagonal entries
 * by `reduce_non_diagonal_ratio`. The merged weight is (Σ R(Gᵢ))⁻¹ Σ R(Gᵢ)·Wᵢᵀ, transposed back — solved
 * in float64 by Cholesky where torch.inverse runs LU in float32.
 */
import { UserError } from '../../errors.js';
import { f32 } from '../f32.js';
import { cholesky, choleskySolve, NotPositiveDefiniteError, type RowGemm, type SolveOptions } from '../linalg/solve.js';

/**
 * torch's `reduce_non_diagonal_elements` of the mean Gram matrix, in place on the sum Σ xᵀx over `rows`
 * token rows: f32(Σ/rows) ⊙ (diag(1 − r) + r), every step rounded to float32 as torch does (the diagonal
 * factor f32(f32(1 − r) + f32(r)) is 1 for any r in [0, 1]).
 */
export function meanReduced(g: Float32Array, d: number, rows: number, ratio: number): void {
  const off = f32(ratio);
  const diag = f32(f32(1 - ratio) + off);
  for (let i = 0; i < d; i++) {
    const row = i * d;
    const dv = f32(f32(g[row + i]! / rows) * diag);
    for (let j = row, end = row + d; j < end; j++) g[j] = f32(f32(g[j]! / rows) * off);
    g[row + i] = dv;
  }
}

/** Float32 transpose of an m×n matrix (for weight_transpose: false, where the weight is used as [in, out]). */
export function transposeF32(a: Float32Array, m: number, n: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = a[i * n + j]!;
  return out;
}

/** A linear module merged by RegMean: its weight's key and the Gram matrix of its input. */
export interface RegMeanModule {
  readonly module: string;
  readonly key: string;
  /** [out, in] of the checkpoint (torch's Linear layout). */
  readonly shape: readonly [number, number];
  readonly gram: number;
}

export class RegMeanSums {
  private readonly sumG: (Float64Array | null)[];
  private readonly sumGW = new Map<string, Float64Array>();
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
   * normalised and reduced in place, in float32 as torch holds it); `weight(key)` the model's tensor.
   * The products R(Gᵢ)·Wᵢᵀ and both sums are float64 (C − A·Bᵀ with A = −R accumulates in `gemm`), so
   * that the merge adds no float32 rounding of its own to the Gram matrices': a layer equal in every
   * model comes back to float64 accuracy.
   */
  async add(sums: Float32Array[], rows: number, weight: (key: string) => Float32Array, gemm: RowGemm): Promise<void> {
    for (const [u, g] of sums.entries()) {
      const d = this.dims[u]!;
      // fusion_bench keeps the mean over token rows: Σ xᵀx / rows.
      meanReduced(g, d, rows, this.ratio);
      const users = this.modules.filter((m) => m.gram === u);
      if (users.length === 0) continue;
      const negR = new Float64Array(g.length);
      for (let i = 0; i < g.length; i++) negR[i] = -g[i]!;
      for (const m of users) {
        const w = weight(m.key);
        // R·Wᵀ ([in, out]); without weight_transpose, R·W with W read as [in, cols].
        const cols = this.weightTranspose ? m.shape[0] : m.shape[1];
        const b = Float64Array.from(this.weightTranspose ? w : transposeF32(w, m.shape[0], m.shape[1]));
        const acc = this.sumGW.get(m.key) ?? new Float64Array(d * cols);
        this.sumGW.set(m.key, await gemm(negR, b, acc, d, d, cols));
      }
      const acc = this.sumG[u];
      if (acc) for (let i = 0; i < g.length; i++) acc[i] = acc[i]! + g[i]!;
      else this.sumG[u] = Float64Array.from(g);
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
      const a = g;
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
        const few = totalRows < d;
        const why = this.ratio !== 1 ? ''
          : few ? ` (with reduce_non_diagonal_ratio 1 the sum has rank at most ${totalRows}, the token rows of all ${this.models} models)`
          : ' (with reduce_non_diagonal_ratio 1, e.g. the output of a LayerNorm whose bias is 0: its features sum to 0 on every row)';
        throw new UserError(
          `${this.owner}: the summed Gram matrix of ${names} ([${d}, ${d}]) is singular (Cholesky pivot ${e.index} is ${e.pivot.toPrecision(3)}): ` +
            `their inputs span fewer than ${d} directions${why}; fusion_bench's torch.inverse fails or returns meaningless values here. ` +
            `Lower reduce_non_diagonal_ratio (below 1 the diagonal keeps it invertible)${few ? ' or raise num_regmean_examples' : ''}`,
        );
      }
      for (const m of users) {
        const gw = this.sumGW.get(m.key)!;
        this.sumGW.delete(m.key);
        const cols = this.weightTranspose ? m.shape[0] : m.shape[1];
        const x = await choleskySolve(L, d, gw, cols, opts); // [in, cols]
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

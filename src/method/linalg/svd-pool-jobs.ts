/**
 * The jobs the SVD pool (svd-pool.ts) runs, and the one function that runs them: the caller's thread
 * and the pool's workers execute this same code on the same bytes, so a result does not depend on which
 * thread computed it (bit for bit; tested in test/method/svd-pool.test.ts).
 */
import { matmul, matmulTN, polarWithValues, svdThin, transpose, type ThinSvd } from './dense.js';

/** A thin SVD of a float32 m×n matrix, optionally with a subspace projected out first. */
export interface SvdJob {
  readonly kind: 'svd';
  /** The matrix, row-major float32 (converted to float64 by the job). */
  readonly a: Float32Array;
  readonly m: number;
  readonly n: number;
  /** Triplets to keep (svdThin's `keep`). */
  readonly keep: number;
  /** svdThin's `zeroBelow`. */
  readonly zeroBelow: number;
  /** An m×c basis P with orthonormal columns: the job decomposes A − P (Pᵀ A) instead of A. */
  readonly project?: { readonly p: Float64Array; readonly c: number };
  /**
   * Instead of `project`, when P's orthogonal complement is smaller: r×m orthonormal rows Q spanning
   * it, and the job decomposes the same A − P Pᵀ A = Qᵀ (Q A) as the r×n matrix Q A, its left singular
   * vectors turned back by Qᵀ.
   */
  readonly basis?: { readonly q: Float64Array; readonly r: number };
}

/** The orthogonal polar factor of a float64 m×n matrix (polarWithValues' `p`). */
export interface PolarJob {
  readonly kind: 'polar';
  readonly a: Float64Array;
  readonly m: number;
  readonly n: number;
}

export type PoolJob = SvdJob | PolarJob;
export type PoolResult = ThinSvd | Float64Array;

/** Runs one job on this thread. */
export function runJob(job: PoolJob): PoolResult {
  if (job.kind === 'polar') return polarWithValues(job.a, job.m, job.n).p;
  const { m, n } = job;
  const w = Float64Array.from(job.a);
  if (job.basis !== undefined) {
    const { q, r } = job.basis;
    const d = svdThin(matmul(q, w, r, m, n), r, n, job.zeroBelow, job.keep);
    return { ...d, u: matmul(transpose(q, r, m), d.u, m, r, d.k) };
  }
  if (job.project !== undefined) {
    const { p, c } = job.project;
    const proj = matmul(p, matmulTN(p, w, m, c, n), m, c, n); // P Pᵀ A
    for (let j = 0; j < w.length; j++) w[j] = w[j]! - proj[j]!;
  }
  return svdThin(w, m, n, job.zeroBelow, job.keep);
}

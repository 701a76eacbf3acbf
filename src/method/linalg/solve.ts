/**
 * Symmetric positive definite solves in float64, for RegMean's closed form W = (Σ Gᵢ)⁻¹ Σ Gᵢ Wᵢᵀ: a blocked
 * right-looking Cholesky factorisation A = L·Lᵀ and the two triangular solves with many right-hand sides.
 * Every product — trailing updates, panels, substitutions (as products with the inverses of the diagonal
 * blocks) — goes to a `RowGemm` C − A·Bᵀ (onnxruntime's float64 Gemm for the 768/3072-wide systems of
 * CLIP, ~15× this file's loops; the JavaScript one by default); what stays here is O(n·block²): the
 * diagonal blocks and their inverses.
 *
 * fusion_bench inverts Σ Gᵢ with torch.inverse (LU) in float32; a Cholesky solve in float64 is the
 * accurate version of the same quantity for these symmetric positive semi-definite sums.
 *
 * Matrices are row-major Float64Arrays.
 */
import { matmulT, transpose } from './dense.js';

/**
 * C − A·Bᵀ for A (m×k), B (n×k), C (m×n): either C updated in place or a fresh array. May be async
 * (an onnxruntime session).
 */
export type RowGemm = (a: Float64Array, b: Float64Array, c: Float64Array, m: number, k: number, n: number) => Float64Array | Promise<Float64Array>;

export const jsRowGemm: RowGemm = (a, b, c, m, k, n) => {
  const p = matmulT(a, b, m, k, n);
  for (let i = 0; i < c.length; i++) c[i] = c[i]! - p[i]!;
  return c;
};

/** The matrix is not (numerically) positive definite: pivot `index` was `pivot`. */
export class NotPositiveDefiniteError extends Error {
  constructor(readonly index: number, readonly pivot: number, readonly maxDiagonal: number) {
    super(`matrix is not positive definite: pivot ${index} is ${pivot} (largest diagonal entry ${maxDiagonal})`);
  }
}

export interface SolveOptions {
  readonly gemm?: RowGemm;
  /** Block size (default 256): systems up to this size are factored here without any gemm call. */
  readonly block?: number;
}

/**
 * Pivots at or below n·ε·max(diag A) count as zero: such a direction is below float64 rounding of the
 * matrix, so no solve could tell it from a singular one.
 */
function tolerance(a: Float64Array, n: number): { tol: number; maxDiag: number } {
  let maxDiag = 0;
  for (let i = 0; i < n; i++) {
    const v = a[i * n + i]!;
    if (!Number.isFinite(v)) throw new NotPositiveDefiniteError(i, v, v);
    if (v > maxDiag) maxDiag = v;
  }
  return { tol: n * Number.EPSILON * maxDiag, maxDiag };
}

/**
 * The lower Cholesky factor L of a symmetric positive definite n×n matrix (only its lower triangle is
 * read); zeros above the diagonal. A pivot at or below the tolerance throws NotPositiveDefiniteError.
 */
export async function cholesky(a: Float64Array, n: number, opts: SolveOptions = {}): Promise<Float64Array> {
  const gemm = opts.gemm ?? jsRowGemm;
  const nb = Math.max(1, opts.block ?? 256);
  const { tol, maxDiag } = tolerance(a, n);
  const L = new Float64Array(n * n);
  // The trailing matrix still to factor, contiguous m×m (m = n − k0).
  let t: Float64Array = a.slice();
  let k0 = 0;
  while (k0 < n) {
    const m = n - k0;
    const b = Math.min(nb, m);
    const r = m - b;
    // Diagonal block: unblocked Cholesky, row dot products (both rows contiguous in L).
    for (let j = 0; j < b; j++) {
      const lj = (k0 + j) * n + k0;
      for (let i = j; i < b; i++) {
        const li = (k0 + i) * n + k0;
        let s = t[i * m + j]!;
        for (let q = 0; q < j; q++) s -= L[li + q]! * L[lj + q]!;
        if (i === j) {
          if (!(s > tol)) throw new NotPositiveDefiniteError(k0 + j, s, maxDiag);
          L[li + j] = Math.sqrt(s);
        } else {
          L[li + j] = s / L[lj + j]!;
        }
      }
    }
    if (r === 0) break;
    // Panel L21 = T21 · L11⁻ᵀ, a product with the inverse of the small triangular block (its condition
    // number is at most √cond(A): float64 keeps it far below float32 noise).
    const negT21 = new Float64Array(r * b);
    for (let i = 0; i < r; i++) {
      const ti = (b + i) * m;
      for (let j = 0; j < b; j++) negT21[i * b + j] = -t[ti + j]!;
    }
    const panel = await gemm(negT21, invLowerBlock(L, n, k0, b), new Float64Array(r * b), r, b, b);
    for (let i = 0; i < r; i++) L.set(panel.subarray(i * b, (i + 1) * b), (k0 + b + i) * n + k0);
    // Trailing update T22 − L21·L21ᵀ.
    const t22 = new Float64Array(r * r);
    for (let i = 0; i < r; i++) t22.set(t.subarray((b + i) * m + b, (b + i + 1) * m), i * r);
    t = await gemm(panel, panel, t22, r, b, r);
    k0 += b;
  }
  return L;
}

/** Rows r0..r1 of the n×n L, columns c0..c1, as a contiguous matrix. */
function block(L: Float64Array, n: number, r0: number, r1: number, c0: number, c1: number): Float64Array {
  const w = c1 - c0;
  const out = new Float64Array((r1 - r0) * w);
  for (let i = r0; i < r1; i++) out.set(L.subarray(i * n + c0, i * n + c1), (i - r0) * w);
  return out;
}

/** The inverse (lower triangular, b×b contiguous) of L's diagonal block at k0, by substitution. */
function invLowerBlock(L: Float64Array, n: number, k0: number, b: number): Float64Array {
  const x = new Float64Array(b * b);
  for (let i = 0; i < b; i++) {
    const li = (k0 + i) * n + k0;
    const d = 1 / L[li + i]!;
    x[i * b + i] = d;
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let q = j; q < i; q++) s += L[li + q]! * x[q * b + j]!;
      x[i * b + j] = -s * d;
    }
  }
  return x;
}

function negated(a: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = -a[i]!;
  return out;
}

/**
 * X with L·Lᵀ·X = B, for the Cholesky factor L (n×n) and B (n×m); B is not modified. Within a block the
 * substitution is a product with the block's inverse, so all O(n²·m) work goes through `gemm`.
 */
export async function choleskySolve(L: Float64Array, n: number, B: Float64Array, m: number, opts: SolveOptions = {}): Promise<Float64Array> {
  const gemm = opts.gemm ?? jsRowGemm;
  const nb = Math.max(1, opts.block ?? 256);
  const y = B.slice();
  const starts: number[] = [];
  for (let k0 = 0; k0 < n; k0 += nb) starts.push(k0);
  const inverses = new Map<number, Float64Array>();
  // Forward: L·Y = B, block by block; each solved block updates the rows below it.
  for (const k0 of starts) {
    const k1 = Math.min(k0 + nb, n);
    const b = k1 - k0;
    const inv = invLowerBlock(L, n, k0, b);
    inverses.set(k0, inv);
    const yk = await gemm(negated(inv), transpose(y.subarray(k0 * m, k1 * m), b, m), new Float64Array(b * m), b, b, m);
    y.set(yk, k0 * m);
    const r = n - k1;
    if (r > 0) {
      const upd = await gemm(block(L, n, k1, n, k0, k1), transpose(yk, b, m), y.subarray(k1 * m), r, b, m);
      if (upd.buffer !== y.buffer || upd.byteOffset !== k1 * m * 8) y.set(upd, k1 * m);
    }
  }
  // Backward: Lᵀ·X = Y, last block first; each solved block updates the rows above it.
  for (const k0 of starts.reverse()) {
    const k1 = Math.min(k0 + nb, n);
    const b = k1 - k0;
    const negInvT = negated(transpose(inverses.get(k0)!, b, b));
    const xk = await gemm(negInvT, transpose(y.subarray(k0 * m, k1 * m), b, m), new Float64Array(b * m), b, b, m);
    y.set(xk, k0 * m);
    if (k0 > 0) {
      // Y[0:k0] −= L[k0:k1, 0:k0]ᵀ · X[k0:k1]
      const lt = transpose(block(L, n, k0, k1, 0, k0), b, k0);
      const upd = await gemm(lt, transpose(xk, b, m), y.subarray(0, k0 * m), k0, b, m);
      if (upd.buffer !== y.buffer || upd.byteOffset !== 0) y.set(upd, 0);
    }
  }
  return y;
}

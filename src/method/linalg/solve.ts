/**
 * Symmetric positive definite solves in float64, for RegMean's closed form W = (Σ Gᵢ)⁻¹ Σ Gᵢ Wᵢᵀ: a blocked
 * right-looking Cholesky factorisation A = L·Lᵀ and the two triangular solves with many right-hand sides.
 * The O(n³) part — the trailing updates C − A·Bᵀ — goes to a `RowGemm` (onnxruntime's float64 Gemm for
 * the 768/3072-wide systems of CLIP, ~15× this file's loops; the JavaScript one here by default); what
 * stays here is O(n²·block): the diagonal blocks, the panels and the substitutions inside a block.
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
    // Panel L21 = T21 · L11⁻ᵀ: each row by forward substitution against L11's rows; kept contiguous (r×b).
    const panel = new Float64Array(r * b);
    for (let i = 0; i < r; i++) {
      const pi = i * b;
      const ti = (b + i) * m;
      for (let j = 0; j < b; j++) {
        const lj = (k0 + j) * n + k0;
        let s = t[ti + j]!;
        for (let q = 0; q < j; q++) s -= panel[pi + q]! * L[lj + q]!;
        panel[pi + j] = s / L[lj + j]!;
      }
      L.set(panel.subarray(pi, pi + b), (k0 + b + i) * n + k0);
    }
    // Trailing update T22 − L21·L21ᵀ.
    const t22 = new Float64Array(r * r);
    for (let i = 0; i < r; i++) t22.set(t.subarray((b + i) * m + b, (b + i + 1) * m), i * r);
    t = await gemm(panel, panel, t22, r, b, r);
    k0 += b;
  }
  return L;
}

/** Rows j0..j1 of the n×n L, columns c0..c1, as a contiguous matrix. */
function block(L: Float64Array, n: number, r0: number, r1: number, c0: number, c1: number): Float64Array {
  const w = c1 - c0;
  const out = new Float64Array((r1 - r0) * w);
  for (let i = r0; i < r1; i++) out.set(L.subarray(i * n + c0, i * n + c1), (i - r0) * w);
  return out;
}

/** Row j −= l · row q of the m-column matrix y. */
function subRow(y: Float64Array, j: number, q: number, l: number, m: number): void {
  if (l === 0) return;
  const dst = j * m;
  const src = q * m;
  for (let c = 0; c < m; c++) y[dst + c] = y[dst + c]! - l * y[src + c]!;
}

function scaleRow(y: Float64Array, j: number, s: number, m: number): void {
  for (let c = j * m, end = c + m; c < end; c++) y[c] = y[c]! * s;
}

/** X with L·Lᵀ·X = B, for the Cholesky factor L (n×n) and B (n×m); B is not modified. */
export async function choleskySolve(L: Float64Array, n: number, B: Float64Array, m: number, opts: SolveOptions = {}): Promise<Float64Array> {
  const gemm = opts.gemm ?? jsRowGemm;
  const nb = Math.max(1, opts.block ?? 256);
  const y = B.slice();
  const starts: number[] = [];
  for (let k0 = 0; k0 < n; k0 += nb) starts.push(k0);
  // Forward: L·Y = B, block by block; each solved block updates the rows below it.
  for (const k0 of starts) {
    const k1 = Math.min(k0 + nb, n);
    for (let j = k0; j < k1; j++) {
      for (let q = k0; q < j; q++) subRow(y, j, q, L[j * n + q]!, m);
      scaleRow(y, j, 1 / L[j * n + j]!, m);
    }
    const r = n - k1;
    if (r > 0) {
      const upd = await gemm(block(L, n, k1, n, k0, k1), transpose(y.subarray(k0 * m, k1 * m), k1 - k0, m), y.subarray(k1 * m), r, k1 - k0, m);
      if (upd.buffer !== y.buffer || upd.byteOffset !== k1 * m * 8) y.set(upd, k1 * m);
    }
  }
  // Backward: Lᵀ·X = Y, last block first; each solved block updates the rows above it.
  for (const k0 of starts.reverse()) {
    const k1 = Math.min(k0 + nb, n);
    for (let j = k1 - 1; j >= k0; j--) {
      for (let q = j + 1; q < k1; q++) subRow(y, j, q, L[q * n + j]!, m);
      scaleRow(y, j, 1 / L[j * n + j]!, m);
    }
    if (k0 > 0) {
      // Y[0:k0] −= L[k0:k1, 0:k0]ᵀ · X[k0:k1]
      const lt = transpose(block(L, n, k0, k1, 0, k0), k1 - k0, k0);
      const upd = await gemm(lt, transpose(y.subarray(k0 * m, k1 * m), k1 - k0, m), y.subarray(0, k0 * m), k0, k1 - k0, m);
      if (upd.buffer !== y.buffer || upd.byteOffset !== 0) y.set(upd, 0);
    }
  }
  return y;
}

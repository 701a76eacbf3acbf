/**
 * Dense float64 linear algebra for the SVD-based methods (TSV-M, Iso-C, Iso-CTS) and WUDI, with no
 * native dependency beyond onnxruntime: a symmetric eigensolver (blocked Householder tridiagonalisation,
 * tridiag-reduce.ts; eigenvalues by QL and eigenvectors by inverse iteration, tridiag-eig.ts), and on top
 * of it the thin SVD and the polar factor through the Gram matrix of the smaller side. The O(n³) work is
 * matrix products, which run on onnxruntime's MatMul (ort-gemm.ts) when they are large enough.
 * Inputs are float32 tensors; everything is computed in float64, which
 * leaves only float32 noise against torch's float32 LAPACK path (the Gram squares the condition number:
 * σ below ~1e-7·σ_max lose relative accuracy, far below what float32 inputs resolve).
 *
 * Ambiguities are resolved so that no result depends on them: singular vectors come in sign pairs that
 * the methods use only as u·vᵀ products (or through polar factors), and directions of (numerically) zero
 * singular value are returned as zero vectors instead of an arbitrary completion — never NaN.
 *
 * Matrices are row-major Float64Arrays.
 */
import { ORT_MIN_FMAS, ortGram, ortGramT, ortMatmul, ortMatmulT, ortMatmulTView } from './ort-gemm.js';
import { tridiagEigen, type EigenPick } from './tridiag-eig.js';
import { reduceTridiagonal } from './tridiag-reduce.js';

/**
 * Row dot products out[i·ldo + j] = Σₜ x[i·L + t]·y[j·L + t] (i < p, j < q): the one kernel behind the
 * products here. Both operands are read along contiguous rows, 4×4 outputs at a time (16 accumulators fed
 * by 8 loads), so the inner loop stays in registers and L1 instead of striding through memory.
 * With `sym` (x = y) only j ≥ i is computed and mirrored.
 */
function dotRows(x: Float64Array, p: number, y: Float64Array, q: number, L: number, out: Float64Array, ldo: number, sym: boolean): void {
  const p4 = p - (p % 4);
  const q4 = q - (q % 4);
  for (let i = 0; i < p4; i += 4) {
    const x0 = i * L, x1 = x0 + L, x2 = x1 + L, x3 = x2 + L;
    for (let j = sym ? i : 0; j < q4; j += 4) {
      const y0 = j * L, y1 = y0 + L, y2 = y1 + L, y3 = y2 + L;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let t = 0; t < L; t++) {
        const a0 = x[x0 + t]!, a1 = x[x1 + t]!, a2 = x[x2 + t]!, a3 = x[x3 + t]!;
        const b0 = y[y0 + t]!, b1 = y[y1 + t]!, b2 = y[y2 + t]!, b3 = y[y3 + t]!;
        s00 += a0 * b0; s01 += a0 * b1; s02 += a0 * b2; s03 += a0 * b3;
        s10 += a1 * b0; s11 += a1 * b1; s12 += a1 * b2; s13 += a1 * b3;
        s20 += a2 * b0; s21 += a2 * b1; s22 += a2 * b2; s23 += a2 * b3;
        s30 += a3 * b0; s31 += a3 * b1; s32 += a3 * b2; s33 += a3 * b3;
      }
      let o = i * ldo + j;
      out[o] = s00; out[o + 1] = s01; out[o + 2] = s02; out[o + 3] = s03; o += ldo;
      out[o] = s10; out[o + 1] = s11; out[o + 2] = s12; out[o + 3] = s13; o += ldo;
      out[o] = s20; out[o + 1] = s21; out[o + 2] = s22; out[o + 3] = s23; o += ldo;
      out[o] = s30; out[o + 1] = s31; out[o + 2] = s32; out[o + 3] = s33;
    }
  }
  // the edges (rows past p4, columns past q4) one dot product at a time
  for (let i = 0; i < p; i++) {
    for (let j = sym ? i : 0; j < q; j++) {
      if (i < p4 && j < q4) continue;
      const xi = i * L, yj = j * L;
      let s = 0;
      for (let t = 0; t < L; t++) s += x[xi + t]! * y[yj + t]!;
      out[i * ldo + j] = s;
    }
  }
  if (sym) for (let i = 0; i < p; i++) for (let j = i + 1; j < q; j++) out[j * ldo + i] = out[i * ldo + j]!;
}

/** A (m×k) · B (k×n) → m×n. */
export function matmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  if (m * k * n >= ORT_MIN_FMAS) {
    const r = ortMatmul(a, b, m, k, n);
    if (r !== null) return r;
  }
  const out = new Float64Array(m * n);
  dotRows(a, m, transpose(b, k, n), n, k, out, n, false);
  return out;
}

/** A (m×k) · Bᵀ for B (n×k) → m×n: rows of A against rows of B. */
export function matmulT(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  if (m * k * n >= ORT_MIN_FMAS) {
    const r = ortMatmulT(a, b, m, k, n);
    if (r !== null) return r;
  }
  const out = new Float64Array(m * n);
  dotRows(a, m, b, n, k, out, n, false);
  return out;
}

/** Aᵀ B for A (k×m), B (k×n) → m×n, without a transposed copy of A where onnxruntime runs it. */
export function matmulTN(a: Float64Array, b: Float64Array, k: number, m: number, n: number): Float64Array {
  if (m * k * n >= ORT_MIN_FMAS) {
    const r = ortMatmulTView(k, m, n, (d) => d.set(a.subarray(0, k * m)), (d) => d.set(b.subarray(0, k * n)));
    if (r !== null) return r.slice();
  }
  return matmul(transpose(a, k, m), b, m, k, n);
}

/** Aᵀ of an m×n matrix, in 32×32 blocks (both sides stay in cache). */
export function transpose(a: Float64Array, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  transposeInto(out, a, m, n);
  return out;
}

function transposeInto(out: Float64Array, a: Float64Array, m: number, n: number): void {
  const B = 32;
  for (let i0 = 0; i0 < m; i0 += B) {
    const i1 = Math.min(i0 + B, m);
    for (let j0 = 0; j0 < n; j0 += B) {
      const j1 = Math.min(j0 + B, n);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * m + i] = a[i * n + j]!;
    }
  }
}

/** AᵀA (n×n) of an m×n matrix, exactly symmetric: dot products of A's columns. */
export function gram(a: Float64Array, m: number, n: number): Float64Array {
  const g = m * n * n >= ORT_MIN_FMAS ? ortGram(a, m, n) : null;
  if (g !== null) return mirrorUpper(g, n);
  const cols = transpose(a, m, n); // n×m, columns made contiguous
  const out = new Float64Array(n * n);
  dotRows(cols, n, cols, n, m, out, n, true);
  return out;
}

/** AAᵀ (m×m) of an m×n matrix, exactly symmetric: dot products of A's rows. */
export function gramT(a: Float64Array, m: number, n: number): Float64Array {
  const g = m * m * n >= ORT_MIN_FMAS ? ortGramT(a, m, n) : null;
  if (g !== null) return mirrorUpper(g, m);
  const out = new Float64Array(m * m);
  dotRows(a, m, a, m, n, out, m, true);
  return out;
}

/**
 * g's upper triangle mirrored onto the lower, in blocks that stay in cache: a GEMM's summation order may
 * differ between (i, j) and (j, i), and the eigensolver reads both halves.
 */
function mirrorUpper(g: Float64Array, n: number): Float64Array {
  const B = 32;
  for (let i0 = 0; i0 < n; i0 += B) {
    for (let j0 = i0; j0 < n; j0 += B) {
      for (let i = i0; i < Math.min(i0 + B, n); i++) for (let j = Math.max(j0, i + 1); j < Math.min(j0 + B, n); j++) g[j * n + i] = g[i * n + j]!;
    }
  }
  return g;
}

/**
 * Eigen-decomposition of a symmetric n×n matrix: eigenvalues (all n) in descending order and the
 * orthonormal eigenvectors of the `count` largest (default all) as the columns of `vectors` (n×count,
 * row-major). Householder tridiagonalisation, then the tridiagonal's eigenvectors by inverse iteration
 * (tridiag-eig.ts: O(n²) instead of QL's O(n³) rotations, orthogonal to ~1e-13 without a polishing
 * pass) turned back by Q in matrix products.
 */
export function symEig(a: Float64Array, n: number, count = n): { values: Float64Array; vectors: Float64Array } {
  const { values, rows } = symEigRows(a, n, count);
  return { values, vectors: transpose(rows, count, n) };
}

/**
 * symEig with the eigenvectors as the rows of `rows`, the layout the solver produces: the `count`
 * largest, or those `pick` chooses from the eigenvalues (row j: the vector of values[picked[j]]).
 */
export function symEigRows(a: Float64Array, n: number, pick: EigenPick = n): { values: Float64Array; rows: Float64Array; picked: Int32Array } {
  const red = reduceTridiagonal(a, n, matmul, matmulT); // Qᵀ A Q = T
  const t = tridiagEigen(red.d, red.off, n, pick);
  red.applyQ(t.rows, t.picked.length); // Q y for each row
  return t;
}

/** 16ε: XᵀX within NS_SKIP·√n of I needs no Newton–Schulz step (polarWithValues). */
const NS_SKIP = 16 * 2 ** -52;

/** Eigenvalues of a Gram matrix at or below this fraction of the largest count as zero. */
const RANK_TOL = 1e-13;

export interface ThinSvd {
  /** m×k, columns are left singular vectors (zero for zero singular values). */
  readonly u: Float64Array;
  /** k values, descending, ≥ 0. */
  readonly s: Float64Array;
  /** k×n, rows are right singular vectors (zero for zero singular values). */
  readonly vt: Float64Array;
  readonly k: number;
}

/**
 * Thin SVD A = U diag(s) Vᵀ of an m×n matrix through the Gram matrix of the smaller side, keeping the
 * top `keep` triplets (default all k = min(m, n); the methods use only the leading ones, and U's columns
 * cost an m×n×keep product each). Singular values at or below `zeroBelow` (besides the relative rank
 * tolerance) count as zero.
 */
export function svdThin(a: Float64Array, m: number, n: number, zeroBelow = 0, keep = Math.min(m, n)): ThinSvd {
  // the Gram matrix of the smaller side: V's rows from AᵀA when m ≥ n, U's columns from AAᵀ otherwise
  const tall = m >= n;
  const side = tall ? n : m;
  const k = Math.max(0, Math.min(keep, side));
  const { values, rows } = symEigRows(tall ? gram(a, m, n) : gramT(a, m, n), side, k);
  const { s, scaled, zero } = singularFromGram(values, rows, k, side, zeroBelow);
  for (const j of zero) rows.fill(0, j * side, j * side + side); // zero σ: zero vectors, never NaN
  if (tall) return { u: matmulT(a, scaled, m, n, k), s, vt: rows, k }; // A V diag(1/σ) = U
  return { u: transpose(rows, k, m), s, vt: matmul(scaled, a, k, m, n), k }; // diag(1/σ) Uᵀ A = Vᵀ
}

/**
 * σ = √λ of the first k eigenpairs of a Gram matrix (eigenvectors as rows of `side`), and the rows
 * divided by σ; σ at or below the rank tolerance or `zeroBelow` are zero, with zero scaled rows, and
 * listed in `zero` (their vectors, left as they are, must not be used as singular vectors).
 */
function singularFromGram(values: Float64Array, rows: Float64Array, k: number, side: number, zeroBelow: number): { s: Float64Array; scaled: Float64Array; zero: number[] } {
  const s = new Float64Array(k);
  const top = Math.max(values[0] ?? 0, 0);
  const scaled = new Float64Array(k * side); // rows / σ
  const zero: number[] = [];
  for (let j = 0; j < k; j++) {
    const lambda = values[j]!;
    const sigma = Math.sqrt(lambda);
    if (!(lambda > RANK_TOL * top) || top === 0 || sigma <= zeroBelow) {
      zero.push(j);
      continue;
    }
    s[j] = sigma;
    for (let i = 0; i < side; i++) scaled[j * side + i] = rows[j * side + i]! / sigma;
  }
  return { s, scaled, zero };
}

/**
 * svdThin of a wide or square m×n matrix (m ≤ n) keeping `keep` triplets, from all m eigenvectors of
 * AAᵀ, and also the orthogonal complement of the kept left singular vectors of non-zero σ: `complement`
 * (rest×m, orthonormal rows: the other eigenvectors and those of the zeroed σ). Iso-CTS projects the
 * task matrices onto it (svd-pool-jobs.ts' `basis`), a (m − keep)-dimensional space instead of an m×n
 * matrix with a keep-dimensional space removed.
 */
export function svdThinComplement(a: Float64Array, m: number, n: number, keep: number): ThinSvd & { readonly complement: Float64Array; readonly rest: number } {
  if (m > n) throw new Error(`svdThinComplement: ${m}×${n} is tall; it needs m ≤ n`);
  const k = Math.max(0, Math.min(keep, m));
  const { values, rows } = symEigRows(gramT(a, m, n), m, m);
  const { s, scaled, zero } = singularFromGram(values, rows, k, m, 0);
  const rest = m - k + zero.length;
  const complement = new Float64Array(rest * m);
  complement.set(rows.subarray(k * m)); // eigenvectors k … m − 1
  zero.forEach((j, i) => {
    complement.set(rows.subarray(j * m, (j + 1) * m), (m - k + i) * m);
    rows.fill(0, j * m, (j + 1) * m);
  });
  return { u: transpose(rows, k, m), s, vt: matmul(scaled, a, k, m, n), k, complement, rest };
}

/**
 * The orthogonal polar factor U Vᵀ of an m×n matrix A = U Σ Vᵀ (torch's `u @ vh` of its thin SVD): the
 * nearest matrix with orthonormal columns (rows, when m < n). Independent of the singular vectors' signs
 * and of the basis chosen inside repeated singular values; directions of zero singular value map to zero.
 */
export function polar(a: Float64Array, m: number, n: number): Float64Array {
  return polarWithValues(a, m, n).p;
}

/** The polar factor and the singular values (descending, min(m, n) of them) from one eigen-decomposition. */
export function polarWithValues(a: Float64Array, m: number, n: number): { p: Float64Array; s: Float64Array } {
  if (m < n) {
    const t = polarWithValues(transpose(a, m, n), n, m);
    return { p: transpose(t.p, n, m), s: t.s };
  }
  // A (AᵀA)^(-1/2) with the pseudo-inverse on zero eigenvalues
  const { values, rows, picked } = symEigRows(gram(a, m, n), n, outsideUnitBand);
  const top = Math.max(values[0] ?? 0, 0);
  const s = new Float64Array(n);
  if (picked.length < n) return nearIdentityPolar(a, m, n, values, rows, picked, s);
  for (let j = 0; j < n; j++) {
    const lambda = values[j]!;
    if (!(lambda > RANK_TOL * top) || top === 0) {
      rows.fill(0, j * n, j * n + n);
      continue;
    }
    s[j] = Math.sqrt(lambda);
    const scale = 1 / Math.sqrt(s[j]!);
    for (let i = 0; i < n; i++) rows[j * n + i] = rows[j * n + i]! * scale;
  }
  const x = matmul(a, gram(rows, n, n), m, n, n); // V diag(1/σ) Vᵀ = Sᵀ S with S = diag(σ^−½) Vᵀ
  return { p: newtonSchulz(x, m, n, s), s };
}

/**
 * Eigenvalues of AᵀA within this distance of 1 (and above the rank tolerance) may be taken as 1 by
 * polarWithValues: (AᵀA)^(−1/2) is then off by a symmetric factor I + F, ‖F‖ ≤ POLAR_BAND/2, that
 * commutes with AᵀA, and the Newton–Schulz step after it leaves ~(3/2)‖F‖² ≈ 4e-17 of it.
 */
const POLAR_BAND = 1e-8;
/** polarWithValues leaves out the band's eigenvectors when at least this share of the eigenvalues is in it. */
const POLAR_BAND_MIN = 0.25;

/**
 * The eigenvectors polarWithValues needs, from the descending eigenvalues of AᵀA: all of them, unless
 * at least POLAR_BAND_MIN of the values are within POLAR_BAND of 1 (and above the rank tolerance):
 * then only the others.
 */
export function outsideUnitBand(values: Float64Array): Int32Array {
  const n = values.length;
  const top = Math.max(values[0] ?? 0, 0);
  const outside: number[] = [];
  values.forEach((v, j) => { if (!(Math.abs(v - 1) <= POLAR_BAND && v > RANK_TOL * top)) outside.push(j); });
  return n - outside.length >= POLAR_BAND_MIN * n && n > 0 ? Int32Array.from(outside) : Int32Array.from({ length: n }, (_, j) => j);
}

/**
 * The polar factor when many eigenvalues of AᵀA are 1 to POLAR_BAND (Iso-CTS's stacked singular
 * vectors: the common subspace's are orthonormal, and orthogonal to the task-specific ones):
 * A (I + Σ cⱼ vⱼ vⱼᵀ) over the eigenvectors outside the band only, cⱼ = λⱼ^(−1/2) − 1 (−1 on zero
 * eigenvalues), then the Newton–Schulz step (always taken: it removes the band's approximation).
 * Saves the eigenvectors of the band — one large cluster, reorthogonalised vector by vector in the
 * inverse iteration — and the n×n×n product.
 */
function nearIdentityPolar(a: Float64Array, m: number, n: number, values: Float64Array, rows: Float64Array, picked: Int32Array, s: Float64Array): { p: Float64Array; s: Float64Array } {
  const top = Math.max(values[0] ?? 0, 0);
  for (let j = 0; j < n; j++) if (values[j]! > RANK_TOL * top && top > 0) s[j] = Math.sqrt(values[j]!);
  const o = picked.length;
  const coef = Float64Array.from(picked, (j) => (s[j]! > 0 ? 1 / s[j]! - 1 : -1));
  const av = matmulT(a, rows, m, n, o); // A vⱼ as columns
  for (let i = 0; i < m; i++) for (let j = 0; j < o; j++) av[i * o + j] = av[i * o + j]! * coef[j]!;
  const x = matmul(av, rows, m, o, n);
  for (let i = 0; i < m * n; i++) x[i] = x[i]! + a[i]!;
  return { p: newtonSchulz(x, m, n, s, true), s };
}

/**
 * One Newton–Schulz step X(3I − XᵀX)/2 unless X is orthonormal to rounding already (and `always` is
 * not set); σ (descending) says whether A had full rank.
 */
function newtonSchulz(x: Float64Array, m: number, n: number, s: Float64Array, always = false): Float64Array {
  // One Newton–Schulz step X(3I − XᵀX)/2 restores orthonormality to float64 precision where the Gram
  // (which squares the condition number) left ~1e-8; zero directions stay zero. Where X is already
  // orthonormal to rounding (full rank, |XᵀX − I| ≤ 16ε√n: a well-conditioned A) the step would move it
  // by rounding only, and its m×n×n product is skipped.
  const xtx = gram(x, m, n);
  let off = s[n - 1]! > 0 && !always ? 0 : Infinity;
  for (let i = 0; i < n && off <= NS_SKIP * Math.sqrt(n); i++) for (let j = 0; j < n; j++) off = Math.max(off, Math.abs(xtx[i * n + j]! - (i === j ? 1 : 0)));
  if (off <= NS_SKIP * Math.sqrt(n)) return x;
  for (let i = 0; i < n * n; i++) xtx[i] = -0.5 * xtx[i]!;
  for (let i = 0; i < n; i++) xtx[i * n + i] = xtx[i * n + i]! + 1.5;
  return matmul(x, xtx, m, n, n);
}

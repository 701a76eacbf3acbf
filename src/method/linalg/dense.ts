/**
 * Dense float64 linear algebra for the SVD-based methods (TSV-M, Iso-C, Iso-CTS), written here so the
 * package stays dependency-free: a symmetric eigensolver (Householder tridiagonalisation + implicit QL,
 * the EISPACK tred2/tql2 pair as in JAMA), and on top of it the thin SVD and the polar factor through the
 * Gram matrix of the smaller side. Inputs are float32 tensors; everything is computed in float64, which
 * leaves only float32 noise against torch's float32 LAPACK path (the Gram squares the condition number:
 * σ below ~1e-7·σ_max lose relative accuracy, far below what float32 inputs resolve).
 *
 * Ambiguities are resolved so that no result depends on them: singular vectors come in sign pairs that
 * the methods use only as u·vᵀ products (or through polar factors), and directions of (numerically) zero
 * singular value are returned as zero vectors instead of an arbitrary completion — never NaN.
 *
 * Matrices are row-major Float64Arrays.
 */

/** A (m×k) · B (k×n) → m×n. */
export function matmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const oi = i * n;
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p]!;
      if (x === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) out[oi + j] += x * b[bp + j]!;
    }
  }
  return out;
}

/** Aᵀ of an m×n matrix. */
export function transpose(a: Float64Array, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = a[i * n + j]!;
  return out;
}

/** AᵀA (n×n) of an m×n matrix, symmetric: dot products of A's columns, made contiguous first. */
export function gram(a: Float64Array, m: number, n: number): Float64Array {
  const cols = transpose(a, m, n); // n×m
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ci = i * m;
    for (let j = i; j < n; j++) {
      const cj = j * m;
      let s0 = 0;
      let s1 = 0;
      let r = 0;
      for (; r + 1 < m; r += 2) {
        s0 += cols[ci + r]! * cols[cj + r]!;
        s1 += cols[ci + r + 1]! * cols[cj + r + 1]!;
      }
      if (r < m) s0 += cols[ci + r]! * cols[cj + r]!;
      g[i * n + j] = s0 + s1;
      g[j * n + i] = s0 + s1;
    }
  }
  return g;
}

/**
 * Eigen-decomposition of a symmetric n×n matrix: eigenvalues in descending order and the matching
 * orthonormal eigenvectors as the columns of `vectors` (n×n, row-major).
 */
export function symEig(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  // V holds the matrix, then the eigenvectors; d, e the tridiagonal (tred2 / tql2 from JAMA).
  const V: Float64Array[] = Array.from({ length: n }, (_, i) => a.slice(i * n, i * n + n));
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tred2(V, d, e, n);
  // tql2 rotates pairs of eigenvectors: stored as rows (W = Vᵀ) its loops run over contiguous memory
  const W: Float64Array[] = Array.from({ length: n }, (_, j) => Float64Array.from({ length: n }, (_, i) => V[i]![j]!));
  tql2(W, d, e, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y]! - d[x]!);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = d[src]!;
    const w = W[src]!;
    for (let i = 0; i < n; i++) vectors[i * n + dst] = w[i]!;
  });
  return { values, vectors };
}

function tred2(V: Float64Array[], d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = V[n - 1]![j]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = V[i - 1]![j]!;
        V[i]![j] = 0;
        V[j]![i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = d[k]! / scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        V[j]![i] = f;
        g = e[j]! + V[j]![j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k]![j]! * d[k]!;
          e[k] = e[k]! + V[k]![j]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) V[k]![j] = V[k]![j]! - (f * e[k]! + g * d[k]!);
        d[j] = V[i - 1]![j]!;
        V[i]![j] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    V[n - 1]![i] = V[i]![i]!;
    V[i]![i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k]![i + 1]! / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k]![i + 1]! * V[k]![j]!;
        for (let k = 0; k <= i; k++) V[k]![j] = V[k]![j]! - g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) V[k]![i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[n - 1]![j]!;
    V[n - 1]![j] = 0;
  }
  V[n - 1]![n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL on the tridiagonal (d, e), accumulating into the eigenvectors stored as the rows of W. */
function tql2(W: Float64Array[], d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      for (let iter = 0; ; iter++) {
        if (iter > 60) throw new Error('symEig: the QL iteration did not converge');
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          const wi = W[i]!;
          const wj = W[i + 1]!;
          for (let k = 0; k < n; k++) {
            h = wj[k]!;
            wj[k] = s * wi[k]! + c * h;
            wi[k] = c * wi[k]! - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
        if (!(Math.abs(e[l]!) > eps * tst1)) break;
      }
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}

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
 * Thin SVD A = U diag(s) Vᵀ of an m×n matrix, k = min(m, n), through the Gram matrix of the smaller side.
 * Singular values at or below `zeroBelow` (besides the relative rank tolerance) count as zero.
 */
export function svdThin(a: Float64Array, m: number, n: number, zeroBelow = 0): ThinSvd {
  if (m < n) {
    const t = svdThin(transpose(a, m, n), n, m, zeroBelow);
    return { u: transpose(t.vt, t.k, m), s: t.s, vt: transpose(t.u, n, t.k), k: t.k };
  }
  const k = n;
  const { values, vectors } = symEig(gram(a, m, n), n); // AᵀA = V diag(σ²) Vᵀ
  const s = new Float64Array(k);
  const top = Math.max(values[0] ?? 0, 0);
  const av = matmul(a, vectors, m, n, k); // A V = U diag(σ)
  const u = new Float64Array(m * k);
  const vt = new Float64Array(k * n);
  for (let j = 0; j < k; j++) {
    const lambda = values[j]!;
    if (!(lambda > RANK_TOL * top) || top === 0) continue; // zero σ: zero vectors, never NaN
    const sigma = Math.sqrt(lambda);
    if (sigma <= zeroBelow) continue;
    s[j] = sigma;
    for (let i = 0; i < m; i++) u[i * k + j] = av[i * k + j]! / sigma;
    for (let i = 0; i < n; i++) vt[j * n + i] = vectors[i * k + j]!;
  }
  return { u, s, vt, k };
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
  const { values, vectors } = symEig(gram(a, m, n), n);
  const top = Math.max(values[0] ?? 0, 0);
  const scaled = new Float64Array(n * n); // V diag(1/σ)
  const s = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const lambda = values[j]!;
    if (!(lambda > RANK_TOL * top) || top === 0) continue;
    s[j] = Math.sqrt(lambda);
    const inv = 1 / s[j]!;
    for (let i = 0; i < n; i++) scaled[i * n + j] = vectors[i * n + j]! * inv;
  }
  const inner = matmul(scaled, transpose(vectors, n, n), n, n, n); // V diag(1/σ) Vᵀ
  const x = matmul(a, inner, m, n, n);
  // One Newton–Schulz step X(3I − XᵀX)/2 restores orthonormality to float64 precision where the Gram
  // (which squares the condition number) left ~1e-8; zero directions stay zero.
  const xtx = gram(x, m, n);
  for (let i = 0; i < n * n; i++) xtx[i] = -0.5 * xtx[i]!;
  for (let i = 0; i < n; i++) xtx[i * n + i] = xtx[i * n + i]! + 1.5;
  return { p: matmul(x, xtx, m, n, n), s };
}

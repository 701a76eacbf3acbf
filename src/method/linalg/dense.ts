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
  const out = new Float64Array(m * n);
  dotRows(a, m, transpose(b, k, n), n, k, out, n, false);
  return out;
}

/** A (m×k) · Bᵀ for B (n×k) → m×n: rows of A against rows of B. */
export function matmulT(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  dotRows(a, m, b, n, k, out, n, false);
  return out;
}

/** Aᵀ of an m×n matrix, in 32×32 blocks (both sides stay in cache). */
export function transpose(a: Float64Array, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  const B = 32;
  for (let i0 = 0; i0 < m; i0 += B) {
    const i1 = Math.min(i0 + B, m);
    for (let j0 = 0; j0 < n; j0 += B) {
      const j1 = Math.min(j0 + B, n);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * m + i] = a[i * n + j]!;
    }
  }
  return out;
}

/** AᵀA (n×n) of an m×n matrix, symmetric: dot products of A's columns, made contiguous first. */
export function gram(a: Float64Array, m: number, n: number): Float64Array {
  const cols = transpose(a, m, n); // n×m
  const g = new Float64Array(n * n);
  dotRows(cols, n, cols, n, m, g, n, true);
  return g;
}

/**
 * Eigen-decomposition of a symmetric n×n matrix: eigenvalues in descending order and the matching
 * orthonormal eigenvectors as the columns of `vectors` (n×n, row-major).
 */
export function symEig(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const W = tridiagonalize(a.slice(), d, e, n); // rows of W: the basis that makes a tridiagonal
  tql2(W, d, e, n); // rotates the rows of W into the eigenvectors
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y]! - d[x]!);
  const values = new Float64Array(n);
  const rowsInOrder = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = d[src]!;
    rowsInOrder.set(W.subarray(src * n, src * n + n), dst * n);
  });
  return { values, vectors: transpose(rowsInOrder, n, n) };
}

/** Σₖ<len a[at + k]·b[k], four partial sums (independent additions keep the pipeline full). */
function dot(a: Float64Array, at: number, b: Float64Array, len: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let k = 0;
  for (; k + 3 < len; k += 4) {
    s0 += a[at + k]! * b[k]!;
    s1 += a[at + k + 1]! * b[k + 1]!;
    s2 += a[at + k + 2]! * b[k + 2]!;
    s3 += a[at + k + 3]! * b[k + 3]!;
  }
  for (; k < len; k++) s0 += a[at + k]! * b[k]!;
  return s0 + s1 + (s2 + s3);
}

/**
 * Householder reduction of a symmetric n×n matrix `A` (overwritten) to tridiagonal form, from the last
 * row up as EISPACK's tred2: d gets the diagonal, e[i] the (i, i−1) entry (e[0] = 0). Returns Qᵀ
 * (row-major) for the orthogonal Q with Qᵀ·A·Q tridiagonal. Unlike tred2, every loop runs along rows
 * (the whole symmetric block is updated, a rank-2 update per step), and Qᵀ is accumulated from the right,
 * Qᵀ = H₁·H₂·…·Hₙ₋₁, so the reflections touch contiguous memory too.
 */
function tridiagonalize(A: Float64Array, d: Float64Array, e: Float64Array, n: number): Float64Array {
  const V = new Float64Array(n * n); // row i: reflection vector of step i (first i entries)
  const hs = new Float64Array(n); // its vᵀv/2 (0: no reflection)
  let q = new Float64Array(n);
  let pNext = new Float64Array(n);
  let pReady = false; // pNext already holds A·v/h for this step's v, formed during the last update
  /** Row i's reflection vector into V (entries < i); returns h = vᵀv/2, 0 where there is none. */
  const reflect = (i: number): number => {
    const ri = i * n;
    let scale = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(A[ri + k]!);
    if (scale === 0 || i === 1) {
      e[i] = A[ri + i - 1]!;
      return 0;
    }
    let h = 0;
    for (let k = 0; k < i; k++) {
      const x = A[ri + k]! / scale;
      V[ri + k] = x;
      h += x * x;
    }
    const f = V[ri + i - 1]!;
    const g = f > 0 ? -Math.sqrt(h) : Math.sqrt(h);
    e[i] = scale * g;
    h -= f * g;
    V[ri + i - 1] = f - g;
    return h;
  };
  for (let i = n - 1; i > 0; i--) {
    const ri = i * n;
    d[i] = A[ri + i]!;
    const h = reflect(i);
    hs[i] = h;
    if (h === 0) {
      pReady = false;
      continue;
    }
    const v = V.subarray(ri, ri + i);
    if (!pReady) {
      for (let j = 0; j < i; j++) pNext[j] = dot(A, j * n, v, i) / h;
    }
    // q = p − K v with p = A v / h, K = vᵀp / 2h; the update is A −= v qᵀ + q vᵀ on the leading i×i block
    [q, pNext] = [pNext, q];
    let vp = 0;
    for (let j = 0; j < i; j++) vp += v[j]! * q[j]!;
    const K = vp / (h + h);
    for (let j = 0; j < i; j++) q[j] = q[j]! - K * v[j]!;
    const update = (j: number): void => {
      const rj = j * n;
      const vj = v[j]!;
      const qj = q[j]!;
      for (let k = 0; k < i; k++) A[rj + k] = A[rj + k]! - (vj * q[k]! + qj * v[k]!);
    };
    // Row i−1 first: it defines the next step's vector, so the other rows' update pass can also form
    // A·v' for it while each row is in cache (one sweep over the block per step instead of two).
    update(i - 1);
    const i1 = i - 1;
    const h1 = i1 > 0 ? reflect(i1) : 0;
    pReady = h1 !== 0;
    const w = V.subarray(i1 * n, i1 * n + i1);
    for (let j = 0; j < i1; j++) {
      update(j);
      if (!pReady) continue;
      pNext[j] = dot(A, j * n, w, i1) / h1;
    }
  }
  d[0] = A[0]!;
  e[0] = 0;
  // Qᵀ = H₁·…·Hₙ₋₁ with H = I − v vᵀ / h; before step i only the leading i×i block differs from I
  const Z = new Float64Array(n * n);
  for (let i = 0; i < n; i++) Z[i * n + i] = 1;
  for (let i = 2; i < n; i++) {
    const h = hs[i]!;
    if (h === 0) continue;
    const v = V.subarray(i * n, i * n + i);
    for (let r = 0; r < i; r++) {
      const rr = r * n;
      const s = dot(Z, rr, v, i) / h;
      if (s !== 0) for (let k = 0; k < i; k++) Z[rr + k] = Z[rr + k]! - s * v[k]!;
    }
  }
  return Z;
}

/** Implicit QL on the tridiagonal (d, e), accumulating into the eigenvectors stored as the rows of W. */
function tql2(W: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
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
          const wi = i * n;
          const wj = wi + n;
          for (let k = 0; k < n; k++) {
            const x = W[wj + k]!;
            const y = W[wi + k]!;
            W[wj + k] = s * y + c * x;
            W[wi + k] = c * y - s * x;
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
 * Thin SVD A = U diag(s) Vᵀ of an m×n matrix through the Gram matrix of the smaller side, keeping the
 * top `keep` triplets (default all k = min(m, n); the methods use only the leading ones, and U's columns
 * cost an m×n×keep product each). Singular values at or below `zeroBelow` (besides the relative rank
 * tolerance) count as zero.
 */
export function svdThin(a: Float64Array, m: number, n: number, zeroBelow = 0, keep = Math.min(m, n)): ThinSvd {
  if (m < n) {
    const t = svdThin(transpose(a, m, n), n, m, zeroBelow, keep);
    return { u: transpose(t.vt, t.k, m), s: t.s, vt: transpose(t.u, n, t.k), k: t.k };
  }
  const k = Math.max(0, Math.min(keep, n));
  const { values, vectors } = symEig(gram(a, m, n), n); // AᵀA = V diag(σ²) Vᵀ
  const s = new Float64Array(k);
  const top = Math.max(values[0] ?? 0, 0);
  const vt = new Float64Array(k * n);
  for (let j = 0; j < k; j++) {
    const lambda = values[j]!;
    if (!(lambda > RANK_TOL * top) || top === 0) continue; // zero σ: zero vectors, never NaN
    const sigma = Math.sqrt(lambda);
    if (sigma <= zeroBelow) continue;
    s[j] = sigma;
    for (let i = 0; i < n; i++) vt[j * n + i] = vectors[i * n + j]!;
  }
  const u = matmulT(a, vt, m, n, k); // A V = U diag(σ)
  for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) u[i * k + j] = s[j]! > 0 ? u[i * k + j]! / s[j]! : 0;
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

/**
 * Blocked Householder reduction of a symmetric matrix to tridiagonal form, as LAPACK's dsytrd (lower):
 * each panel of PANEL columns is reduced with matrix–vector products against the panel-start matrix
 * and the panel's own reflectors (dlatrd), and the trailing matrix is then updated in one rank-2·PANEL
 * product A −= V Wᵀ + W Vᵀ — a matrix product, which dense.ts' `matmul` runs on onnxruntime. The
 * orthogonal Q (Qᵀ A Q = T) is never formed: `applyQ` multiplies by it one panel at a time through the
 * compact WY form H₁…H_b = I − V T Vᵀ (dlarft), again as matrix products.
 */

/** Columns per panel: wide enough that the trailing products dominate, narrow enough that the in-panel work stays small. */
const PANEL = 32;

export interface TridiagReduction {
  /** Diagonal of T (n). */
  readonly d: Float64Array;
  /** Off-diagonal of T: off[i] = T[i + 1][i] (n − 1; sign as the reflectors leave it). */
  readonly off: Float64Array;
  /** Y (n×count, row-major) ← Q·Y, in place: eigenvectors of T into eigenvectors of A. */
  applyQ(y: Float64Array, count: number): void;
}

type Matmul = (a: Float64Array, b: Float64Array, m: number, k: number, n: number) => Float64Array;

interface Panel {
  /** First column. */
  readonly j: number;
  /** Columns in the panel. */
  readonly width: number;
  /** Reflectors, (n − j − 1) × width: row r is global row j + 1 + r; reflector p starts at its row p with 1. */
  readonly v: Float64Array;
  readonly tau: Float64Array;
}

/** Reduces the symmetric n×n `a` (both halves stored; overwritten). */
export function reduceTridiagonal(a: Float64Array, n: number, matmul: Matmul): TridiagReduction {
  const d = new Float64Array(n);
  const off = new Float64Array(Math.max(n - 1, 0));
  const panels: Panel[] = [];
  const col = new Float64Array(n);
  const w = new Float64Array(n);
  for (let j = 0; j < n; j += PANEL) {
    const width = Math.min(PANEL, n - j);
    const L = n - j - 1; // local rows: global j + 1 … n − 1
    const V = new Float64Array(Math.max(L, 0) * width);
    const W = new Float64Array(Math.max(L, 0) * width);
    const tau = new Float64Array(width);
    for (let p = 0; p < width; p++) {
      const i = j + p;
      // column i of the current matrix: row i of the panel-start one (symmetric) minus the panel's updates
      for (let c = i; c < n; c++) col[c] = a[i * n + c]!;
      if (p > 0) {
        const li = (p - 1) * width; // row i, local p − 1
        for (let r = i; r < n; r++) {
          const lr = (r - j - 1) * width;
          let s = 0;
          for (let q = 0; q < p; q++) s += V[lr + q]! * W[li + q]! + W[lr + q]! * V[li + q]!;
          col[r] = col[r]! - s;
        }
      }
      d[i] = col[i]!;
      if (i === n - 1) break;
      // Householder vector of col[i + 1 …] (dlarfg): H = I − τ v vᵀ, v = (1, x / (α − β)), β = ∓‖x‖
      const alpha = col[i + 1]!;
      let xnorm2 = 0;
      for (let r = i + 2; r < n; r++) xnorm2 += col[r]! * col[r]!;
      if (xnorm2 === 0) {
        off[i] = alpha;
        tau[p] = 0;
        V[p * width + p] = 1;
        continue; // W's column stays zero: H = I
      }
      const beta = alpha > 0 ? -Math.hypot(alpha, Math.sqrt(xnorm2)) : Math.hypot(alpha, Math.sqrt(xnorm2));
      const t = (beta - alpha) / beta;
      const inv = 1 / (alpha - beta);
      off[i] = beta;
      tau[p] = t;
      V[p * width + p] = 1;
      for (let r = i + 2; r < n; r++) V[(r - j - 1) * width + p] = col[r]! * inv;
      // w = τ (A v − V Wᵀv − W Vᵀv) over rows i + 1 …, then w −= (τ/2)(wᵀv) v
      symv(a, n, i + 1, V, width, p, j, w);
      if (p > 0) {
        const wv = new Float64Array(p);
        const vv = new Float64Array(p);
        for (let r = i + 1; r < n; r++) {
          const lr = (r - j - 1) * width;
          const vr = V[lr + p]!;
          for (let q = 0; q < p; q++) {
            wv[q] = wv[q]! + W[lr + q]! * vr;
            vv[q] = vv[q]! + V[lr + q]! * vr;
          }
        }
        for (let r = i + 1; r < n; r++) {
          const lr = (r - j - 1) * width;
          let s = 0;
          for (let q = 0; q < p; q++) s += V[lr + q]! * wv[q]! + W[lr + q]! * vv[q]!;
          w[r] = w[r]! - s;
        }
      }
      let wtv = 0;
      for (let r = i + 1; r < n; r++) {
        w[r] = w[r]! * t;
        wtv += w[r]! * V[(r - j - 1) * width + p]!;
      }
      const k = -0.5 * t * wtv;
      for (let r = i + 1; r < n; r++) {
        const lr = (r - j - 1) * width;
        W[lr + p] = w[r]! + k * V[lr + p]!;
      }
    }
    panels.push({ j, width, v: V, tau });
    trailingUpdate(a, n, j + width, V, W, width, j, matmul);
  }
  return { d, off, applyQ: (y, count) => applyQ(panels, n, y, count, matmul) };
}

/** w[r] = Σ_c a[r][c] v[c] over r, c ≥ from, v being column p of the panel's reflectors. */
function symv(a: Float64Array, n: number, from: number, V: Float64Array, width: number, p: number, j: number, w: Float64Array): void {
  const len = n - from;
  const v = new Float64Array(len);
  for (let c = 0; c < len; c++) v[c] = V[(from + c - j - 1) * width + p]!;
  for (let r = from; r < n; r++) {
    const row = r * n + from;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let c = 0;
    for (; c + 3 < len; c += 4) {
      s0 += a[row + c]! * v[c]!;
      s1 += a[row + c + 1]! * v[c + 1]!;
      s2 += a[row + c + 2]! * v[c + 2]!;
      s3 += a[row + c + 3]! * v[c + 3]!;
    }
    for (; c < len; c++) s0 += a[row + c]! * v[c]!;
    w[r] = s0 + s1 + (s2 + s3);
  }
}

/** a[s…, s…] −= V Wᵀ + W Vᵀ on the rows from global s (local s − j − 1), as one product [V W]·[W V]ᵀ. */
function trailingUpdate(a: Float64Array, n: number, s: number, V: Float64Array, W: Float64Array, width: number, j: number, matmul: Matmul): void {
  const L = n - s;
  if (L <= 0) return;
  const o = s - j - 1;
  const left = new Float64Array(L * 2 * width); // [V W], L × 2w
  const right = new Float64Array(2 * width * L); // [W V]ᵀ, 2w × L
  for (let r = 0; r < L; r++) {
    const src = (o + r) * width;
    for (let q = 0; q < width; q++) {
      const vq = V[src + q]!;
      const wq = W[src + q]!;
      left[r * 2 * width + q] = vq;
      left[r * 2 * width + width + q] = wq;
      right[q * L + r] = wq;
      right[(width + q) * L + r] = vq;
    }
  }
  const p = matmul(left, right, L, 2 * width, L);
  for (let r = 0; r < L; r++) {
    const row = (s + r) * n + s;
    for (let c = 0; c < L; c++) a[row + c] = a[row + c]! - p[r * L + c]!;
  }
}

/** y ← Q y with Q = H₀ H₁ … H_{n−2}: the panels last to first, each as I − V T Vᵀ. */
function applyQ(panels: readonly Panel[], n: number, y: Float64Array, count: number, matmul: Matmul): void {
  for (let b = panels.length - 1; b >= 0; b--) {
    const { j, width, v: V, tau } = panels[b]!;
    const L = n - j - 1;
    if (L <= 0 || count === 0) continue;
    // T upper triangular with H_j … H_{j+w−1} = I − V T Vᵀ (dlarft, forward, columnwise)
    const T = new Float64Array(width * width);
    const tmp = new Float64Array(width);
    for (let p = 0; p < width; p++) {
      T[p * width + p] = tau[p]!;
      if (p === 0 || tau[p] === 0) continue;
      tmp.fill(0, 0, p);
      for (let r = p; r < L; r++) {
        const vr = V[r * width + p]!;
        for (let q = 0; q < p; q++) tmp[q] = tmp[q]! + V[r * width + q]! * vr;
      }
      for (let q = 0; q < p; q++) {
        let s = 0;
        for (let k = q; k < p; k++) s += T[q * width + k]! * tmp[k]!;
        T[q * width + p] = -tau[p]! * s;
      }
    }
    const yRows = y.subarray((j + 1) * count, n * count); // L × count
    const vt = new Float64Array(width * L);
    for (let r = 0; r < L; r++) for (let q = 0; q < width; q++) vt[q * L + r] = V[r * width + q]!;
    const z1 = matmul(vt, yRows, width, L, count); // Vᵀ Y
    const z2 = new Float64Array(width * count); // T Vᵀ Y
    for (let q = 0; q < width; q++) {
      for (let k = q; k < width; k++) {
        const t = T[q * width + k]!;
        if (t === 0) continue;
        for (let c = 0; c < count; c++) z2[q * count + c] = z2[q * count + c]! + t * z1[k * count + c]!;
      }
    }
    const upd = matmul(V, z2, L, width, count);
    for (let x = 0; x < yRows.length; x++) yRows[x] = yRows[x]! - upd[x]!;
  }
}

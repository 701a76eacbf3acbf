/**
 * Blocked Householder reduction of a symmetric matrix to tridiagonal form, as LAPACK's dsytrd (lower):
 * each panel of PANEL columns is reduced with matrix–vector products against the panel-start matrix
 * and the panel's own reflectors (dlatrd), and the trailing matrix is then updated in one rank-2·PANEL
 * product A −= V Wᵀ + W Vᵀ — a matrix product, run on onnxruntime (ort-gemm.ts) when it is large enough.
 * The orthogonal Q (Qᵀ A Q = T) is never formed: `applyQ` multiplies by it a block at a time through
 * the compact WY form H₁…H_b = I − V T Vᵀ, again as matrix products.
 *
 * Everything lives in one float64 workspace (f64-kernels.ts), where the per-column O(n²) work runs as
 * WebAssembly SIMD: the matrix, every reflector (reflector i in its own row of n, entries by global row,
 * zero above its leading 1), the panel's W, the product's scratch. Q is applied in blocks of
 * APPLY_GROUP reflectors, whose T (dlarft) comes from their Gram matrix VᵀV, one product.
 */
import { f64Kernels } from './f64-kernels.js';
import { ORT_MIN_FMAS, ortApplyWyRows, ortMatmulTView } from './ort-gemm.js';

/** Columns per panel: wide enough that the trailing products dominate, narrow enough that the in-panel work stays small. */
const PANEL = 32;
/** Reflectors per block when applying Q: wider blocks, fewer and better-shaped products, fewer copies. */
const APPLY_GROUP = 128;

export interface TridiagReduction {
  /** Diagonal of T (n). */
  readonly d: Float64Array;
  /** Off-diagonal of T: off[i] = T[i + 1][i] (n − 1; sign as the reflectors leave it). */
  readonly off: Float64Array;
  /**
   * Each of the `count` rows y of `rows` (count×n) ← Q·y, in place: eigenvectors of T into eigenvectors
   * of A. The reflectors stay in the shared workspace, so this must come before the next reduction.
   */
  applyQ(rows: Float64Array, count: number): void;
}

type Matmul = (a: Float64Array, b: Float64Array, m: number, k: number, n: number) => Float64Array;
/** A (m×k) · Bᵀ for B (n×k). */
type MatmulT = Matmul;

/** Reductions so far: a TridiagReduction's applyQ checks that the workspace still holds its reflectors. */
let generation = 0;

/** Reduces the symmetric n×n `input` (both halves stored; not modified). */
export function reduceTridiagonal(input: Float64Array, n: number, matmul: Matmul, matmulT: MatmulT): TridiagReduction {
  const k = f64Kernels();
  // workspace layout, in float64 entries
  const A = 0;
  const VS = n * n; // reflector i at VS + i·n
  const WS = 2 * n * n; // the panel's W, column q at WS + q·n
  const PS = WS + PANEL * n; // the trailing product
  const COL = PS + n * n;
  const WV = COL + n;
  const m = k.reserve(WV + n);
  m.set(input.subarray(0, n * n), A);
  const d = new Float64Array(n);
  const off = new Float64Array(Math.max(n - 1, 0));
  const taus = new Float64Array(n); // τ of reflector i (0: H = I)
  for (let j = 0; j < n; j += PANEL) {
    const width = Math.min(PANEL, n - j);
    const V = VS + j * n;
    for (let p = 0; p < width; p++) {
      const i = j + p;
      const v = V + p * n;
      m.fill(0, v, v + n);
      // column i of the current matrix: row i of the panel-start one (symmetric) minus the panel's updates
      m.copyWithin(COL + i, A + i * n + i, A + i * n + n);
      k.colUpdate(COL, V, WS, n, p, i, n);
      d[i] = m[COL + i]!;
      if (i === n - 1) break;
      // Householder vector of col[i + 1 …] (dlarfg): H = I − τ v vᵀ, v = (1, x / (α − β)), β = ∓‖x‖
      const alpha = m[COL + i + 1]!;
      const xnorm2 = k.dot(COL + i + 2, COL + i + 2, n - i - 2);
      m[v + i + 1] = 1;
      const w = WS + p * n;
      if (xnorm2 === 0) {
        off[i] = alpha;
        m.fill(0, w, w + n); // H = I: W's column is zero, and so is T's
        continue;
      }
      const beta = alpha > 0 ? -Math.hypot(alpha, Math.sqrt(xnorm2)) : Math.hypot(alpha, Math.sqrt(xnorm2));
      const tau = (beta - alpha) / beta;
      const inv = 1 / (alpha - beta);
      off[i] = beta;
      for (let r = i + 2; r < n; r++) m[v + r] = m[COL + r]! * inv;
      // w = τ (A v − V Wᵀv − W Vᵀv) over rows i + 1 …, then w −= (τ/2)(wᵀv) v
      k.symv(A, n, i + 1, v + i + 1, WV);
      k.corr(WV, V, WS, n, p, i + 1, n);
      let wtv = 0;
      for (let r = i + 1; r < n; r++) {
        const x = m[WV + r]! * tau;
        m[WV + r] = x;
        wtv += x * m[v + r]!;
      }
      const half = -0.5 * tau * wtv;
      m.fill(0, w, w + i + 1);
      for (let r = i + 1; r < n; r++) m[w + r] = m[WV + r]! + half * m[v + r]!;
      taus[i] = tau;
    }
    trailingUpdate(m, n, j + width, V, width, matmul);
  }
  const mine = ++generation;
  return {
    d,
    off,
    applyQ: (y, count) => {
      if (generation !== mine) throw new Error('applyQ: another reduction has reused the workspace');
      applyQ(m, n, taus, y, count, matmul, matmulT);
    },
  };
}

/** A[s…, s…] −= V Wᵀ + W Vᵀ on the rows from global s, as one product [V W]·[W V]ᵀ of the panel's columns. */
function trailingUpdate(m: Float64Array, n: number, s: number, V: number, width: number, matmul: Matmul): void {
  const L = n - s;
  if (L <= 0) return;
  const k = f64Kernels();
  const WS = 2 * n * n;
  const PS = WS + PANEL * n;
  const row = (at: number, q: number) => m.subarray(at + q * n + s, at + q * n + n);
  // [V W]ᵀ and [W V]ᵀ, 2·width × L: the panel's columns as rows
  const fill = (first: number, second: number) => (dst: Float64Array) => {
    for (let q = 0; q < width; q++) {
      dst.set(row(first, q), q * L);
      dst.set(row(second, q), (width + q) * L);
    }
  };
  const p = L * 2 * width * L >= ORT_MIN_FMAS ? ortMatmulTView(2 * width, L, L, fill(V, WS), fill(WS, V)) : null;
  if (p !== null) {
    m.set(p, PS);
  } else {
    const left = new Float64Array(2 * width * L);
    const right = new Float64Array(2 * width * L);
    fill(V, WS)(left);
    fill(WS, V)(right);
    m.set(matmul(transposeRows(left, 2 * width, L), right, L, 2 * width, L), PS);
  }
  k.subTrailing(0, n, s, PS, L);
}

/** The r×c row-major `x` transposed (c×r). */
function transposeRows(x: Float64Array, r: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = x[i * c + j]!;
  return out;
}

/**
 * y ← Q y for each row y of `rows` (count×n), Q = H₀ H₁ … H_{n−2}: blocks of APPLY_GROUP reflectors last
 * to first, each as rows ← rows (I − V T Vᵀ)ᵀ — one onnxruntime call per block (ort-gemm.ts' `wyr`
 * graph), JS products otherwise.
 */
function applyQ(m: Float64Array, n: number, taus: Float64Array, rows: Float64Array, count: number, matmul: Matmul, matmulT: MatmulT): void {
  if (count === 0 || n < 2) return;
  const VS = n * n;
  for (let j = Math.floor((n - 2) / APPLY_GROUP) * APPLY_GROUP; j >= 0; j -= APPLY_GROUP) {
    const width = Math.min(APPLY_GROUP, n - 1 - j); // reflectors j … j + width − 1
    const L = n - j - 1; // entries from global j + 1
    // Vᵀ: reflector q's entries from global row j + 1 (zero above its own leading 1)
    const vt = new Float64Array(width * L);
    for (let q = 0; q < width; q++) vt.set(m.subarray(VS + (j + q) * n + j + 1, VS + (j + q) * n + n), q * L);
    const t = wyFactor(gramT(vt, width, L, matmulT), taus.subarray(j, j + width), width);
    const fillY = (dst: Float64Array) => {
      for (let r = 0; r < count; r++) dst.set(rows.subarray(r * n + j + 1, r * n + n), r * L);
    };
    let out = L * width * count >= ORT_MIN_FMAS ? ortApplyWyRows((d) => d.set(vt), t, fillY, L, width, count) : null;
    if (out === null) {
      const y = new Float64Array(count * L);
      fillY(y);
      const upd = matmul(matmulT(matmulT(y, vt, count, L, width), t, count, width, width), vt, count, width, L); // ((Y V) Tᵀ) Vᵀ
      for (let x = 0; x < y.length; x++) y[x] = y[x]! - upd[x]!;
      out = y;
    }
    for (let r = 0; r < count; r++) rows.set(out.subarray(r * L, r * L + L), r * n + j + 1);
  }
}

/** X Xᵀ (r×r) of the r×c `x`. */
function gramT(x: Float64Array, r: number, c: number, matmulT: MatmulT): Float64Array {
  return matmulT(x, x, r, c, r);
}

/**
 * Upper triangular T with H₁ … H_w = I − V T Vᵀ (LAPACK's dlarft, forward, columnwise) from G = VᵀV:
 * T[p][p] = τ_p, T[:p, p] = −τ_p T[:p, :p] G[:p, p].
 */
function wyFactor(g: Float64Array, tau: Float64Array, w: number): Float64Array {
  const t = new Float64Array(w * w);
  for (let p = 0; p < w; p++) {
    const tp = tau[p]!;
    t[p * w + p] = tp;
    if (tp === 0) continue;
    for (let q = 0; q < p; q++) {
      let s = 0;
      for (let c = q; c < p; c++) s += t[q * w + c]! * g[c * w + p]!;
      t[q * w + p] = -tp * s;
    }
  }
  return t;
}

/**
 * Blocked Householder reduction of a symmetric matrix to tridiagonal form, as LAPACK's dsytrd (lower):
 * each panel of PANEL columns is reduced with matrix–vector products against the panel-start matrix
 * and the panel's own reflectors (dlatrd), and the trailing matrix is then updated in one rank-2·PANEL
 * product A −= V Wᵀ + W Vᵀ — a matrix product, which dense.ts' `matmul` runs on onnxruntime. The
 * orthogonal Q (Qᵀ A Q = T) is never formed: `applyQ` multiplies by it one panel at a time through the
 * compact WY form H₁…H_b = I − V T Vᵀ (dlarft), again as matrix products.
 */
import { ortApplyWy, ortMatmulView } from './ort-gemm.js';
import { symvKernel } from './wasm-symv.js';

/** Columns per panel: wide enough that the trailing products dominate, narrow enough that the in-panel work stays small. */
const PANEL = 32;
/** Reflectors per block when applying Q: wider blocks, fewer and better-shaped products. */
const APPLY_GROUP = 128;
/** Below this many multiply-adds a block is applied in JS (the worker's round trip costs more). */
const ORT_MIN_FMAS = 1 << 21;

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
  /** Reflectors, width × (n − j − 1): entry r of one is global row j + 1 + r; reflector p starts at its entry p with 1. */
  readonly v: Float64Array;
  readonly tau: Float64Array;
}

/** Reduces the symmetric n×n `a` (both halves stored; may be overwritten). */
export function reduceTridiagonal(input: Float64Array, n: number, matmul: Matmul): TridiagReduction {
  const d = new Float64Array(n);
  const off = new Float64Array(Math.max(n - 1, 0));
  const panels: Panel[] = [];
  const col = new Float64Array(n);
  // With the WebAssembly kernel, the matrix, the product's vector and its result live in its memory.
  const kernel = symvKernel();
  const mem = kernel?.reserve(n * n + 2 * n);
  const a = mem ? mem.subarray(0, n * n) : input;
  if (mem) a.set(input.subarray(0, n * n));
  const vIn = mem ? mem.subarray(n * n, n * n + n) : null;
  const w = mem ? mem.subarray(n * n + n, n * n + 2 * n) : new Float64Array(n);
  for (let j = 0; j < n; j += PANEL) {
    const width = Math.min(PANEL, n - j);
    const L = Math.max(n - j - 1, 0); // local rows: global j + 1 … n − 1
    // V's and W's columns stored one after the other (each contiguous): the in-panel updates run along them
    const V = new Float64Array(L * width);
    const W = new Float64Array(L * width);
    const tau = new Float64Array(width);
    const o = j + 1; // global row of local row 0
    for (let p = 0; p < width; p++) {
      const i = j + p;
      // column i of the current matrix: row i of the panel-start one (symmetric) minus the panel's updates
      for (let c = i; c < n; c++) col[c] = a[i * n + c]!;
      for (let q = 0; q < p; q++) {
        const vq = q * L - o;
        const wi = W[vq + i]!;
        const vi = V[vq + i]!;
        for (let r = i; r < n; r++) col[r] = col[r]! - (V[vq + r]! * wi + W[vq + r]! * vi);
      }
      d[i] = col[i]!;
      if (i === n - 1) break;
      // Householder vector of col[i + 1 …] (dlarfg): H = I − τ v vᵀ, v = (1, x / (α − β)), β = ∓‖x‖
      const vp = p * L - o; // V[vp + r]: reflector p at global row r
      const alpha = col[i + 1]!;
      let xnorm2 = 0;
      for (let r = i + 2; r < n; r++) xnorm2 += col[r]! * col[r]!;
      V[vp + i + 1] = 1;
      if (xnorm2 === 0) {
        off[i] = alpha;
        tau[p] = 0;
        continue; // W's column stays zero: H = I
      }
      const beta = alpha > 0 ? -Math.hypot(alpha, Math.sqrt(xnorm2)) : Math.hypot(alpha, Math.sqrt(xnorm2));
      const t = (beta - alpha) / beta;
      const inv = 1 / (alpha - beta);
      off[i] = beta;
      tau[p] = t;
      for (let r = i + 2; r < n; r++) V[vp + r] = col[r]! * inv;
      // w = τ (A v − V Wᵀv − W Vᵀv) over rows i + 1 …, then w −= (τ/2)(wᵀv) v
      if (kernel && vIn) {
        vIn.set(V.subarray(vp + i + 1, vp + n));
        kernel.symv(0, n, i + 1, 8 * n * n, 8 * (n * n + n));
      } else {
        symv(a, n, i + 1, V, vp, w);
      }
      for (let q = 0; q < p; q++) {
        const vq = q * L - o;
        let wv = 0;
        let vv = 0;
        for (let r = i + 1; r < n; r++) {
          wv += W[vq + r]! * V[vp + r]!;
          vv += V[vq + r]! * V[vp + r]!;
        }
        for (let r = i + 1; r < n; r++) w[r] = w[r]! - (V[vq + r]! * wv + W[vq + r]! * vv);
      }
      let wtv = 0;
      for (let r = i + 1; r < n; r++) {
        w[r] = w[r]! * t;
        wtv += w[r]! * V[vp + r]!;
      }
      const k = -0.5 * t * wtv;
      for (let r = i + 1; r < n; r++) W[vp + r] = w[r]! + k * V[vp + r]!;
    }
    panels.push({ j, width, v: V, tau });
    trailingUpdate(a, n, j + width, V, W, width, L, matmul);
  }
  return { d, off, applyQ: (y, count) => applyQ(panels, n, y, count, matmul) };
}

/** w[r] = Σ_c a[r][c] v[c] over r, c ≥ from, with v[c] = V[at + c]. */
function symv(a: Float64Array, n: number, from: number, V: Float64Array, at: number, w: Float64Array): void {
  const len = n - from;
  const v = V.subarray(at + from, at + n);
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

/** a[s…, s…] −= V Wᵀ + W Vᵀ on the rows from global s, as one product [V W]·[W V]ᵀ (V, W: width × PL, from row n − PL). */
function trailingUpdate(a: Float64Array, n: number, s: number, V: Float64Array, W: Float64Array, width: number, PL: number, matmul: Matmul): void {
  const L = n - s;
  if (L <= 0) return;
  const o = PL - L; // local index of global row s
  const fillLeft = (left: Float64Array) => { // [V W], L × 2w
    for (let q = 0; q < width; q++) {
      const src = q * PL + o;
      for (let r = 0; r < L; r++) {
        left[r * 2 * width + q] = V[src + r]!;
        left[r * 2 * width + width + q] = W[src + r]!;
      }
    }
  };
  const fillRight = (right: Float64Array) => { // [W V]ᵀ, 2w × L
    for (let q = 0; q < width; q++) {
      const src = q * PL + o;
      right.set(W.subarray(src, src + L), q * L);
      right.set(V.subarray(src, src + L), (width + q) * L);
    }
  };
  let p = L * 2 * width * L >= ORT_MIN_FMAS ? ortMatmulView(L, 2 * width, L, fillLeft, fillRight) : null;
  if (p === null) {
    const left = new Float64Array(L * 2 * width);
    const right = new Float64Array(2 * width * L);
    fillLeft(left);
    fillRight(right);
    p = matmul(left, right, L, 2 * width, L);
  }
  for (let r = 0; r < L; r++) {
    const row = (s + r) * n + s;
    for (let c = 0; c < L; c++) a[row + c] = a[row + c]! - p[r * L + c]!;
  }
}

/**
 * y ← Q y with Q = H₀ H₁ … H_{n−2}: groups of APPLY_GROUP reflectors (several panels) last to first,
 * each as I − V T Vᵀ — one onnxruntime call per group (ort-gemm.ts' `wy` graph), JS products otherwise.
 */
function applyQ(panels: readonly Panel[], n: number, y: Float64Array, count: number, matmul: Matmul): void {
  if (count === 0) return;
  const groups: Panel[][] = [];
  for (const p of panels) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last.reduce((s, q) => s + q.width, 0) + p.width <= APPLY_GROUP) last.push(p);
    else groups.push([p]);
  }
  for (let g = groups.length - 1; g >= 0; g--) {
    const group = groups[g]!;
    const j0 = group[0]!.j;
    const L = n - j0 - 1;
    if (L <= 0) continue;
    const width = group.reduce((s, q) => s + q.width, 0);
    // the group's reflectors side by side, rows from global j0 + 1
    const V = new Float64Array(L * width);
    const tau = new Float64Array(width);
    let c0 = 0;
    for (const p of group) {
      const r0 = p.j - j0;
      const PL = n - p.j - 1;
      for (let q = 0; q < p.width; q++) for (let r = 0; r < PL; r++) V[(r0 + r) * width + c0 + q] = p.v[q * PL + r]!;
      tau.set(p.tau, c0);
      c0 += p.width;
    }
    const T = wyFactor(V, tau, L, width);
    const yRows = y.subarray((j0 + 1) * count, n * count); // L × count
    const out = L * width * count >= ORT_MIN_FMAS ? ortApplyWy(V, T, yRows, L, width, count) : null;
    if (out !== null) {
      yRows.set(out);
      continue;
    }
    const vt = new Float64Array(width * L);
    for (let r = 0; r < L; r++) for (let q = 0; q < width; q++) vt[q * L + r] = V[r * width + q]!;
    const z = matmul(T, matmul(vt, yRows, width, L, count), width, width, count); // T Vᵀ Y
    const upd = matmul(V, z, L, width, count);
    for (let x = 0; x < yRows.length; x++) yRows[x] = yRows[x]! - upd[x]!;
  }
}

/** Upper triangular T with H₁ … H_w = I − V T Vᵀ (LAPACK's dlarft, forward, columnwise); V is L × w. */
function wyFactor(V: Float64Array, tau: Float64Array, L: number, width: number): Float64Array {
  const T = new Float64Array(width * width);
  const tmp = new Float64Array(width);
  for (let p = 0; p < width; p++) {
    T[p * width + p] = tau[p]!;
    if (p === 0 || tau[p] === 0) continue;
    tmp.fill(0, 0, p);
    for (let r = 0; r < L; r++) {
      const vr = V[r * width + p]!;
      if (vr === 0) continue;
      for (let q = 0; q < p; q++) tmp[q] = tmp[q]! + V[r * width + q]! * vr;
    }
    for (let q = 0; q < p; q++) {
      let s = 0;
      for (let k = q; k < p; k++) s += T[q * width + k]! * tmp[k]!;
      T[q * width + p] = -tau[p]! * s;
    }
  }
  return T;
}

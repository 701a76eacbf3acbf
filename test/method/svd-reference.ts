/**
 * An independent float64 reference for the SVD-based methods: one-sided Jacobi SVD (column rotations
 * until all columns are orthogonal), with an option to flip singular-vector signs at random, and the
 * methods' formulas written directly on top of it.
 */
import { mulberry32 } from '../../src/util/prng.js';

export interface Svd { u: number[][]; s: number[]; v: number[][] } // u: m×k, v: n×k (columns are vectors)

/** One-sided Jacobi SVD of an m×n matrix (rows of numbers); k = min(m, n); `flip` negates random pairs. */
export function jacobiSvd(a: number[][], flip?: () => number, zeroBelow = 0): Svd {
  const m = a.length;
  const n = a[0]!.length;
  if (m < n) {
    const t = jacobiSvd(transpose(a), flip, zeroBelow);
    return { u: t.v, s: t.s, v: t.u };
  }
  const w = a.map((r) => [...r]);
  const v = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n - 1; p++) for (let q = p + 1; q < n; q++) {
      let alpha = 0, beta = 0, gamma = 0;
      for (let i = 0; i < m; i++) { alpha += w[i]![p]! ** 2; beta += w[i]![q]! ** 2; gamma += w[i]![p]! * w[i]![q]!; }
      if (Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta) || gamma === 0) continue;
      off = Math.max(off, Math.abs(gamma) / Math.sqrt(alpha * beta));
      const zeta = (beta - alpha) / (2 * gamma);
      const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
      const c = 1 / Math.sqrt(1 + t * t);
      const s = c * t;
      for (const M of [w, v]) for (const row of M) { const x = row[p]!, y = row[q]!; row[p] = c * x - s * y; row[q] = s * x + c * y; }
    }
    if (off < 1e-15) break;
  }
  const norms = Array.from({ length: n }, (_, j) => Math.sqrt(w.reduce((acc, r) => acc + r[j]! ** 2, 0)));
  const order = norms.map((_, j) => j).sort((x, y) => norms[y]! - norms[x]!);
  const top = norms[order[0]!] ?? 0;
  const u = Array.from({ length: m }, () => new Array<number>(n).fill(0));
  const vv = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const s: number[] = [];
  order.forEach((j, idx) => {
    const sigma = norms[j]! > 1e-12 * top && norms[j]! > zeroBelow ? norms[j]! : 0;
    s.push(sigma);
    const sign = flip && flip() < 0.5 ? -1 : 1;
    for (let i = 0; i < n; i++) vv[i]![idx] = sigma > 0 ? sign * v[i]![j]! : 0;
    for (let i = 0; i < m; i++) u[i]![idx] = sigma > 0 ? (sign * w[i]![j]!) / sigma : 0;
  });
  return { u, s, v: vv };
}

export function transpose(a: number[][]): number[][] {
  return a[0]!.map((_, j) => a.map((r) => r[j]!));
}

export function mul(a: number[][], b: number[][]): number[][] {
  return a.map((r) => b[0]!.map((_, j) => r.reduce((acc, x, p) => acc + x * b[p]![j]!, 0)));
}

/** U Vᵀ of the thin SVD (zero singular directions dropped). */
export function polarRef(a: number[][], flip?: () => number): number[][] {
  const d = jacobiSvd(a, flip);
  return mul(d.u, transpose(d.v));
}

export function rows(flat: ArrayLike<number>, m: number, n: number): number[][] {
  return Array.from({ length: m }, (_, i) => Array.from({ length: n }, (_, j) => Number(flat[i * n + j])));
}

export const signFlipper = (seed: number): (() => number) => mulberry32(seed);

/** TSV-M of one matrix (fusion_bench's compute_and_sum_svd_mem_reduction), from the formulas. */
export function tsvRef(tvs: number[][][], flip?: () => number): number[][] {
  const T = tvs.length;
  const m = tvs[0]!.length;
  const n = tvs[0]![0]!.length;
  const k = Math.min(m, n);
  const r = Math.trunc(k * (1 / T));
  const U = Array.from({ length: m }, () => new Array<number>(k).fill(0));
  const V = Array.from({ length: n }, () => new Array<number>(k).fill(0));
  const S = new Array<number>(k).fill(0);
  tvs.forEach((tv, i) => {
    const d = jacobiSvd(tv, flip);
    for (let j = 0; j < r; j++) {
      S[i * r + j] = d.s[j]!;
      for (let a = 0; a < m; a++) U[a]![i * r + j] = d.u[a]![j]!;
      for (let b = 0; b < n; b++) V[b]![i * r + j] = d.v[b]![j]!;
    }
  });
  const pu = polarRef(U, flip);
  const pv = polarRef(V, flip); // n×k: its polar, transposed, is the polar of Vᵀ
  return mul(pu.map((row) => row.map((x, j) => x * S[j]!)), transpose(pv));
}

/**
 * Eigenpairs of a symmetric tridiagonal matrix for dense.ts' symEig, in O(n²) instead of the O(n³) of QL
 * with accumulated rotations (which was most of the SVD's time): eigenvalues by implicit QL without
 * vectors, then only the wanted eigenvectors by inverse iteration as LAPACK's dstein does it — random
 * start, LU of T − λI with partial pivoting, tiny pivots perturbed, modified Gram–Schmidt against the
 * other vectors of the same cluster (eigenvalues closer than CLUSTER_GAP·‖T‖) and of eigenvalues within
 * ORTHO_WINDOW·‖T‖, a few extra steps after the growth test passes. Vectors further apart are orthogonal
 * to ~ε‖T‖/gap ≤ ~1e-13.
 *
 * An unreduced block whose inverse iteration does not converge falls back to QL with rotations (tql2),
 * so the result never depends on luck; exact splits (off-diagonal ≤ ε‖T‖) are separate blocks.
 */

const EPS = 2 ** -52;
/** Eigenvalues closer than this fraction of ‖T‖ share a cluster (computed together, reorthogonalised against each other). */
const CLUSTER_GAP = 1e-5;
/**
 * Besides its cluster, each vector is reorthogonalised against the computed vectors of eigenvalues
 * within this fraction of ‖T‖ below it (LAPACK dstein's ORTOL): inverse iteration leaves vectors of
 * eigenvalues a gap g apart orthogonal to ~ε‖T‖/g, so everything closer than 1e-3‖T‖ is made orthogonal
 * explicitly and the rest is orthogonal to ~1e-13 — no polishing pass over the full vectors is needed.
 */
const ORTHO_WINDOW = 1e-3;
const MAX_ITERATIONS = 8;
/**
 * Steps after the growth test first passes (dstein's EXTRA is 2; one more step already leaves residuals
 * ~1e-16·‖T‖ and orthogonality ~1e-14 on the Gram spectra here, and a third costs a quarter of the time).
 */
const EXTRA_STEPS = 1;

/** √(x² + y²): the plain formula, Math.hypot (several times slower) only where it would over- or underflow. */
function hypot(x: number, y: number): number {
  const s = x * x + y * y;
  return s < 1e300 && s > 1e-300 ? Math.sqrt(s) : Math.hypot(x, y);
}

/**
 * Implicit QL on the tridiagonal (d, e) — EISPACK's tql2 as in JAMA — with e[i] the (i, i−1) entry
 * (e[0] unused); d ends as the eigenvalues (unsorted). With `W` (rows: a basis), each rotation also
 * turns the rows of W (n columns each, `ldw` apart), which then hold the eigenvectors.
 */
export function tql2(W: Float64Array | null, d: Float64Array, e: Float64Array, n: number, ldw = n): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= EPS * tst1) break;
      m++;
    }
    if (m > l) {
      for (let iter = 0; ; iter++) {
        if (iter > 60) throw new Error('symEig: the QL iteration did not converge');
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = hypot(p, 1);
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
          r = hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          if (W === null) continue;
          const wi = i * ldw;
          const wj = wi + ldw;
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
        if (!(Math.abs(e[l]!) > EPS * tst1)) break;
      }
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}

export interface TridiagEigen {
  /** All n eigenvalues, descending. */
  readonly values: Float64Array;
  /** count×n, row-major: row j is the unit eigenvector of values[j] (j < count). */
  readonly rows: Float64Array;
}

interface Block {
  readonly start: number;
  readonly size: number;
  /** Its eigenvalues, ascending. */
  readonly values: Float64Array;
}

/**
 * Which eigenvectors to compute, from the eigenvalues (all n, descending): the `count` largest, or the
 * indices (into the descending values, each once) a function picks — row j of the result is then the
 * vector of values[picked[j]].
 */
export type EigenPick = number | ((values: Float64Array) => Int32Array);

/**
 * Eigenvalues (all, descending) and the eigenvectors `pick` asks for (default: the `count` largest) of
 * the tridiagonal matrix with diagonal d[0..n) and off-diagonal off[i] between i and i + 1 (i < n − 1).
 * Inputs are not modified.
 */
export function tridiagEigen(d: Float64Array, off: Float64Array, n: number, pick: EigenPick): TridiagEigen & { readonly picked: Int32Array } {
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(d[i]!) + (i > 0 ? Math.abs(off[i - 1]!) : 0) + (i < n - 1 ? Math.abs(off[i]!) : 0));
  // unreduced blocks: off-diagonals at rounding level of ‖T‖ split the problem exactly
  const blocks: Block[] = [];
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && Math.abs(off[end - 1]!) > EPS * norm) end++;
    const size = end - start;
    const bd = d.slice(start, end);
    const be = new Float64Array(size);
    for (let i = 1; i < size; i++) be[i] = off[start + i - 1]!;
    tql2(null, bd, be, size);
    bd.sort();
    blocks.push({ start, size, values: bd });
    start = end;
  }
  // the count largest over all blocks (ties: lower block first, so the choice is deterministic)
  const all: { v: number; b: number; i: number }[] = [];
  blocks.forEach((blk, b) => blk.values.forEach((v, i) => all.push({ v, b, i })));
  all.sort((x, y) => y.v - x.v || x.b - y.b || y.i - x.i);
  const values = Float64Array.from(all, (x) => x.v);
  const picked = typeof pick === 'number' ? Int32Array.from({ length: pick }, (_, j) => j) : pick(values);
  const count = picked.length;
  const out = new Float64Array(count * n);
  const wanted = blocks.map(() => new Map<number, number>()); // block eigenvalue index → output row
  for (let j = 0; j < count; j++) wanted[all[picked[j]!]!.b]!.set(all[picked[j]!]!.i, j);
  blocks.forEach((blk, b) => {
    if (wanted[b]!.size === 0) return;
    const { rows, row } = blockVectors(d, off, blk, wanted[b]!, norm);
    for (const [i, j] of wanted[b]!) out.set(rows.subarray(row[i]! * blk.size, (row[i]! + 1) * blk.size), j * n + blk.start);
  });
  return { values, rows: out, picked };
}

/** A block's eigenvectors: vector i (block coordinates) is row row[i] of rows (−1: not computed). */
interface BlockVectors {
  readonly rows: Float64Array;
  readonly row: Int32Array;
}

/** Eigenvectors (block coordinates) for the wanted eigenvalue indices of one unreduced block. */
function blockVectors(d: Float64Array, off: Float64Array, blk: Block, wanted: Map<number, number>, norm: number): BlockVectors {
  const { start, size, values } = blk;
  if (size === 1) return { rows: Float64Array.of(1), row: Int32Array.of(0) };
  // whole clusters around the wanted eigenvalues, so reorthogonalisation sees every close neighbour
  const gap = CLUSTER_GAP * norm;
  const clusterStart = new Int32Array(size);
  for (let i = 1; i < size; i++) clusterStart[i] = values[i]! - values[i - 1]! <= gap ? clusterStart[i - 1]! : i;
  const todo = new Uint8Array(size);
  for (const i of wanted.keys()) todo[clusterStart[i]!] = 1;
  let k = 0;
  for (let i = 0; i < size; i++) if ((todo[i] = todo[clusterStart[i]!]!)) k++;
  // one allocation for all of them: thousands of short-lived arrays would each survive a scavenge
  const rows = new Float64Array(k * size);
  const row = new Int32Array(size).fill(-1);
  const lu = new TridiagLu(size);
  let seed = 0x5eed + start;
  const window = ORTHO_WINDOW * norm;
  const done: number[] = []; // computed indices, ascending
  let first = 0; // done[first …] are the ones the next vector is reorthogonalised against
  let prevShift = -Infinity;
  for (let i = 0; i < size; i++) {
    if (!todo[i]) continue;
    // shifts inside a cluster kept apart, as dstein does, so their factorisations differ
    let shift = values[i]!;
    const pert = 10 * EPS * Math.max(Math.abs(shift), norm);
    if (clusterStart[i] !== i && shift - prevShift < pert) shift = prevShift + pert;
    prevShift = shift;
    while (first < done.length && done[first]! < clusterStart[i]! && values[i]! - values[done[first]!]! > window) first++;
    lu.factor(d, off, start, shift, EPS * norm);
    const at = done.length * size;
    const x = rows.subarray(at, at + size);
    seed = randomStart(x, seed);
    let sum = 0;
    for (let r = 0; r < size; r++) sum += Math.abs(x[r]!);
    const threshold = Math.sqrt(0.1 / size);
    let passed = 0;
    for (let it = 0; it < MAX_ITERATIONS && passed <= EXTRA_STEPS; it++) {
      lu.solve(x, sum > 0 ? (size * norm * Math.max(EPS, Math.abs(lu.lastPivot()))) / sum : 1);
      // every step against the cluster, whose vectors the iteration alone cannot tell apart
      for (let c = first; c < done.length; c++) if (done[c]! >= clusterStart[i]!) orthogonalise(x, rows, row[done[c]!]! * size);
      let max = 0;
      sum = 0;
      for (let r = 0; r < size; r++) {
        const ax = Math.abs(x[r]!);
        sum += ax;
        if (ax > max) max = ax;
      }
      if (!Number.isFinite(sum)) break;
      if (max >= threshold) passed++;
    }
    // once against the rest of the window: their components are already at rounding level
    for (let c = first; c < done.length; c++) if (done[c]! < clusterStart[i]!) orthogonalise(x, rows, row[done[c]!]! * size);
    let ss = 0;
    for (let r = 0; r < size; r++) ss += x[r]! * x[r]!;
    if (passed <= EXTRA_STEPS || !(ss > 0) || !Number.isFinite(ss)) return qlBlockVectors(d, off, blk);
    const inv = 1 / Math.sqrt(ss);
    for (let r = 0; r < size; r++) x[r] = x[r]! * inv;
    row[i] = done.length;
    done.push(i);
  }
  return { rows, row };
}

/**
 * x filled with uniform numbers in [−1, 1): util/prng.ts' mulberry32 stream (seed → the next seed), its
 * state kept in a local, where a closure's would be a boxed number allocated at every draw.
 */
function randomStart(x: Float64Array, seed: number): number {
  let a = seed | 0;
  for (let r = 0; r < x.length; r++) {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    x[r] = ((t ^ (t >>> 14)) >>> 0) / 2147483648 - 1;
  }
  return a;
}

/** x −= (xᵀq) q for the unit q = rows[at …]. */
function orthogonalise(x: Float64Array, rows: Float64Array, at: number): void {
  const n = x.length;
  let dot = 0;
  for (let r = 0; r < n; r++) dot += x[r]! * rows[at + r]!;
  for (let r = 0; r < n; r++) x[r] = x[r]! - dot * rows[at + r]!;
}

/** The fallback: QL with rotations on the block, all its eigenvectors, matched to `values` by sorting. */
function qlBlockVectors(d: Float64Array, off: Float64Array, blk: Block): BlockVectors {
  const { start, size } = blk;
  const bd = d.slice(start, start + size);
  const be = new Float64Array(size);
  for (let i = 1; i < size; i++) be[i] = off[start + i - 1]!;
  const W = new Float64Array(size * size);
  for (let i = 0; i < size; i++) W[i * size + i] = 1;
  tql2(W, bd, be, size);
  const order = Array.from({ length: size }, (_, i) => i).sort((x, y) => bd[x]! - bd[y]!);
  return { rows: W, row: Int32Array.from(order) };
}

/**
 * LU with partial pivoting of a tridiagonal T − σI (LAPACK's dgttrf): U has two superdiagonals, L one
 * multiplier per column and a row swap flag.
 */
class TridiagLu {
  private readonly u0: Float64Array;
  private readonly u1: Float64Array;
  private readonly u2: Float64Array;
  private readonly l: Float64Array;
  /** 1 / U's pivots, those smaller than `tiny` replaced by ±tiny (a near-singular T − σI is the point). */
  private readonly ip: Float64Array;
  private readonly swap: Uint8Array;

  constructor(private readonly n: number) {
    this.u0 = new Float64Array(n);
    this.u1 = new Float64Array(n);
    this.u2 = new Float64Array(n);
    this.l = new Float64Array(n);
    this.ip = new Float64Array(n);
    this.swap = new Uint8Array(n);
  }

  factor(d: Float64Array, off: Float64Array, start: number, shift: number, tiny: number): void {
    const { n, u0, u1, u2, l, ip, swap } = this;
    for (let i = 0; i < n; i++) {
      u0[i] = d[start + i]! - shift;
      u1[i] = i < n - 1 ? off[start + i]! : 0;
      l[i] = i < n - 1 ? off[start + i]! : 0;
      u2[i] = 0;
    }
    for (let i = 0; i < n - 1; i++) {
      if (Math.abs(u0[i]!) >= Math.abs(l[i]!)) {
        swap[i] = 0;
        const fact = l[i]! / u0[i]!; // u0[i] ≠ 0: |u0| ≥ |l| and l ≠ 0 in an unreduced block
        l[i] = fact;
        u0[i + 1] = u0[i + 1]! - fact * u1[i]!;
      } else {
        swap[i] = 1;
        const fact = u0[i]! / l[i]!;
        u0[i] = l[i]!;
        l[i] = fact;
        const t = u1[i]!;
        u1[i] = u0[i + 1]!;
        u0[i + 1] = t - fact * u0[i + 1]!;
        if (i < n - 2) {
          u2[i] = u1[i + 1]!;
          u1[i + 1] = -fact * u1[i + 1]!;
        }
      }
    }
    for (let i = 0; i < n; i++) {
      const p = u0[i]!;
      ip[i] = 1 / (Math.abs(p) >= tiny ? p : p < 0 ? -tiny : tiny);
    }
  }

  lastPivot(): number {
    return this.u0[this.n - 1]!;
  }

  /** x ← (T − σI)⁻¹ (scale·x), with the tiny pivots perturbed. */
  solve(x: Float64Array, scale: number): void {
    const { n, u1, u2, l, ip, swap } = this;
    x[0] = x[0]! * scale;
    for (let i = 0; i < n - 1; i++) {
      const next = x[i + 1]! * scale;
      if (swap[i]) {
        const t = x[i]!;
        x[i] = next;
        x[i + 1] = t - l[i]! * next;
      } else {
        x[i + 1] = next - l[i]! * x[i]!;
      }
    }
    x[n - 1] = x[n - 1]! * ip[n - 1]!;
    if (n > 1) x[n - 2] = (x[n - 2]! - u1[n - 2]! * x[n - 1]!) * ip[n - 2]!;
    for (let i = n - 3; i >= 0; i--) x[i] = (x[i]! - u1[i]! * x[i + 1]! - u2[i]! * x[i + 2]!) * ip[i]!;
  }
}

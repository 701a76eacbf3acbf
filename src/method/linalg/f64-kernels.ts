/**
 * The tridiagonalisation's vector kernels (f64-kernels.wat) over one float64 workspace: WebAssembly SIMD
 * where available, and otherwise the JavaScript loops below, which define the same operations (and are
 * what FUSION_BENCH_NO_WASM=1 or a runtime without WebAssembly SIMD gets). Arguments are indices into
 * the workspace, counted in float64 values; `ld` is the distance between a panel's columns.
 */
import { F64_KERNELS_WASM } from './f64-kernels-wasm.js';

export interface F64Kernels {
  /** The workspace with at least `doubles` entries; views from before are stale when it had to grow. */
  reserve(doubles: number): Float64Array;
  /** Σ m[x + k] m[y + k], k < len. */
  dot(x: number, y: number, len: number): number;
  /** col[r] −= Σ_{q<p} V_q[r] W_q[i] + W_q[r] V_q[i] for r in [i, n), V_q = m[V + q·ld …]. */
  colUpdate(col: number, V: number, W: number, ld: number, p: number, i: number, n: number): void;
  /** For q < p over rows [f, n): w −= V_q (W_qᵀv) + W_q (V_qᵀv) with v = V_p. */
  corr(w: number, V: number, W: number, ld: number, p: number, f: number, n: number): void;
  /** w[r] = Σ_{c<n−from} A[r][from + c] v[c] for r in [from, n) (A symmetric, row-major n×n at `a`; w[0] at `w`). */
  symv(a: number, n: number, from: number, v: number, w: number): void;
  /** A[s + r][s + c] −= P[r·L + c] for r, c < L. */
  subTrailing(a: number, n: number, s: number, P: number, L: number): void;
}

/** The little of the WebAssembly JS API used here (the project's `lib` settings do not declare it). */
interface WasmApi {
  Memory: new (d: { initial: number }) => { buffer: ArrayBuffer; grow(pages: number): number };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
}

type Exports = {
  dot(x: number, y: number, len: number): number;
  colUpdate(col: number, V: number, W: number, ld: number, p: number, i: number, n: number): void;
  corr(w: number, V: number, W: number, ld: number, p: number, f: number, n: number): void;
  symv(a: number, n: number, from: number, v: number, w: number): void;
  subTrailing(a: number, n: number, s: number, P: number, L: number): void;
};

function wasmKernels(): F64Kernels | null {
  const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (process.env.FUSION_BENCH_NO_WASM || wasm === undefined) return null;
  try {
    const memory = new wasm.Memory({ initial: 1 });
    const x = new wasm.Instance(new wasm.Module(Buffer.from(F64_KERNELS_WASM, 'base64')), { env: { memory } }).exports as unknown as Exports;
    return {
      reserve(doubles) {
        const need = Math.ceil((doubles * 8) / 65536) - memory.buffer.byteLength / 65536;
        if (need > 0) memory.grow(need);
        return new Float64Array(memory.buffer, 0, doubles);
      },
      dot: (a, b, len) => x.dot(8 * a, 8 * b, len),
      colUpdate: (col, V, W, ld, p, i, n) => x.colUpdate(8 * col, 8 * V, 8 * W, 8 * ld, p, i, n),
      corr: (w, V, W, ld, p, f, n) => x.corr(8 * w, 8 * V, 8 * W, 8 * ld, p, f, n),
      symv: (a, n, from, v, w) => x.symv(8 * a, n, from, 8 * v, 8 * w),
      subTrailing: (a, n, s, P, L) => x.subTrailing(8 * a, n, s, 8 * P, L),
    };
  } catch {
    return null; // no WebAssembly SIMD here
  }
}

/** The same operations in JavaScript, on a workspace grown as needed. */
export function jsKernels(): F64Kernels {
  let m = new Float64Array(0);
  const dot = (x: number, y: number, len: number) => {
    let s0 = 0, s1 = 0;
    let k = 0;
    for (; k + 1 < len; k += 2) {
      s0 += m[x + k]! * m[y + k]!;
      s1 += m[x + k + 1]! * m[y + k + 1]!;
    }
    if (k < len) s0 += m[x + k]! * m[y + k]!;
    return s0 + s1;
  };
  const axpy2 = (y: number, x1: number, s1: number, x2: number, s2: number, len: number) => {
    for (let k = 0; k < len; k++) m[y + k] = m[y + k]! - (m[x1 + k]! * s1 + m[x2 + k]! * s2);
  };
  return {
    reserve(doubles) {
      if (m.length < doubles) m = new Float64Array(doubles);
      return m.subarray(0, doubles);
    },
    dot,
    colUpdate(col, V, W, ld, p, i, n) {
      for (let q = 0; q < p; q++) axpy2(col + i, V + q * ld + i, m[W + q * ld + i]!, W + q * ld + i, m[V + q * ld + i]!, n - i);
    },
    corr(w, V, W, ld, p, f, n) {
      const v = V + p * ld + f;
      for (let q = 0; q < p; q++) {
        const vq = V + q * ld + f;
        const wq = W + q * ld + f;
        axpy2(w + f, vq, dot(wq, v, n - f), wq, dot(vq, v, n - f), n - f);
      }
    },
    symv(a, n, from, v, w) {
      for (let r = from; r < n; r++) m[w + r] = dot(a + r * n + from, v, n - from);
    },
    subTrailing(a, n, s, P, L) {
      for (let r = 0; r < L; r++) {
        const row = a + (s + r) * n + s;
        for (let c = 0; c < L; c++) m[row + c] = m[row + c]! - m[P + r * L + c]!;
      }
    },
  };
}

let kernels: F64Kernels | undefined;

/** The kernels this process uses: WebAssembly where it can, JavaScript otherwise (chosen once). */
export function f64Kernels(): F64Kernels {
  kernels ??= wasmKernels() ?? jsKernels();
  return kernels;
}

/** The WebAssembly kernels alone (a fresh instance), or null where they are unavailable: for tests. */
export function wasmF64Kernels(): F64Kernels | null {
  return wasmKernels();
}

/**
 * The large-matrix paths of the SVD kernels (src/method/linalg/): products on onnxruntime's MatMul
 * through the worker (ort-gemm.ts), the blocked tridiagonalisation over several panels
 * (tridiag-reduce.ts) and inverse iteration with clusters (tridiag-eig.ts) — on sizes above the
 * thresholds where they take over, with spectra that are hard for inverse iteration: repeated
 * eigenvalues, exact zeros, and the close pairs of Wilkinson's matrix.
 */
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gram, gramT, matmul, matmulT, matmulTN, polarWithValues, svdThin, symEig, transpose } from '../../src/method/linalg/dense.js';
import { ortGemmStatus, ortMatmul } from '../../src/method/linalg/ort-gemm.js';
import { tridiagEigen } from '../../src/method/linalg/tridiag-eig.js';
import { jsKernels, wasmF64Kernels } from '../../src/method/linalg/f64-kernels.js';
import { maxAbsDiff, naive, random } from './linalg-helpers.js';

function eye(n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}

/** Q diag(values) Qᵀ for a random orthogonal Q (eigenvectors of a random Gram matrix). */
function withSpectrum(values: readonly number[], seed: number): Float64Array {
  const n = values.length;
  const q = symEig(gram(random(n * n, seed), n, n), n).vectors;
  const qd = Float64Array.from(q, (x, i) => x * values[i % n]!);
  return matmulT(qd, q, n, n, n);
}

/** Residual A V − V Λ and orthonormality of the leading `count` eigenvectors. */
function checkEig(a: Float64Array, n: number, what: string, count = n): void {
  const { values, vectors } = symEig(a, n, count);
  assert.equal(vectors.length, n * count);
  let scale = 1;
  for (const x of values) scale = Math.max(scale, Math.abs(x));
  for (let j = 1; j < n; j++) assert.ok(values[j - 1]! >= values[j]!, `${what}: eigenvalues descending`);
  const av = matmul(a, vectors, n, n, count);
  for (let i = 0; i < n; i++) for (let j = 0; j < count; j++) av[i * count + j] = av[i * count + j]! - vectors[i * count + j]! * values[j]!;
  assert.ok(maxAbsDiff(av, new Float64Array(n * count)) <= 1e-12 * scale, `${what}: A V = V Λ`);
  assert.ok(maxAbsDiff(gram(vectors, n, count), eye(count)) < 1e-12, `${what}: VᵀV = I`);
}

test('onnxruntime MatMul through the worker equals the triple loop, and the dense products use it', () => {
  const [m, k, n] = [150, 131, 120];
  const a = random(m * k, 1);
  const b = random(k * n, 2);
  const want = naive(a, b, m, k, n);
  const got = ortMatmul(a, b, m, k, n);
  assert.equal(ortGemmStatus(), '', 'onnxruntime is used');
  assert.ok(got !== null);
  assert.ok(maxAbsDiff(got, want) < 1e-12);
  assert.ok(maxAbsDiff(matmul(a, b, m, k, n), want) < 1e-12, 'matmul');
  assert.ok(maxAbsDiff(matmulT(a, transpose(b, k, n), m, k, n), want) < 1e-12, 'matmulT');
  assert.ok(maxAbsDiff(matmulTN(transpose(a, m, k), b, k, m, n), want) < 1e-12, 'matmulTN');
  const g = gram(a, m, k);
  assert.ok(maxAbsDiff(g, naive(transpose(a, m, k), a, k, m, k)) < 1e-12, 'gram');
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) assert.equal(g[i * k + j], g[j * k + i], 'gram exactly symmetric');
  const h = gramT(a, m, k);
  assert.ok(maxAbsDiff(h, naive(a, transpose(a, m, k), m, k, m)) < 1e-12, 'gramT');
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) assert.equal(h[i * m + j], h[j * m + i], 'gramT exactly symmetric');
});

test('symEig over several panels: random, repeated, zero and clustered spectra; leading columns alone', () => {
  const n = 130; // 130³ multiply-adds: just over the onnxruntime threshold
  checkEig(gram(random(n * n, 3), n, n), n, 'random Gram');
  const x = random(n * n, 4);
  const sym = Float64Array.from(x, (v, i) => v + x[(i % n) * n + Math.trunc(i / n)]!);
  checkEig(sym, n, 'random symmetric');
  checkEig(sym, n, 'random symmetric, 20 leading', 20);
  // a few distinct values, each repeated many times, and a null space of 40
  checkEig(withSpectrum(Array.from({ length: n }, (_, i) => (i < 40 ? 0 : i < 80 ? 2 : i < 110 ? 1 + 1e-9 * i : 5)), 5), n, 'repeated and zero');
  checkEig(withSpectrum(Array.from({ length: n }, (_, i) => (i < 40 ? 0 : i < 80 ? 2 : 5)), 6), n, 'cut inside a cluster', 70);
  checkEig(new Float64Array(n * n), n, 'zero matrix');
  checkEig(eye(n), n, 'identity', 7);
});

test('tridiagEigen: Wilkinson W⁺ (pairs equal to ~1e-13) and a split matrix, against the eigen-equation', () => {
  for (const [n, splitAt] of [[81, -1], [60, 30]] as const) {
    const h = (n - 1) / 2;
    const d = Float64Array.from({ length: n }, (_, i) => Math.abs(i - h));
    const off = new Float64Array(n - 1).fill(1);
    if (splitAt >= 0) off[splitAt] = 0;
    const { values, rows } = tridiagEigen(d, off, n, n);
    let scale = 0;
    for (const v of values) scale = Math.max(scale, Math.abs(v));
    for (let j = 0; j < n; j++) {
      let res = 0;
      let norm = 0;
      for (let i = 0; i < n; i++) {
        const y = (k: number) => rows[j * n + k]!;
        const ty = d[i]! * y(i) + (i > 0 ? off[i - 1]! * y(i - 1) : 0) + (i < n - 1 ? off[i]! * y(i + 1) : 0);
        res = Math.max(res, Math.abs(ty - values[j]! * y(i)));
        norm += y(i) * y(i);
      }
      assert.ok(res < 1e-13 * scale, `n ${n}: residual of vector ${j}: ${res}`);
      assert.ok(Math.abs(norm - 1) < 1e-13, `n ${n}: unit vector ${j}`);
    }
    // close pairs are reorthogonalised within their cluster and window; the rest are orthogonal to ~ε‖T‖/gap
    const vtv = gramT(rows, n, n);
    assert.ok(maxAbsDiff(vtv, eye(n)) < 1e-12, `n ${n}: orthogonality`);
  }
});

test('svdThin and polar on a 300×160 matrix of rank 100 with repeated singular values: no NaN, zeros for the null space', () => {
  const [m, n, rank] = [300, 160, 100];
  const u = symEig(gram(random(m * m, 8), m, m), m, rank).vectors; // m × rank orthonormal
  const v = symEig(gram(random(n * n, 9), n, n), n, rank).vectors; // n × rank orthonormal
  const sig = Array.from({ length: rank }, (_, i) => (i < 30 ? 3 : i < 60 ? 1 : 0.5 - i * 1e-3));
  const a = matmulT(Float64Array.from(u, (x, i) => x * sig[i % rank]!), v, m, rank, n);
  const d = svdThin(a, m, n);
  for (let j = 0; j < n; j++) assert.ok(Math.abs(d.s[j]! - (j < rank ? sig[j]! : 0)) < 1e-10, `σ${j}`);
  for (let j = rank; j < n; j++) for (let i = 0; i < n; i++) assert.equal(d.vt[j * n + i], 0, 'null-space direction is zero');
  const us = Float64Array.from(d.u, (x, i) => x * d.s[i % n]!);
  assert.ok(maxAbsDiff(matmul(us, d.vt, m, n, n), a) < 1e-12, 'U Σ Vᵀ = A');
  // the polar factor of a rank-deficient matrix: the partial isometry u vᵀ, whatever basis the repeats got
  const { p, s } = polarWithValues(a, m, n);
  assert.ok(maxAbsDiff(s.subarray(0, rank), sig) < 1e-10);
  assert.ok(maxAbsDiff(p, matmulT(u, v, m, rank, n)) < 1e-9, 'polar = U Vᵀ');
});

test('the WebAssembly SIMD kernels of the tridiagonalisation equal their JavaScript definitions, tails of every length included', () => {
  const w = wasmF64Kernels();
  assert.ok(w !== null, 'WebAssembly SIMD is available on Node 20');
  const js = jsKernels();
  for (const n of [1, 2, 5, 8, 9, 17, 40]) {
    const size = 4 * n * n + 8 * n;
    const init = random(size, n);
    for (let r = 0; r < n; r++) for (let c = 0; c < r; c++) init[c * n + r] = init[r * n + c]!; // symv's A is symmetric
    const run = (f: (k: typeof js) => void) => {
      const a = w!.reserve(size);
      a.set(init);
      f(w!);
      const got = w!.reserve(size).slice();
      const b = js.reserve(size);
      b.set(init);
      f(js);
      return [got, js.reserve(size).slice()] as const;
    };
    const close = ([x, y]: readonly [Float64Array, Float64Array], what: string) => assert.ok(maxAbsDiff(x, y) < 1e-13, `n ${n}: ${what}`);
    const [V, W, col] = [n * n, 2 * n * n, 3 * n * n];
    for (let from = 0; from < n; from++) {
      close(run((k) => k.symv(0, n, from, 4 * n * n, 4 * n * n + n)), `symv from ${from}`);
      const p = Math.min(from, n - 1);
      close(run((k) => k.colUpdate(col, V, W, n, p, from, n)), `colUpdate ${p}, ${from}`);
      close(run((k) => k.corr(col, V, W, n, p, from, n)), `corr ${p}, ${from}`);
      close(run((k) => k.subTrailing(0, n, from, V, n - from)), `subTrailing ${from}`);
      let dw = 0;
      let dj = 0;
      run((k) => { if (k === js) dj = k.dot(1, V + 3, n - from); else dw = k.dot(1, V + 3, n - from); });
      assert.ok(Math.abs(dw - dj) < 1e-13, `dot ${from}`);
    }
  }
});

test('FUSION_BENCH_ORT_GEMM=0 and FUSION_BENCH_NO_WASM=1: JS products and JS kernels give the same decompositions, and onnxruntime is not started', () => {
  const dense = new URL('../../src/method/linalg/dense.js', import.meta.url).href;
  const gemm = new URL('../../src/method/linalg/ort-gemm.js', import.meta.url).href;
  const script = `
    const { gram, svdThin, symEig } = await import(${JSON.stringify(dense)});
    const { ortGemmStatus } = await import(${JSON.stringify(gemm)});
    const n = 140;
    let x = 1;
    const a = Float64Array.from({ length: n * n }, () => ((x = (x * 48271) % 2147483647) / 2147483647) - 0.5);
    const { values } = symEig(gram(a, n, n), n, 10);
    // a wide 60×140 matrix: the AAᵀ path; U Σ Vᵀ's first column, invariant to the vectors' signs
    const w = svdThin(a.subarray(0, 60 * n), 60, n, 0, 12);
    const first = Array.from({ length: 60 }, (_, i) => { let s = 0; for (let j = 0; j < 12; j++) s += w.u[i * 12 + j] * w.s[j] * w.vt[j * n]; return s; });
    process.stdout.write(JSON.stringify({ status: ortGemmStatus(), values: [...values, ...w.s, ...first] }));`;
  const run = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { status: string; values: number[] };
  };
  const ort = run({ FUSION_BENCH_ORT_GEMM: '1' });
  assert.equal(ort.status, '');
  const envs: Record<string, string>[] = [{ FUSION_BENCH_ORT_GEMM: '0' }, { FUSION_BENCH_NO_WASM: '1' }, { FUSION_BENCH_ORT_GEMM: '0', FUSION_BENCH_NO_WASM: '1' }];
  for (const env of envs) {
    const other = run(env);
    assert.equal(other.status, env.FUSION_BENCH_ORT_GEMM === '0' ? 'FUSION_BENCH_ORT_GEMM=0' : '', JSON.stringify(env));
    assert.ok(maxAbsDiff(other.values, ort.values) < 1e-11 * Math.abs(ort.values[0]!), JSON.stringify(env));
  }
});

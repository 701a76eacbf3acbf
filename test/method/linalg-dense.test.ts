/**
 * The float64 kernels under the SVD-based methods (src/method/linalg/dense.ts) on sizes that exercise
 * the 4×4 tiles and their edges: products against the textbook triple loop, the symmetric eigensolver by
 * its residual and orthogonality (also with repeated and zero eigenvalues), and the truncated thin SVD
 * against the full one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gram, gramT, matmul, matmulT, matmulTN, polar, svdThin, symEig, transpose } from '../../src/method/linalg/dense.js';
import { maxAbsDiff, naive, random } from './linalg-helpers.js';

test('matmul, matmulT, gram, gramT, transpose equal the triple loop on tile edges (sizes not multiples of 4)', () => {
  for (const [m, k, n] of [[1, 1, 1], [5, 7, 3], [13, 9, 11], [16, 8, 12]] as const) {
    const a = random(m * k, m + k);
    const b = random(k * n, k + n);
    const want = naive(a, b, m, k, n);
    assert.ok(maxAbsDiff(matmul(a, b, m, k, n), want) < 1e-13, `matmul ${m}×${k}×${n}`);
    assert.ok(maxAbsDiff(matmulT(a, transpose(b, k, n), m, k, n), want) < 1e-13, `matmulT ${m}×${k}×${n}`);
    assert.ok(maxAbsDiff(matmulTN(transpose(a, m, k), b, k, m, n), want) < 1e-13, `matmulTN ${m}×${k}×${n}`);
    assert.ok(maxAbsDiff(gram(a, m, k), naive(transpose(a, m, k), a, k, m, k)) < 1e-13, `gram ${m}×${k}`);
    assert.ok(maxAbsDiff(gramT(a, m, k), naive(a, transpose(a, m, k), m, k, m)) < 1e-13, `gramT ${m}×${k}`);
  }
});

function checkEig(a: Float64Array, n: number, what: string): void {
  const { values, vectors } = symEig(a, n);
  let scale = 0;
  for (const x of values) scale = Math.max(scale, Math.abs(x));
  for (let j = 1; j < n; j++) assert.ok(values[j - 1]! >= values[j]!, `${what}: eigenvalues descending`);
  const av = matmul(a, vectors, n, n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) av[i * n + j] = av[i * n + j]! - vectors[i * n + j]! * values[j]!;
  assert.ok(maxAbsDiff(av, new Float64Array(n * n)) <= 1e-12 * Math.max(scale, 1), `${what}: A V = V Λ`);
  const vtv = gram(vectors, n, n);
  const eye = new Float64Array(n * n);
  for (let i = 0; i < n; i++) eye[i * n + i] = 1;
  assert.ok(maxAbsDiff(vtv, eye) < 1e-12, `${what}: VᵀV = I`);
}

test('symEig: residual and orthogonality on random, repeated, zero and diagonal matrices', () => {
  for (const n of [1, 2, 3, 7, 30]) {
    const x = random(n * n, 100 + n);
    checkEig(gram(x, n, n), n, `random Gram ${n}`);
    const sym = x.slice();
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sym[i * n + j] = x[i * n + j]! + x[j * n + i]!;
    checkEig(sym, n, `random symmetric ${n}`); // negative eigenvalues too
  }
  // rank 2 in 9 dimensions with a repeated eigenvalue: a rotated diag(3, 3, 0, …)
  const n = 9;
  const q = symEig(gram(random(n * n, 7), n, n), n).vectors;
  const d = new Float64Array(n * n);
  d[0] = 3;
  d[n + 1] = 3;
  checkEig(matmul(matmul(q, d, n, n, n), transpose(q, n, n), n, n, n), n, 'repeated and zero');
  checkEig(new Float64Array(n * n), n, 'zero matrix');
  const diag = new Float64Array(n * n);
  for (let i = 0; i < n; i++) diag[i * n + i] = i % 3;
  checkEig(diag, n, 'diagonal with repeats');
});

test('svdThin: truncation keeps the leading triplets of the full SVD; A V = U Σ; polar factor orthonormal', () => {
  for (const [m, n] of [[13, 6], [6, 13], [10, 10]] as const) {
    const a = random(m * n, m * 31 + n);
    const full = svdThin(a, m, n);
    const top = svdThin(a, m, n, 0, 3);
    assert.equal(top.k, 3);
    assert.ok(maxAbsDiff(top.s, full.s.subarray(0, 3)) < 1e-12, `${m}×${n}: σ`);
    // u·vᵀ of each kept triplet (sign-free) equals the full SVD's
    for (let j = 0; j < 3; j++) {
      const outer = (u: Float64Array, k: number, vt: Float64Array) => Float64Array.from({ length: m * n }, (_, x) => u[Math.trunc(x / n) * k + j]! * vt[j * n + (x % n)]!);
      assert.ok(maxAbsDiff(outer(top.u, top.k, top.vt), outer(full.u, full.k, full.vt)) < 1e-10, `${m}×${n}: triplet ${j}`);
    }
    const k = full.k;
    const us = Float64Array.from(full.u, (x, i) => x * full.s[i % k]!);
    assert.ok(maxAbsDiff(matmul(us, full.vt, m, k, n), a) < 1e-12, `${m}×${n}: U Σ Vᵀ = A`);
    const p = polar(a, m, n);
    const pp = m >= n ? gram(p, m, n) : gram(transpose(p, m, n), n, m);
    const kk = Math.min(m, n);
    assert.ok(maxAbsDiff(pp, Float64Array.from({ length: kk * kk }, (_, i) => (i % (kk + 1) === 0 ? 1 : 0))) < 1e-12, `${m}×${n}: polar orthonormal`);
  }
});

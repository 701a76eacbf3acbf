/**
 * The float64 Cholesky solve behind RegMean: blocked (with the JavaScript and the onnxruntime trailing
 * updates) equals unblocked, L·Lᵀ reproduces A and A·X reproduces B to float64 rounding; singular and
 * indefinite matrices are refused, never answered with NaN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cholesky, choleskySolve, NotPositiveDefiniteError } from '../../src/method/linalg/solve.js';
import { OrtGemm } from '../../src/method/regmean/ort-gemm.js';
import { mulberry32 } from '../../src/util/prng.js';

/** XᵀX + shift·I for a random rows×n X (positive definite when rows ≥ n or shift > 0). */
function spd(n: number, rows: number, shift: number, seed: number): Float64Array {
  const rnd = mulberry32(seed);
  const x = Float64Array.from({ length: rows * n }, () => rnd() * 2 - 1);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += x[r * n + i]! * x[r * n + j]!;
      a[i * n + j] = s + (i === j ? shift : 0);
    }
  }
  return a;
}

function maxAbs(a: Float64Array): number {
  return a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

test('blocked Cholesky solve = unblocked, and A·X = B (JavaScript and onnxruntime updates)', async () => {
  const gemm = await OrtGemm.create({ executionProviders: ['cpu'], small: 0 });
  try {
    for (const [n, m] of [[53, 7], [97, 40]] as const) {
      const a = spd(n, n + 5, 0.1, n);
      const rnd = mulberry32(m);
      const b = Float64Array.from({ length: n * m }, () => rnd() - 0.5);
      const L0 = await cholesky(a, n, { block: n });
      const x0 = await choleskySolve(L0, n, b, m, { block: n });
      // L·Lᵀ = A
      let err = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let q = 0; q <= j; q++) s += L0[i * n + q]! * L0[j * n + q]!;
          err = Math.max(err, Math.abs(s - a[i * n + j]!));
        }
        for (let j = i + 1; j < n; j++) assert.equal(L0[i * n + j], 0, 'upper triangle is zero');
      }
      assert.ok(err <= 1e-12 * maxAbs(a), `L·Lᵀ − A: ${err}`);
      // A·X = B
      let res = 0;
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < m; c++) {
          let s = 0;
          for (let q = 0; q < n; q++) s += a[i * n + q]! * x0[q * m + c]!;
          res = Math.max(res, Math.abs(s - b[i * m + c]!));
        }
      }
      assert.ok(res <= 1e-10, `A·X − B: ${res}`);
      for (const opts of [{ block: 16 }, { block: 16, gemm: gemm.rowGemm }, { block: 5, gemm: gemm.rowGemm }]) {
        const L = await cholesky(a, n, opts);
        const x = await choleskySolve(L, n, b, m, opts);
        const dl = L.reduce((mx, v, i) => Math.max(mx, Math.abs(v - L0[i]!)), 0);
        const dx = x.reduce((mx, v, i) => Math.max(mx, Math.abs(v - x0[i]!)), 0);
        assert.ok(dl <= 1e-12 * maxAbs(L0), `n ${n} block ${opts.block}: L differs by ${dl}`);
        assert.ok(dx <= 1e-9 * maxAbs(x0), `n ${n} block ${opts.block}: X differs by ${dx}`);
      }
    }
  } finally {
    await gemm.dispose();
  }
});

test('a singular or indefinite matrix is refused with the pivot where it failed', async () => {
  const n = 40;
  // rank 10 < 40: XᵀX of 10 rows
  for (const block of [n, 8]) {
    await assert.rejects(cholesky(spd(n, 10, 0, 3), n, { block }), (e: unknown) => e instanceof NotPositiveDefiniteError && e.index >= 10 && e.index < n);
  }
  const indefinite = spd(n, 50, 0, 4);
  indefinite[5 * n + 5] = -1;
  await assert.rejects(cholesky(indefinite, n), (e: unknown) => e instanceof NotPositiveDefiniteError && e.index === 5);
  const nan = spd(n, 50, 0, 4);
  nan[0] = NaN;
  await assert.rejects(cholesky(nan, n), NotPositiveDefiniteError);
});

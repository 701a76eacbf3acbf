/** Shared by the linear-algebra tests: seeded random matrices, the textbook product, a checked max difference. */
import assert from 'node:assert/strict';
import { mulberry32 } from './helpers.js';

export function random(len: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  return Float64Array.from({ length: len }, () => r() - 0.5);
}

/** The triple loop A (m×k) · B (k×n). */
export function naive(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
    out[i * n + j] = s;
  }
  return out;
}

/** max |a − b|, failing on any non-finite entry of `a`. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    assert.ok(Number.isFinite(a[i]!), `entry ${i} is ${a[i]}`);
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
  }
  return d;
}

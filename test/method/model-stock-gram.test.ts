/**
 * ModelStock's angles come from one Gram pass over the task vectors. Without SIMD each sum equals the
 * pairwise loop of fusion_bench's compute_angle (τ rounded to float32, products summed in float64 in
 * element order) to the last bit, across block boundaries; the WebAssembly kernel sums the same exact
 * products in two float64 lanes, so it agrees to float64 rounding (and, rounded to float32 as the angle
 * is, almost always exactly).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GramBuffers, taskVectorGram } from '../../src/method/model-stock.js';
import { mulberry32 } from './helpers.js';

test('taskVectorGram equals the pairwise dot products and squared norms: bit for bit in JavaScript, to 1e-13 in the kernel', () => {
  const rnd = mulberry32(8);
  for (const [k, n] of [[2, 1], [3, 2047], [5, 2049], [8, 5000]] as const) {
    const ref = Float32Array.from({ length: n }, () => rnd() - 0.5);
    const ws = Array.from({ length: k }, () => Float32Array.from(ref, (x) => x + (rnd() - 0.5) * 0.01));
    const simd = new GramBuffers(k);
    assert.ok(simd.kernels !== null, 'the kernel path runs');
    const plain = taskVectorGram(ws, ref, new GramBuffers(k, false));
    const fast = taskVectorGram(ws, ref, simd);
    const again = taskVectorGram(ws, ref, simd); // buffers reused: the sums start from zero again
    assert.deepEqual(again, fast);
    for (let i = 0; i < k; i++) {
      for (let j = i; j < k; j++) {
        let d = 0;
        for (let p = 0; p < n; p++) d += Math.fround(ws[i]![p]! - ref[p]!) * Math.fround(ws[j]![p]! - ref[p]!);
        assert.equal(plain[i * k + j], d, `k=${k} n=${n} (${i}, ${j}): sequential`);
        const tol = 1e-13 * Math.sqrt(plain[i * k + i]! * plain[j * k + j]!);
        assert.ok(Math.abs(fast[i * k + j]! - d) <= tol, `k=${k} n=${n} (${i}, ${j}): kernel ${fast[i * k + j]} vs ${d}`);
      }
    }
  }
});

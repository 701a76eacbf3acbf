/**
 * ModelStock's angles come from one Gram pass over the task vectors: each sum equals the pairwise loop of
 * fusion_bench's compute_angle (τ rounded to float32, products summed in float64 in element order) to the
 * last bit, across block boundaries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { taskVectorGram } from '../../src/method/model-stock.js';
import { mulberry32 } from './helpers.js';

test('taskVectorGram equals the pairwise dot products and squared norms, bit for bit', () => {
  const rnd = mulberry32(8);
  for (const [k, n] of [[2, 1], [3, 2047], [5, 2049], [8, 5000]] as const) {
    const ref = Float32Array.from({ length: n }, () => rnd() - 0.5);
    const ws = Array.from({ length: k }, () => Float32Array.from(ref, (x) => x + (rnd() - 0.5) * 0.01));
    const g = taskVectorGram(ws, ref);
    for (let i = 0; i < k; i++) {
      for (let j = i; j < k; j++) {
        let d = 0;
        for (let p = 0; p < n; p++) d += Math.fround(ws[i]![p]! - ref[p]!) * Math.fround(ws[j]![p]! - ref[p]!);
        assert.equal(g[i * k + j], d, `k=${k} n=${n} (${i}, ${j})`);
      }
    }
  }
});

/** The streaming TIES pieces: radix-select thresholds equal a sort's k-th value, ties at it all kept. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keepFraction, trim, trimThresholds, type TaskVectorReader } from '../../src/method/ties-core.js';
import { torchColumnSum } from '../../src/method/f32.js';
import { mulberry32 } from './helpers.js';

function reader(tensors: Float32Array[][]): TaskVectorReader {
  // tensors[task][tensor]
  const names = tensors[0]!.map((_, j) => `t${j}`);
  return {
    tasks: tensors.length,
    names,
    numel: (name) => tensors[0]![Number(name.slice(1))]!.length,
    read: (name) => {
      const j = Number(name.slice(1));
      return { base: new Float32Array(tensors[0]![j]!.length), tvs: tensors.map((t) => t[j]!.slice()) };
    },
  };
}

function sortedKth(values: number[], fraction: number): number {
  const d = values.length;
  const k = d - Math.trunc(d * fraction);
  return k <= 0 ? 0 : values.map(Math.abs).sort((a, b) => a - b)[k - 1]!;
}

test('thresholds equal the k-th smallest |τ| of a full sort, across tensors and tasks', () => {
  const rnd = mulberry32(3);
  const sizes = [1, 17, 300, 4096, 33];
  for (const dist of ['normal-ish', 'wide', 'ties'] as const) {
    const tasks = [0, 1, 2].map(() => sizes.map((n) => Float32Array.from({ length: n }, () => {
      const u = rnd() * 2 - 1;
      return dist === 'wide' ? u * 2 ** Math.round(rnd() * 40 - 20) : dist === 'ties' ? Math.round(u * 4) / 4 : u * u * u;
    })));
    for (const threshold of [0, 0.05, 20, 50, 99, 100]) {
      const fraction = keepFraction(threshold);
      const bits = trimThresholds(reader(tasks), fraction);
      tasks.forEach((t, ti) => {
        const flat = t.flatMap((a) => Array.from(a));
        const want = sortedKth(flat, fraction);
        const got = new Float32Array(new Uint32Array([bits[ti]!]).buffer)[0]!;
        assert.equal(got, Math.fround(want), `${dist} threshold ${threshold} task ${ti}`);
      });
    }
  }
});

test('trim keeps every entry tied with the threshold (kthvalue + >=), so more than top-k may survive', () => {
  const tv = Float32Array.from([0.5, -0.5, 0.25, 0.5, -1, 0.125]);
  // keep 50% of 6 → k = 3: the 3rd smallest |τ| is 0.5, and all three ±0.5 entries stay.
  const thr = trimThresholds(reader([[tv]]), keepFraction(50));
  const out = [tv.slice()];
  trim(out, thr);
  assert.deepEqual(Array.from(out[0]!), [0.5, -0.5, 0, 0.5, -1, 0]);
});

test('column sums below 16 rows are sequential float32 sums', () => {
  const v = Float32Array.from([1e8, 1, -1e8, 1, 3.5]);
  let acc = 0;
  for (const x of v) acc = Math.fround(acc + x);
  assert.equal(torchColumnSum(v, v.length), acc);
  assert.equal(torchColumnSum(v, v.length), 4.5);
});

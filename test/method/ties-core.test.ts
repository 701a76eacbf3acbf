/** The streaming TIES pieces: radix-select thresholds equal a sort's k-th value, ties at it all kept. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keepFraction, planTies, TiesMerger, trim, trimThresholds, type TaskVectorReader } from '../../src/method/ties-core.js';
import { kernelsFor } from '../../src/tensor/kernels/arena.js';
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
      return { base: new Float32Array(tensors[0]![j]!.length), models: tensors.map((t) => t[j]!.slice()) };
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

/** sign(Σᵢ sign(Σₜ trimmed τₜ[i])) by brute force: float32 sums of the sort-trimmed task vectors. */
function bruteMajority(tasks: Float32Array[][], fraction: number): number {
  const flat = tasks.map((t) => t.flatMap((a) => Array.from(a)));
  const trimmed = flat.map((f) => {
    const kth = Math.fround(sortedKth(f, fraction));
    return f.map((x) => (Math.abs(x) >= kth ? x : 0));
  });
  let balance = 0;
  for (let i = 0; i < flat[0]!.length; i++) {
    let s = 0;
    for (const t of trimmed) s = Math.fround(s + t[i]!);
    balance += Math.sign(s);
  }
  return Math.sign(balance);
}

test('the majority sign counted during the threshold passes equals a brute-force count', () => {
  const rnd = mulberry32(11);
  const sizes = [5, 700, 3000, 64];
  let decisive = 0;
  for (const n of [1, 2, 3, 8, 15]) {
    for (const dist of ['continuous', 'grid', 'skewed'] as const) {
      // grid: multiples of 1/8, so exact cancellations and ties at the threshold are common.
      const tasks = Array.from({ length: n }, () => sizes.map((len) => Float32Array.from({ length: len }, () => {
        const u = rnd() * 2 - 1;
        return dist === 'grid' ? Math.round(u * 8) / 8 : dist === 'skewed' ? u * u * u + 0.05 : u;
      })));
      for (const threshold of [20, 50, 90]) {
        const fraction = keepFraction(threshold);
        const plan = planTies(reader(tasks), fraction);
        const want = bruteMajority(tasks, fraction);
        assert.equal(plan.majority, want, `${n} tasks ${dist} threshold ${threshold}`);
        if (want !== 0) decisive++;
        tasks.forEach((t, ti) => {
          const got = new Float32Array(new Uint32Array([plan.thresholds[ti]!]).buffer)[0]!;
          assert.equal(got, Math.fround(sortedKth(t.flatMap((a) => Array.from(a)), fraction)));
        });
      }
    }
  }
  assert.ok(decisive > 10, 'the cases include non-zero majorities');
});

test('the majority sign is left to a later pass when the undecided positions outgrow their budget, or with 16+ tasks', () => {
  const rnd = mulberry32(12);
  const make = (n: number) => Array.from({ length: n }, () => [Float32Array.from({ length: 4000 }, () => Math.round((rnd() * 2 - 1) * 4) / 4)]);
  const few = make(3);
  assert.notEqual(planTies(reader(few), 0.2).majority, null);
  assert.equal(planTies(reader(few), 0.2, 0).majority, null);
  assert.deepEqual(planTies(reader(few), 0.2, 0).thresholds, planTies(reader(few), 0.2).thresholds);
  assert.equal(planTies(reader(make(16)), 0.2).majority, null);
  assert.equal(planTies(reader(few), 1).majority, null); // keep all: no threshold passes
});

test('the later majority pass (TiesMerger.majoritySign) equals a brute-force count, in the SIMD kernels and in JavaScript', () => {
  const rnd = mulberry32(21);
  const bits = new Uint32Array(1);
  const f = new Float32Array(bits.buffer);
  let decisive = 0;
  for (const n of [2, 3, 5]) {
    // coarse values: many equal |τ| in the threshold bins, many zero sums (as half-precision inputs give)
    const tensors = Array.from({ length: n }, () => [4000, 37, 1].map((len) => Float32Array.from({ length: len }, () => Math.round((rnd() * 2 - 1) * 4) / 4 + (rnd() < 0.3 ? 0.125 : 0))));
    const plain = reader(tensors);
    const plan = planTies(plain, 0.2, 0); // no budget for undecided positions: the majority is left for later
    assert.equal(plan.majority, null);
    let balance = 0;
    tensors[0]!.forEach((_, j) => {
      for (let i = 0; i < tensors[0]![j]!.length; i++) {
        let s = 0;
        for (let t = 0; t < n; t++) {
          f[0] = tensors[t]![j]![i]!;
          s = Math.fround(s + ((bits[0]! & 0x7fffffff) >= plan.thresholds[t]! ? f[0]! : 0));
        }
        balance += Math.sign(s);
      }
    });
    const want = Math.sign(balance);
    if (want !== 0) decisive++;
    assert.equal(new TiesMerger(plain, plan, 'sum').majoritySign(), want, `${n} tasks, plain arrays`);
    // the runner's way: the inputs in the slots of the Scratch the pass hands over (an arena: the kernels run)
    const slotted: TaskVectorReader = {
      ...plain,
      read: (name, scratch) => {
        const { base, models } = plain.read(name);
        const into = (slot: number, a: Float32Array) => {
          const v = scratch!.buffer(slot, a.length);
          v.set(a);
          return v;
        };
        const got = { base: into(0, base), models: models.map((m, k) => into(k + 1, m)) };
        assert.ok(kernelsFor(got.base, ...got.models) !== null, 'the pass gives its reader an arena');
        return got;
      },
    };
    assert.equal(new TiesMerger(slotted, plan, 'sum').majoritySign(), want, `${n} tasks, in an arena`);
  }
  assert.ok(decisive >= 2, 'the cases include non-zero majorities');
});

/**
 * Every method against a straightforward float64 reference written here, on small random models.
 * Our methods compute in float32 like torch, so agreement is to float32 rounding (≤ 1e-5).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DareSimpleAverage, DareTaskArithmetic, DareTiesMerging, DummyAlgorithm, LinearInterpolationAlgorithm, MagMaxAlgorithm, ModelStock,
  SimpleAverageAlgorithm, SlerpMergeAlgorithm, TaskArithmeticAlgorithm, TiesMergingAlgorithm, WeightedAverageAlgorithm,
} from '../../src/method/index.js';
import { uniformStream, isLinearWeight } from '../../src/method/dare/random-drop.js';
import { BaseModelPool } from '../../src/modelpool/base-pool.js';
import { LAYOUT, mapArrays, maxRelErr, model, randomArrays, readAll, type Arrays } from './helpers.js';

const TOL = 1e-5;

function setup(n: number, seed: number, grid = false) {
  const theta0 = randomArrays(seed, { grid });
  const fts = Array.from({ length: n }, (_, k) => randomArrays(seed * 31 + k + 1, { grid, around: theta0, scale: grid ? 1 : 0.2 }));
  const models: Record<string, ReturnType<typeof model>> = { _pretrained_: model(theta0, 'pretrained') };
  fts.forEach((a, k) => (models[`task${k}`] = model(a, `task${k}`)));
  return { theta0, fts, models };
}

// ---- float64 references -------------------------------------------------------------------------

function refTaskArithmetic(theta0: Arrays, fts: Arrays[], s: number): Arrays {
  return mapArrays(theta0, (n, i) => theta0[n]![i]! + s * fts.reduce((acc, f) => acc + (f[n]![i]! - theta0[n]![i]!), 0));
}

function refTies(theta0: Arrays, fts: Arrays[], o: { s: number; threshold: number; func: string; remove?: string[] }): Arrays {
  const names = Object.keys(theta0).filter((n) => !(o.remove ?? []).includes(n)).sort();
  const flat = (a: Arrays) => names.flatMap((n) => Array.from(a[n]!));
  const p = flat(theta0);
  const tvs = fts.map((f) => flat(f).map((x, i) => x - p[i]!));
  const d = p.length;
  const K = o.threshold > 1 ? o.threshold / 100 : o.threshold;
  const k = d - Math.floor(d * K);
  const trimmed = tvs.map((tv) => {
    if (k <= 0) return tv;
    const kth = tv.map(Math.abs).sort((a, b) => a - b)[k - 1]!;
    return tv.map((x) => (Math.abs(x) >= kth ? x : 0));
  });
  const sums = p.map((_, i) => trimmed.reduce((a, tv) => a + tv[i]!, 0));
  const signs = sums.map(Math.sign);
  const majority = Math.sign(signs.reduce((a, b) => a + b, 0));
  const elected = signs.map((x) => (x === 0 ? majority : x));
  const merged = p.map((_, i) => {
    const sel = trimmed.map((tv) => (elected[i]! > 0 ? (tv[i]! > 0 ? tv[i]! : 0) : tv[i]! < 0 ? tv[i]! : 0));
    if (o.func === 'max') return Math.max(...sel.map(Math.abs)) * elected[i]!;
    const sum = sel.reduce((a, b) => a + b, 0);
    return o.func === 'mean' ? sum / Math.max(1, sel.filter((x) => x !== 0).length) : sum;
  });
  const out = mapArrays(theta0, (n, i) => theta0[n]![i]!);
  let off = 0;
  for (const n of names) {
    const a = out[n]!;
    for (let i = 0; i < a.length; i++) a[i] = p[off + i]! + o.s * merged[off + i]!;
    off += a.length;
  }
  return out;
}

function refDareTaskVectors(theta0: Arrays, fts: Arrays[], o: { ratio: number; linearOnly: boolean; rescale: boolean; seed: number }): Arrays[] {
  return fts.map((f, k) =>
    Object.fromEntries(
      Object.keys(theta0).map((n) => {
        const drop = !o.linearOnly || isLinearWeight(n, { dtype: 'F32', shape: LAYOUT[n]! });
        const next = uniformStream(o.seed, `task${k}`, n);
        return [n, Float64Array.from(theta0[n]!, (p, i) => {
          const tv = f[n]![i]! - p;
          if (!drop) return tv;
          const kept = next() > Math.fround(o.ratio) ? tv : 0;
          return o.rescale ? kept / (1 - o.ratio) : kept;
        })];
      }),
    ),
  );
}

function refModelStock(theta0: Arrays, fts: Arrays[], ignore: string[] = []): Arrays {
  const k = fts.length;
  return mapArrays(theta0, () => 0) && Object.fromEntries(
    Object.keys(theta0).map((n) => {
      const avg = Float64Array.from(theta0[n]!, (_, i) => fts.reduce((a, f) => a + f[n]![i]!, 0) / k);
      if (ignore.includes(n)) return [n, avg];
      let angleSum = 0;
      let pairs = 0;
      for (let a = 0; a < k; a++) {
        for (let b = a + 1; b < k; b++) {
          let dot = 0, na = 0, nb = 0;
          theta0[n]!.forEach((p, i) => {
            const x = fts[a]![n]![i]! - p, y = fts[b]![n]![i]! - p;
            dot += x * y; na += x * x; nb += y * y;
          });
          angleSum += Math.acos(Math.max(-1, Math.min(1, dot / (Math.sqrt(na * nb) + 1e-8))));
          pairs++;
        }
      }
      const c = Math.cos(angleSum / pairs);
      const r = (k * c) / ((k - 1) * c + 1 + 1e-8);
      return [n, Float64Array.from(avg, (x, i) => x * r + theta0[n]![i]! * (1 - r))];
    }),
  );
}

function refSlerp(a: Arrays, b: Arrays, t: number): Arrays {
  return Object.fromEntries(Object.keys(a).map((n) => {
    const v0 = a[n]!, v1 = b[n]!;
    const n0 = Math.hypot(...v0), n1 = Math.hypot(...v1);
    const dot = v0.reduce((s, x, i) => s + (x / n0) * (v1[i]! / n1), 0);
    if (Math.abs(dot) > 0.9995) return [n, Float64Array.from(v0, (x, i) => (1 - t) * x + t * v1[i]!)];
    const th = Math.acos(dot);
    const s0 = Math.sin(th - th * t) / Math.sin(th), s1 = Math.sin(th * t) / Math.sin(th);
    return [n, Float64Array.from(v0, (x, i) => s0 * x + s1 * v1[i]!)];
  }));
}

// ---- tests -------------------------------------------------------------------------------------

test('TaskArithmeticAlgorithm matches θ₀ + λ·Σ τ', async () => {
  for (const [n, s] of [[1, 0.3], [3, 0.5], [4, -1.25]] as const) {
    const { theta0, fts, models } = setup(n, 10 + n);
    const got = readAll(await new TaskArithmeticAlgorithm({ scaling_factor: s }).run(models));
    assert.ok(maxRelErr(got, refTaskArithmetic(theta0, fts, s)) <= TOL);
  }
});

test('SimpleAverageAlgorithm averages the regular models only', async () => {
  const { fts, models } = setup(3, 5);
  const got = readAll(await new SimpleAverageAlgorithm({}).run(models));
  const want = mapArrays(fts[0]!, (n, i) => fts.reduce((a, f) => a + f[n]![i]!, 0) / 3);
  assert.ok(maxRelErr(got, want) <= TOL);
});

test('WeightedAverageAlgorithm with and without normalisation', async () => {
  const { fts, models } = setup(3, 6);
  for (const normalize of [true, false]) {
    const weights = [0.2, 0.5, 1.3];
    const total = normalize ? 2 : 1;
    const got = readAll(await new WeightedAverageAlgorithm({ normalize, weights }).run(models));
    const want = mapArrays(fts[0]!, (n, i) => fts.reduce((a, f, k) => a + (weights[k]! / total) * f[n]![i]!, 0));
    assert.ok(maxRelErr(got, want) <= TOL);
  }
});

test('LinearInterpolationAlgorithm interpolates the two models of the pool', async () => {
  const a = randomArrays(1), b = randomArrays(2);
  for (const t of [0, 0.25, 1]) {
    const got = readAll(await new LinearInterpolationAlgorithm({ t }).run({ first: model(a), second: model(b) }));
    assert.ok(maxRelErr(got, mapArrays(a, (n, i) => (1 - t) * a[n]![i]! + t * b[n]![i]!)) <= TOL);
  }
  // t = 0 returns the first model exactly (the weight-0 term is skipped, the weight-1 term added as is).
  const exact = readAll(await new LinearInterpolationAlgorithm({ t: 0 }).run({ first: model(a), second: model(b) }));
  assert.deepEqual(exact, mapArrays(a, (n, i) => a[n]![i]!));
});

test('MagMaxAlgorithm picks the largest-magnitude task vector, later models winning ties', async () => {
  const { theta0, fts, models } = setup(3, 7, true);
  const got = readAll(await new MagMaxAlgorithm({ scaling_factor: 0.5 }).run(models));
  const want = mapArrays(theta0, (n, i) => {
    let best = 0;
    fts.forEach((f, k) => {
      const tv = f[n]![i]! - theta0[n]![i]!;
      if (k === 0 || Math.abs(tv) >= Math.abs(best)) best = tv;
    });
    return theta0[n]![i]! + 0.5 * best;
  });
  assert.ok(maxRelErr(got, want) <= TOL);
});

test('TiesMergingAlgorithm matches a sort-based top-k reference for every merge function', async () => {
  for (const [seed, n, threshold, func] of [
    [1, 3, 20, 'sum'], [2, 3, 20, 'mean'], [3, 4, 50, 'max'], [4, 2, 0.7, 'sum'], [5, 3, 100, 'mean'], [6, 5, 0, 'dis-mean'],
    [7, 17, 20, 'mean'], [8, 18, 40, 'sum'], [9, 16, 10, 'max'],
  ] as const) {
    const { theta0, fts, models } = setup(n, seed, true);
    const got = readAll(await new TiesMergingAlgorithm({ scaling_factor: 0.3, threshold, remove_keys: [], merge_func: func }).run(models));
    const want = refTies(theta0, fts, { s: 0.3, threshold, func: func.split('-').at(-1)! });
    assert.ok(maxRelErr(got, want) <= TOL, `seed ${seed} threshold ${threshold} ${func}`);
  }
});

test('TiesMergingAlgorithm keeps remove_keys at their pretrained values and leaves them out of the top-k', async () => {
  const { theta0, fts, models } = setup(3, 9, true);
  const remove = ['enc.layers.0.fc1.bias', 'enc.layer_norm.weight'];
  const got = readAll(await new TiesMergingAlgorithm({ scaling_factor: 1, threshold: 30, remove_keys: remove, merge_func: 'sum' }).run(models));
  assert.ok(maxRelErr(got, refTies(theta0, fts, { s: 1, threshold: 30, func: 'sum', remove })) <= TOL);
  for (const n of remove) assert.deepEqual(got[n], theta0[n]);
});

test('DareTaskArithmetic and DareSimpleAverage: seeded drop and rescale over τ', async () => {
  const { theta0, fts, models } = setup(3, 11);
  for (const [ratio, linearOnly, rescale] of [[0.5, false, true], [0.3, true, true], [0.6, false, false]] as const) {
    const o = { ratio, linearOnly, rescale, seed: 0 };
    const tvs = refDareTaskVectors(theta0, fts, o);
    const want = mapArrays(theta0, (n, i) => theta0[n]![i]! + 0.4 * tvs.reduce((a, tv) => a + tv[n]![i]!, 0));
    const cfg = { sparsity_ratio: ratio, only_on_linear_weights: linearOnly, rescale };
    assert.ok(maxRelErr(readAll(await new DareTaskArithmetic({ ...cfg, scaling_factor: 0.4 }).run(models)), want) <= TOL);
    const avg = mapArrays(theta0, (n, i) => theta0[n]![i]! + tvs.reduce((a, tv) => a + tv[n]![i]!, 0) / 3);
    assert.ok(maxRelErr(readAll(await new DareSimpleAverage(cfg).run(models)), avg) <= TOL);
  }
  // Sparsity 0 is plain task arithmetic.
  const plain = readAll(await new DareTaskArithmetic({ scaling_factor: 0.4, sparsity_ratio: 0, only_on_linear_weights: false }).run(models));
  assert.ok(maxRelErr(plain, refTaskArithmetic(theta0, fts, 0.4)) <= TOL);
  // Another seed drops other entries.
  const a = readAll(await new DareTaskArithmetic({ scaling_factor: 1, sparsity_ratio: 0.5, only_on_linear_weights: false, seed: 1 }).run(models));
  const b = readAll(await new DareTaskArithmetic({ scaling_factor: 1, sparsity_ratio: 0.5, only_on_linear_weights: false, seed: 2 }).run(models));
  assert.ok(maxRelErr(a, b) > 1e-3);
});

test('DareTiesMerging is TIES over the dropped task vectors', async () => {
  const { theta0, fts, models } = setup(3, 12, true);
  const o = { ratio: 0.5, linearOnly: false, rescale: true, seed: 7 };
  const tvs = refDareTaskVectors(theta0, fts, o);
  const dropped = tvs.map((tv) => mapArrays(theta0, (n, i) => theta0[n]![i]! + tv[n]![i]!));
  const got = readAll(await new DareTiesMerging({
    sparsity_ratio: 0.5, only_on_linear_weights: false, rescale: true, seed: 7,
    scaling_factor: 0.5, threshold: 20, remove_keys: [], merge_func: 'sum',
  }).run(models));
  assert.ok(maxRelErr(got, refTies(theta0, dropped, { s: 0.5, threshold: 20, func: 'sum' })) <= TOL);
});

test('ModelStock with two and with three fine-tuned models, ignore_keys averaged only', async () => {
  for (const n of [2, 3]) {
    const { theta0, fts, models } = setup(n, 20 + n);
    const ignore = ['enc.layer_norm.weight'];
    const got = readAll(await new ModelStock({ ignore_keys: ignore, model_save_path: null }).run(models));
    assert.ok(maxRelErr(got, refModelStock(theta0, fts, ignore)) <= TOL, `${n} models`);
  }
});

test('SlerpMergeAlgorithm: spherical between distant models, linear when nearly collinear', async () => {
  const a = randomArrays(30), b = randomArrays(31);
  const got = readAll(await new SlerpMergeAlgorithm({ t: 0.3 }).run({ a: model(a), b: model(b) }));
  assert.ok(maxRelErr(got, refSlerp(a, b, 0.3)) <= TOL);
  const near = mapArrays(a, (n, i) => Math.fround(a[n]![i]! * 1.01));
  const lin = readAll(await new SlerpMergeAlgorithm({ t: 0.5 }).run({ a: model(a), b: model(near) }));
  assert.ok(maxRelErr(lin, mapArrays(a, (n, i) => 0.5 * a[n]![i]! + 0.5 * near[n]![i]!)) <= TOL);
});

test('DummyAlgorithm returns the pretrained model, or the first one', async () => {
  const { theta0, fts, models } = setup(2, 40);
  assert.deepEqual(readAll(await new DummyAlgorithm({}).run(models)), mapArrays(theta0, (n, i) => theta0[n]![i]!));
  const pool = new BaseModelPool({ models: { x: model(fts[1]!), y: model(fts[0]!) } });
  assert.deepEqual(readAll(await new DummyAlgorithm({}).run(pool)), mapArrays(fts[1]!, (n, i) => fts[1]![n]![i]!));
});

test('TIES zero elected signs: resolved by the majority sign; a zero majority selects negative entries', async () => {
  const layout = { w: [3] };
  const run = async (a: number[], b: number[], func: string) => {
    const m = (xs: number[]) => model({ w: Float64Array.from(xs) }, 'm', layout);
    const merged = await new TiesMergingAlgorithm({ scaling_factor: 1, threshold: 100, merge_func: func }).run({ _pretrained_: m([0, 0, 0]), a: m(a), b: m(b) });
    return Array.from(merged.stateDict.loadF32('w'));
  };
  // sums [0, 0, 3]: majority +1, so the zero-sum columns keep their positive entries.
  assert.deepEqual(await run([1, -1, 2], [-1, 1, 1], 'sum'), [1, 1, 3]);
  // sums [0, 0, 0]: majority 0; torch.where(0 > 0, v > 0, v < 0) keeps the negative entries, max × 0 = 0.
  assert.deepEqual(await run([1, -1, 2], [-1, 1, -2], 'sum'), [-1, -1, -2]);
  assert.deepEqual(await run([1, -1, 2], [-1, 1, -2], 'mean'), [-1, -1, -2]);
  assert.deepEqual((await run([1, -1, 2], [-1, 1, -2], 'max')).map(Math.abs), [0, 0, 0]);
});

/**
 * TSV-M, Iso-C and Iso-CTS against float64 re-computations from the formulas on an independent Jacobi
 * SVD (test/method/svd-reference.ts): random task vectors, task vectors with repeated and zero singular
 * values (no NaN, same result), results invariant to the singular vectors' signs, and bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUserError } from '../../src/errors.js';
import { IsotropicMergingInCommonAndTaskSubspace, IsotropicMergingInCommonSubspace, PerTaskModels, TaskSingularVectorMerging } from '../../src/method/index.js';
import { isoCMatrix, isoCtsMatrix, isoCtsSplit, tsvMatrix } from '../../src/method/svd-merging.js';
import { model, mulberry32, randomArrays, type Arrays } from './helpers.js';
import { jacobiSvd, mul, polarRef, rows, signFlipper, transpose, tsvRef } from './svd-reference.js';

const LAYOUT: Record<string, number[]> = { 'l.0.fc.weight': [12, 9], 'l.0.proj.weight': [7, 10], 'l.0.fc.bias': [12], 'patch.weight': [3, 2, 2, 2] };
const MATRICES = ['l.0.fc.weight', 'l.0.proj.weight'];

function pool(theta0: Arrays, fts: Arrays[]): Record<string, unknown> {
  const out: Record<string, unknown> = { _pretrained_: model(theta0, 'base', LAYOUT) };
  fts.forEach((f, i) => (out[`t${i}`] = model(f, `t${i}`, LAYOUT)));
  return out;
}

function taskVectors(theta0: Arrays, fts: Arrays[], name: string): number[][][] {
  const [m, n] = LAYOUT[name]!;
  return fts.map((f) => rows(f[name]!.map((x, i) => Math.fround(x - theta0[name]![i]!)), m!, n!));
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, rtol = 2e-6): void {
  assert.equal(got.length, want.length, what);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) {
    assert.ok(Number.isFinite(got[i]!), `${what}[${i}] is ${got[i]}`);
    assert.ok(Math.abs(got[i]! - want[i]!) <= rtol * Math.max(scale, 1e-30), `${what}[${i}]: ${got[i]} vs ${want[i]} (scale ${scale})`);
  }
}

async function merged(method: { run(p: never): Promise<unknown> }, p: Record<string, unknown>): Promise<Map<string, Float32Array>> {
  const m = (await method.run(p as never)) as { stateDict: { loadF32(n: string): Float32Array; close?(): void } };
  const out = new Map(Object.keys(LAYOUT).map((n) => [n, m.stateDict.loadF32(n)] as const));
  m.stateDict.close?.();
  return out;
}

/** θ₀ + c·X for a reference matrix X. */
function plus(theta0: Float64Array, x: number[][], c: number): number[] {
  return x.flat().map((v, i) => theta0[i]! + c * v);
}

function meanOf(theta0: Arrays, fts: Arrays[], name: string): number[] {
  return Array.from(theta0[name]!, (_, i) => fts.reduce((s, f) => s + (f[name]![i]! - theta0[name]![i]!), 0) / fts.length);
}

/** Task vectors with repeated and zero singular values: Q diag(spec) Pᵀ around θ₀. */
function structured(theta0: Arrays, seed: number, spec: number[]): Arrays {
  const rnd = mulberry32(seed);
  const out: Arrays = {};
  for (const [name, shape] of Object.entries(LAYOUT)) {
    const base = theta0[name]!;
    if (shape.length !== 2) {
      out[name] = base.map((x) => Math.fround(x + (rnd() - 0.5) * 0.1));
      continue;
    }
    const [m, n] = shape as [number, number];
    const q = jacobiSvd(rows(Array.from({ length: m * m }, () => rnd() - 0.5), m, m)).u;
    const p = jacobiSvd(rows(Array.from({ length: n * n }, () => rnd() - 0.5), n, n)).u;
    const k = Math.min(m, n);
    const d = Array.from({ length: m }, (_, i) => Array.from({ length: n }, (_, j) => (i === j && i < k ? (spec[i] ?? 0) : 0)));
    const tv = mul(mul(q, d), transpose(p)).flat();
    out[name] = base.map((x, i) => Math.fround(x + tv[i]! * 0.1));
  }
  return out;
}


/** Iso-CTS of one matrix from the formulas (fusion_bench's iso_cts), on the Jacobi SVD with sign flips. */
function isoCtsRef(tvs: number[][][], f: number): number[][] {
  const m = tvs[0]!.length;
  const n = tvs[0]![0]!.length;
  const k = Math.min(m, n);
  const { common, perTask } = isoCtsSplit(k, tvs.length, f);
  const sum = tvs[0]!.map((r, i) => r.map((_, j) => tvs.reduce((s, t) => s + t[i]![j]!, 0)));
  const c = jacobiSvd(sum, signFlipper(8));
  const uc = c.u.map((r) => r.slice(0, common));
  const U = Array.from({ length: m }, () => new Array<number>(k).fill(0));
  const V = Array.from({ length: n }, () => new Array<number>(k).fill(0));
  const S = new Array<number>(k).fill(0);
  tvs.forEach((tv, i) => {
    const proj = mul(uc, mul(transpose(uc), tv));
    // a residual at float64 rounding level of ‖τᵢ‖ is zero (the implementation's stated rule)
    const fro = Math.sqrt(tv.flat().reduce((s, x) => s + x * x, 0));
    const d = jacobiSvd(tv.map((r, a) => r.map((x, b) => x - proj[a]![b]!)), signFlipper(9 + i), 1e-12 * fro);
    for (let j = 0; j < perTask; j++) {
      S[i * perTask + j] = d.s[j]!;
      for (let a = 0; a < m; a++) U[a]![i * perTask + j] = d.u[a]![j]!;
      for (let b = 0; b < n; b++) V[b]![i * perTask + j] = d.v[b]![j]!;
    }
  });
  const at = tvs.length * perTask;
  for (let j = 0; j < common; j++) {
    S[at + j] = c.s[j]!;
    for (let a = 0; a < m; a++) U[a]![at + j] = c.u[a]![j]!;
    for (let b = 0; b < n; b++) V[b]![at + j] = c.v[b]![j]!;
  }
  const sbar = S.reduce((a, b) => a + b, 0) / k;
  return mul(polarRef(U), transpose(polarRef(V))).map((r) => r.map((x) => x * sbar));
}

/** Iso-C of one matrix: the polar factor of Σ τᵢ times its mean singular value. */
function isoCRef(tvs: number[][][]): number[][] {
  const sum = tvs[0]!.map((r, i) => r.map((_, j) => tvs.reduce((s, t) => s + t[i]![j]!, 0)));
  const d = jacobiSvd(sum, signFlipper(7));
  const sbar = d.s.reduce((a, b) => a + b, 0) / d.s.length;
  return polarRef(sum).map((r) => r.map((x) => x * sbar));
}

const theta0 = randomArrays(11, { layout: LAYOUT });
const random = [12, 13, 14].map((s) => randomArrays(s, { layout: LAYOUT, around: theta0, scale: 0.1 }));
// repeated (3, 3; 0.5, 0.5; 2, 2) and zero singular values, two tasks with the same spectrum; TSV-M's
// cut (the top 3 of [12, 9], the top 2 of [7, 10]) never splits a repeated value, where any basis would do
const degenerate = [structured(theta0, 21, [3, 3, 1, 0.5, 0.5]), structured(theta0, 22, [2, 2, 1, 0, 0, 0]), structured(theta0, 23, [3, 3, 1, 0.5, 0.5])];

test('exactly rank-deficient task vectors: zero singular directions give zeros, never NaN', async () => {
  // τ = a·bᵀ + c·dᵀ on a grid of 1/16: exact in float32, so its zero singular values are exactly zero
  const grid = randomArrays(41, { grid: true, layout: LAYOUT });
  const rnd = mulberry32(42);
  const q = () => Math.round((rnd() - 0.5) * 8) / 8;
  const ft = (): Arrays => Object.fromEntries(Object.entries(LAYOUT).map(([name, shape]) => {
    if (shape.length !== 2) return [name, grid[name]!.map((x) => x + q())];
    const [m, n] = shape as [number, number];
    const [a, b, c, d] = [m, n, m, n].map((len) => Array.from({ length: len }, q));
    return [name, grid[name]!.map((x, idx) => x + a![Math.trunc(idx / n)]! * b![idx % n]! + c![Math.trunc(idx / n)]! * d![idx % n]!)];
  })) as Arrays;
  for (const fts of [[ft()], [ft(), ft()]]) {
    const tsv = await merged(new TaskSingularVectorMerging({}), pool(grid, fts));
    const isoC = await merged(new IsotropicMergingInCommonSubspace({ scaling_factor: 1 }), pool(grid, fts));
    const cts = await merged(new IsotropicMergingInCommonAndTaskSubspace({ scaling_factor: 1, common_space_fraction: 0.5 }), pool(grid, fts));
    for (const name of MATRICES) {
      const tvs = taskVectors(grid, fts, name);
      assertClose(tsv.get(name)!, plus(grid[name]!, tsvRef(tvs), 1), `TSV-M ${name}, ${fts.length} task(s)`);
      assertClose(isoC.get(name)!, plus(grid[name]!, isoCRef(tvs), 1), `Iso-C ${name}, ${fts.length} task(s)`);
      assertClose(cts.get(name)!, plus(grid[name]!, isoCtsRef(tvs, 0.5), 1), `Iso-CTS ${name}, ${fts.length} task(s)`);
    }
  }
});

for (const [label, fts] of [['random', random], ['repeated and zero singular values', degenerate]] as const) {
  test(`TSV-M (${label}): matrices as the formula on an independent SVD, the rest the mean task vector`, async () => {
    for (const alpha of [1, 0.7]) {
      const got = await merged(new TaskSingularVectorMerging({ alpha }), pool(theta0, fts));
      for (const name of MATRICES) {
        const want = plus(theta0[name]!, tsvRef(taskVectors(theta0, fts, name)), alpha);
        assertClose(got.get(name)!, want, `${name} α=${alpha}`);
        // the reference with random sign flips of its singular vectors gives the same matrix
        assertClose(want, plus(theta0[name]!, tsvRef(taskVectors(theta0, fts, name), signFlipper(5)), alpha), `${name} sign-invariant`, 1e-9);
      }
      for (const name of ['l.0.fc.bias', 'patch.weight']) assertClose(got.get(name)!, meanOf(theta0, fts, name).map((v, i) => theta0[name]![i]! + alpha * v), name);
    }
  });

  test(`Iso-C and Iso-CTS (${label}): polar factors with a flat spectrum`, async () => {
    const isoC = await merged(new IsotropicMergingInCommonSubspace({ scaling_factor: 0.5 }), pool(theta0, fts));
    for (const name of MATRICES) assertClose(isoC.get(name)!, plus(theta0[name]!, isoCRef(taskVectors(theta0, fts, name)), 0.5), `Iso-C ${name}`);
    assertClose(isoC.get('l.0.fc.bias')!, meanOf(theta0, fts, 'l.0.fc.bias').map((v, i) => theta0['l.0.fc.bias']![i]! + 0.5 * v), 'Iso-C bias');

    const f = 0.5;
    const cts = await merged(new IsotropicMergingInCommonAndTaskSubspace({ scaling_factor: 0.5, common_space_fraction: f }), pool(theta0, fts));
    for (const name of MATRICES) {
      const want = isoCtsRef(taskVectors(theta0, fts, name), f);
      assertClose(cts.get(name)!, plus(theta0[name]!, want, 0.5), `Iso-CTS ${name}`);
    }
  });
}

test('Iso-CTS splits min(m, n) as fusion_bench (Python round halves to even)', () => {
  assert.deepEqual(isoCtsSplit(768, 8, 0.8), { common: 616, perTask: 19 });
  assert.deepEqual(isoCtsSplit(768, 20, 0.8), { common: 608, perTask: 8 });
  assert.deepEqual(isoCtsSplit(10, 4, 0.5), { common: 6, perTask: 1 }); // (10 − 5) / 4 = 1.25 → 1·4
  assert.deepEqual(isoCtsSplit(14, 4, 0.3), { common: 6, perTask: 2 }); // (14 − 4) / 4 = 2.5 → 2 (half to even)
  assert.deepEqual(isoCtsSplit(12, 8, 0.5), { common: 4, perTask: 1 }); // 0.75 → 1
  assert.deepEqual(isoCtsSplit(9, 3, 1), { common: 9, perTask: 0 });
});

test('TSV-M, Iso: per-task alpha, exclude_keys, and bad input', async () => {
  const alphas = [0.5, 1, 2];
  const got = await merged(new TaskSingularVectorMerging({ alpha: alphas, exclude_keys: ['l.0.proj.weight'] }), pool(theta0, random));
  const scaled = random.map((f, t) => Object.fromEntries(Object.entries(f).map(([n, a]) => [n, a.map((x, i) => theta0[n]![i]! + Math.fround(Math.fround(x - theta0[n]![i]!) * alphas[t]!))])) as Arrays);
  assertClose(got.get('l.0.fc.weight')!, plus(theta0['l.0.fc.weight']!, tsvRef(taskVectors(theta0, scaled, 'l.0.fc.weight')), 1), 'per-task alpha');
  assertClose(got.get('l.0.proj.weight')!, meanOf(theta0, scaled, 'l.0.proj.weight').map((v, i) => theta0['l.0.proj.weight']![i]! + v), 'excluded matrix: mean');

  const refuses = async (p: Promise<unknown> | (() => unknown), re: RegExp) => {
    if (typeof p === 'function') assert.throws(p, (e: unknown) => isUserError(e) && re.test((e as Error).message));
    else await assert.rejects(p, (e: unknown) => isUserError(e) && re.test((e as Error).message));
  };
  await refuses(new TaskSingularVectorMerging({ alpha: [1, 2] }).run(pool(theta0, random)), /alpha has 2 values for 3 models \(t0, t1, t2\)/);
  await refuses(() => new IsotropicMergingInCommonAndTaskSubspace({ scaling_factor: 1, common_space_fraction: 0 }), /'common_space_fraction' must be a number with 0 < common_space_fraction ≤ 1, got 0/);
  await refuses(() => new IsotropicMergingInCommonAndTaskSubspace({ scaling_factor: 1, common_space_fraction: 1.5 }), /common_space_fraction/);
  await refuses(() => new TaskSingularVectorMerging({ alpha: 'x' }), /'alpha' must be a finite number/);
  const other = { ...random[1]!, 'l.0.fc.weight': new Float64Array(9 * 12) };
  const bad = pool(theta0, [random[0]!, other]);
  (bad.t1 as { stateDict: unknown }).stateDict = model(other, 't1', { ...LAYOUT, 'l.0.fc.weight': [9, 12] }).stateDict;
  await refuses(new IsotropicMergingInCommonSubspace({ scaling_factor: 1 }).run(bad), /tensor 'l.0.fc.weight' has shape \[9, 12\] in model 't1' but \[12, 9\] in '_pretrained_'/);
});

test('TSV-M return_single_task_models: each task’s part (rank ≤ ⌊k/T⌋) and the merged model; the parts sum to the merge', async () => {
  const r = (await new TaskSingularVectorMerging({ alpha: 1, return_single_task_models: true }).run(pool(theta0, random))) as PerTaskModels;
  assert.ok(r instanceof PerTaskModels);
  assert.deepEqual(r.tasks, ['t0', 't1', 't2', 'merged']);
  assert.equal(r.evaluation, 'each-model');
  const plain = await merged(new TaskSingularVectorMerging({ alpha: 1 }), pool(theta0, random));
  for (const name of MATRICES) {
    const [m, n] = LAYOUT[name] as [number, number];
    const rank = Math.trunc(Math.min(m, n) * (1 / 3));
    assertClose(r.model('merged').stateDict.loadF32(name), plain.get(name)!, `merged ${name}`, 1e-7);
    const sum = new Float64Array(m * n);
    for (const task of ['t0', 't1', 't2']) {
      const part = Array.from(r.model(task).stateDict.loadF32(name), (v, i) => v - theta0[name]![i]!);
      part.forEach((v, i) => (sum[i] += v));
      const sv = jacobiSvd(rows(part, m, n)).s;
      assert.ok(sv.slice(rank).every((x) => x <= 1e-5 * sv[0]!), `${task} ${name}: rank ≤ ${rank} (${sv.join(', ')})`);
    }
    assertClose(Array.from(sum, (v, i) => theta0[name]![i]! + v), plain.get(name)!, `Σ parts ${name}`, 1e-5);
  }
  // tensors that are not matrices: every model gets the mean task vector
  assertClose(r.model('t1').stateDict.loadF32('l.0.fc.bias'), plain.get('l.0.fc.bias')!, 'bias', 1e-7);
  r.close();
});

// tall, wide and square: Iso-CTS takes the residuals in the common subspace's complement when m ≤ n
for (const [m, n] of [[80, 70], [70, 80], [72, 72]] as const) test(`TSV-M, Iso-C, Iso-CTS kernels on matrices over several panels of the blocked eigensolver (${m}×${n}, 3 tasks)`, () => {
  const rnd = mulberry32(31);
  // noise plus a shared rank-4 part: overlapping task subspaces, as real task vectors have
  const shared = Array.from({ length: m * 4 }, () => rnd() - 0.5);
  const right = Array.from({ length: 4 * n }, () => rnd() - 0.5);
  const flat = [0, 1, 2].map(() => Float32Array.from({ length: m * n }, (_, x) => {
    const i = Math.trunc(x / n);
    const j = x % n;
    let s = 0;
    for (let p = 0; p < 4; p++) s += shared[i * 4 + p]! * right[p * n + j]!;
    return 0.01 * (rnd() - 0.5 + 0.3 * s);
  }));
  const tvs = flat.map((f) => rows(f, m, n));
  const sum = new Float32Array(m * n);
  for (const f of flat) for (let x = 0; x < sum.length; x++) sum[x] = sum[x]! + f[x]!;
  assertClose(tsvMatrix(flat, m, n), tsvRef(tvs).flat(), 'TSV-M');
  assertClose(isoCMatrix(sum, m, n), isoCRef(tvs).flat(), 'Iso-C');
  assertClose(isoCtsMatrix(flat, m, n, 0.8, 'w'), isoCtsRef(tvs, 0.8).flat(), 'Iso-CTS');
});

/**
 * WUDI merging against a float64 re-computation: the gradient taken the long way (per task,
 * 2·((X − τᵢ)τᵢᵀ)τᵢ / ‖τᵢ‖², as autograd would) and Adam in float64; the loss must fall, and tensors that
 * are not matrices get Σ τᵢ / n.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUserError } from '../../src/errors.js';
import { WUDIMerging } from '../../src/method/index.js';
import { model, randomArrays, type Arrays } from './helpers.js';
import { mul, rows, transpose } from './svd-reference.js';

const LAYOUT: Record<string, number[]> = { 'fc.weight': [6, 4], 'proj.weight': [3, 5], 'fc.bias': [6] };

function loss(x: number[][], tvs: number[][][]): number {
  return tvs.reduce((acc, tv) => {
    const l2 = tv.flat().reduce((s, v) => s + v * v, 0);
    const p = mul(x.map((r, i) => r.map((v, j) => v - tv[i]![j]!)), transpose(tv));
    return acc + p.flat().reduce((s, v) => s + v * v, 0) / l2;
  }, 0);
}

function reference(tvs: number[][][], iters: number): number[][] {
  let x = tvs[0]!.map((r, i) => r.map((_, j) => tvs.reduce((s, t) => s + t[i]![j]!, 0)));
  const m1 = x.map((r) => r.map(() => 0));
  const m2 = x.map((r) => r.map(() => 0));
  for (let step = 1; step <= iters; step++) {
    const grad = x.map((r) => r.map(() => 0));
    for (const tv of tvs) {
      const l2 = tv.flat().reduce((s, v) => s + v * v, 0);
      const p = mul(x.map((r, i) => r.map((v, j) => v - tv[i]![j]!)), transpose(tv));
      const g = mul(p, tv);
      g.forEach((r, i) => r.forEach((v, j) => (grad[i]![j]! += (2 * v) / l2)));
    }
    x = x.map((r, i) => r.map((v, j) => {
      const g = grad[i]![j]!;
      m1[i]![j] = 0.9 * m1[i]![j]! + 0.1 * g;
      m2[i]![j] = 0.999 * m2[i]![j]! + 0.001 * g * g;
      const denom = Math.sqrt(m2[i]![j]!) / Math.sqrt(1 - 0.999 ** step) + 1e-8;
      return v - (1e-5 / (1 - 0.9 ** step)) * (m1[i]![j]! / denom);
    }));
  }
  return x;
}

test('WUDI: Adam on the interference loss, as a float64 re-computation; the loss falls', async () => {
  const theta0 = randomArrays(61, { layout: LAYOUT });
  const fts = [62, 63, 64].map((s) => randomArrays(s, { layout: LAYOUT, around: theta0, scale: 0.01 }));
  const pool: Record<string, unknown> = { _pretrained_: model(theta0, 'base', LAYOUT) };
  fts.forEach((f, i) => (pool[`t${i}`] = model(f, `t${i}`, LAYOUT)));
  const iters = 60;
  const m = await new WUDIMerging({ iter_num: iters }).run(pool);
  for (const name of ['fc.weight', 'proj.weight']) {
    const [r, c] = LAYOUT[name] as [number, number];
    const tvs = fts.map((f: Arrays) => rows(f[name]!.map((x, i) => Math.fround(x - theta0[name]![i]!)), r, c));
    const start = tvs[0]!.map((row, i) => row.map((_, j) => tvs.reduce((s, t) => s + t[i]![j]!, 0)));
    const want = reference(tvs, iters);
    const got = m.stateDict.loadF32(name);
    const x = rows(Array.from(got, (v, i) => v - theta0[name]![i]!), r, c);
    let moved = 0;
    want.flat().forEach((w, i) => {
      const change = w - start.flat()[i]!;
      moved = Math.max(moved, Math.abs(change));
      // the change (~iters·lr) agrees to float32 noise of θ₀ + τ
      assert.ok(Math.abs(x.flat()[i]! - w) <= 2e-7 + 1e-3 * Math.abs(change), `${name}[${i}]: ${x.flat()[i]} vs ${w}`);
    });
    assert.ok(moved > 1e-4, `${name}: Adam moved X (${moved})`);
    assert.ok(loss(want, tvs) < loss(start, tvs), `${name}: the loss falls`);
  }
  const bias = m.stateDict.loadF32('fc.bias');
  bias.forEach((v, i) => assert.ok(Math.abs(v - (theta0['fc.bias']![i]! + fts.reduce((s, f) => s + f['fc.bias']![i]! - theta0['fc.bias']![i]!, 0) / 3)) < 1e-7));
  m.stateDict.close?.();
  assert.throws(() => new WUDIMerging({ iter_num: 2.5 }), (e: unknown) => isUserError(e) && /'iter_num' must be an integer/.test((e as Error).message));
  assert.throws(() => new WUDIMerging({}), (e: unknown) => isUserError(e) && /'iter_num' is required/.test((e as Error).message));
});

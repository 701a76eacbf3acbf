/** EMR merging against a float64 re-computation of Elect, Mask & Rescale (fusion_bench's emr_merge). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUserError } from '../../src/errors.js';
import { EMRMerging, PerTaskModels } from '../../src/method/index.js';
import { model, randomArrays, type Arrays } from './helpers.js';

function reference(theta0: Arrays, fts: Arrays[]): Arrays[] {
  const names = Object.keys(theta0);
  const tv = (f: Arrays, n: string) => Array.from(f[n]!, (x, i) => x - theta0[n]![i]!);
  const unified: Record<string, number[]> = {};
  const scales = fts.map(() => 0);
  const newScales = fts.map(() => 0);
  for (const n of names) {
    const tvs = fts.map((f) => tv(f, n));
    const flag = tvs[0]!.map((_, i) => (tvs.reduce((s, t) => s + t[i]!, 0) > 0 ? 1 : -1));
    unified[n] = flag.map((fl, i) => fl * Math.max(0, ...tvs.map((t) => (t[i]! * fl > 0 ? Math.abs(t[i]!) : 0))));
    tvs.forEach((t, m) => {
      scales[m] += t.reduce((s, x) => s + Math.abs(x), 0) / t.length;
      newScales[m] += unified[n]!.reduce((s, u, i) => s + (t[i]! * flag[i]! > 0 ? Math.abs(u) : 0), 0) / t.length;
    });
  }
  return fts.map((f, m) => Object.fromEntries(names.map((n) => {
    const t = tv(f, n);
    const r = scales[m]! / newScales[m]!;
    return [n, theta0[n]!.map((x, i) => x + (t[i]! * Math.sign(unified[n]![i]! || -1) > 0 ? unified[n]![i]! * r : 0))];
  })) as Arrays);
}

test('EMR: θ₀ + τ_uni ⊙ maskₜ · rescalerₜ, each task evaluated with its own model', async () => {
  const theta0 = randomArrays(81, { grid: true });
  const fts = [82, 83, 84].map((s) => randomArrays(s, { grid: true, around: theta0, scale: 0.25 }));
  const r = await new EMRMerging({}).run({ _pretrained_: model(theta0), a: model(fts[0]!), b: model(fts[1]!), c: model(fts[2]!) });
  assert.ok(r instanceof PerTaskModels);
  assert.equal(r.evaluation, 'own-task');
  const want = reference(theta0, fts);
  ['a', 'b', 'c'].forEach((task, t) => {
    const sd = r.model(task).stateDict;
    for (const n of Object.keys(theta0)) {
      const got = sd.loadF32(n);
      want[t]![n]!.forEach((w, i) => assert.ok(Math.abs(got[i]! - w) <= 1e-6 * Math.max(1, Math.abs(w)), `${task} ${n}[${i}]: ${got[i]} vs ${w}`));
    }
  });
  r.close();
  assert.throws(() => new EMRMerging({ scaling_factor: 1 }), (e: unknown) => isUserError(e) && /EMRMerging takes no options/.test((e as Error).message));
  // a fine-tuned model equal to θ₀ has no rescaler
  await assert.rejects(new EMRMerging({}).run({ _pretrained_: model(theta0), a: model(fts[0]!), same: model(theta0) }), (e: unknown) => isUserError(e) && /model 'same' has no entry agreeing/.test((e as Error).message));
});

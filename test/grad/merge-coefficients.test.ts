/**
 * AdaMerging's coefficient gradients (MergeCoefficients over ClipVisionGradSession's weight gradients)
 * against finite differences of the entropy loss of the merged tower, task-wise and layer-wise, with
 * coefficients inside and outside the clamp range; and the merge itself against float64.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clipVisionConfigFrom } from '../../src/models/clip/config.js';
import { l2NormalizeRows } from '../../src/models/clip/head.js';
import { randomClipStateDict } from '../../src/models/clip/random-weights.js';
import { ClipVisionGradSession } from '../../src/grad/clip-vision-grad.js';
import { type CoefficientMode, MergeCoefficients } from '../../src/grad/merge-coefficients.js';
import { mulberry32 } from '../../src/util/prng.js';
import { assertClose } from '../clip-model/close.js';

const cfg = clipVisionConfigFrom({
  model_type: 'clip_vision_model', hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 2,
  image_size: 16, patch_size: 4, hidden_act: 'quick_gelu', projection_dim: 8,
});

function uniform(n: number, next: () => number, a: number): Float32Array {
  return Float32Array.from({ length: n }, () => (next() * 2 - 1) * a);
}

async function setup() {
  const sd = randomClipStateDict({ vision: cfg, projectionDim: 8 }, 8);
  const next = mulberry32(21);
  const batch = 4;
  const head = l2NormalizeRows(uniform(5 * 8, next, 1), 8);
  const session = await ClipVisionGradSession.create(cfg, sd, {
    loss: 'entropy', batch, projection: sd.loadF32('visual_projection.weight'), classes: 5, logitScale: sd.loadF32('logit_scale')[0]!, threads: 1,
  });
  const keys = [...session.keys.keys()];
  const base = new Map(keys.map((k) => [k, sd.loadF32(k)]));
  // Task vectors: noise of 30% of each tensor's RMS (at least 0.02).
  const tvs = [0, 1, 2].map(() => new Map(keys.map((k) => {
    const b = base.get(k)!;
    const rms = Math.max(0.02, Math.sqrt(b.reduce((s, x) => s + x * x, 0) / b.length));
    return [k, uniform(b.length, next, 0.3 * rms)];
  })));
  const pixels = uniform(batch * 3 * 16 * 16, next, 2);
  return { session, keys, base, tvs, pixels, head };
}

for (const mode of ['task_wise', 'layer_wise'] as CoefficientMode[]) {
  test(`${mode} AdaMerging coefficient gradients = finite differences of the merged tower's entropy (clamped to [0, 1])`, async () => {
    const { session, keys, base, tvs, pixels, head } = await setup();
    try {
      const mc = new MergeCoefficients(mode, keys, base, tvs, true);
      assert.deepEqual(mc.shape, mode === 'task_wise' ? [3] : [3, keys.length]);
      const w = mc.initial(0.3);
      const next = mulberry32(5);
      for (let j = 0; j < w.length; j++) w[j] = Math.fround(0.1 + 0.8 * next());
      // Two coefficients outside the clamp range: no gradient, merged as 0 and 1.
      w[1] = -0.25;
      w[w.length - 1] = 1.4;
      const lossAt = async (c: Float32Array) => (await session.run((k) => mc.merge(c).get(k)!, pixels, head)).loss;
      const r = await session.run((k) => mc.merge(w).get(k)!, pixels, head);
      const g = mc.gradient(w, r.grads);
      assert.equal(g[1], 0);
      assert.equal(g[g.length - 1], 0);
      // float32 loss: h = 1e-2 on coefficients of order 0.5; tolerance as in tower.test.ts.
      const h = 1e-2;
      let nonzero = 0;
      for (let j = 0; j < w.length; j++) {
        const up = Float32Array.from(w);
        const down = Float32Array.from(w);
        up[j] = w[j]! + h;
        down[j] = w[j]! - h;
        const fd = ((await lossAt(up)) - (await lossAt(down))) / (2 * h);
        assert.ok(Math.abs(fd - g[j]!) <= 2e-3 * (Math.abs(g[j]!) + Math.abs(r.loss)) + 2e-5, `coefficient ${j}: analytic ${g[j]}, finite differences ${fd}`);
        if (Math.abs(g[j]!) > 1e-4) nonzero++;
      }
      assert.ok(nonzero >= (w.length - 2) / 2, `only ${nonzero} of ${w.length - 2} coefficients in range have a gradient`);
    } finally {
      await session.dispose();
    }
  });
}

test('the merge is θ₀ + Σ clamp(λ)·τ (float64 reference) and keeps the inputs unchanged', async () => {
  const { session, keys, base, tvs } = await setup();
  await session.dispose();
  const before = keys.map((k) => base.get(k)!.slice());
  const mc = new MergeCoefficients('layer_wise', keys, base, tvs, true);
  const w = mc.initial();
  w[0] = 2;
  w[keys.length + 3] = -1;
  const merged = mc.merge(w);
  keys.forEach((k, l) => {
    const ref = Array.from(base.get(k)!, (b, e) => b + tvs.reduce((s, tv, i) => s + Math.min(1, Math.max(0, w[i * keys.length + l]!)) * tv.get(k)![e]!, 0));
    assertClose(merged.get(k)!, ref, k, 1e-6, 1e-7);
  });
  keys.forEach((k, i) => assert.deepEqual(base.get(k), before[i]));
  assert.throws(() => mc.merge(new Float32Array(3)), /expected \[3, /);
});

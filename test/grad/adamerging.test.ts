/**
 * The AdaMerging loop on a random tiny tower with two tasks (heads of 3 and 5 classes): its first Adam
 * step moves every coefficient against the task-summed gradient computed independently, steps lower the
 * summed entropy, and a NaN loss stops the run naming the step and the last finite loss.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/errors.js';
import { clipVisionConfigFrom } from '../../src/models/clip/config.js';
import { l2NormalizeRows } from '../../src/models/clip/head.js';
import { randomClipStateDict } from '../../src/models/clip/random-weights.js';
import { adaMerging, type AdaMergingTask } from '../../src/grad/adamerging.js';
import { ClipVisionGradSession } from '../../src/grad/clip-vision-grad.js';
import { type CoefficientMode, MergeCoefficients } from '../../src/grad/merge-coefficients.js';
import { mulberry32 } from '../../src/util/prng.js';

const cfg = clipVisionConfigFrom({
  model_type: 'clip_vision_model', hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 2,
  image_size: 16, patch_size: 4, hidden_act: 'quick_gelu', projection_dim: 8,
});

function uniform(n: number, next: () => number, a: number): Float32Array {
  return Float32Array.from({ length: n }, () => (next() * 2 - 1) * a);
}

async function setup(mode: CoefficientMode) {
  const sd = randomClipStateDict({ vision: cfg, projectionDim: 8 }, 12);
  const next = mulberry32(31);
  const batch = 6;
  const session = await ClipVisionGradSession.create(cfg, sd, { loss: 'entropy', batch, projection: sd.loadF32('visual_projection.weight'), classes: 5, logitScale: Math.log(100), threads: 1 });
  const keys = [...session.keys.keys()];
  const base = new Map(keys.map((k) => [k, sd.loadF32(k)]));
  const tvs = [0, 1].map(() => new Map(keys.map((k) => {
    const b = base.get(k)!;
    const rms = Math.max(0.02, Math.sqrt(b.reduce((s, x) => s + x * x, 0) / b.length));
    return [k, uniform(b.length, next, 0.5 * rms)];
  })));
  const tasks: AdaMergingTask[] = [3, 5].map((classes, t) => {
    const pixels = uniform(batch * 3 * 16 * 16, next, 2);
    return { name: `task${t}`, head: l2NormalizeRows(uniform(classes * 8, next, 1), 8), nextBatch: async () => pixels };
  });
  return { session, coeffs: new MergeCoefficients(mode, keys, base, tvs, true), tasks };
}

for (const mode of ['task_wise', 'layer_wise'] as CoefficientMode[]) {
  test(`${mode} AdaMerging: the first step follows the task-summed gradient, later steps lower the summed entropy`, async () => {
    const { session, coeffs, tasks } = await setup(mode);
    try {
      const init = coeffs.initial(0.3);
      const merged = coeffs.merge(init);
      const sum = new Float64Array(init.length);
      for (const t of tasks) {
        const r = await session.run((k) => merged.get(k)!, await t.nextBatch(), t.head);
        coeffs.gradient(init, r.grads).forEach((g, j) => (sum[j] += g));
      }
      const one = await adaMerging(session, coeffs, tasks, { lr: 1e-3, maxSteps: 1, init });
      assert.deepEqual(Array.from(init), Array.from(coeffs.initial(0.3)), 'init is not modified');
      for (let j = 0; j < init.length; j++) {
        // Adam's first step is lr · g / (|g| + eps): −lr · sign(g) wherever |g| ≫ eps.
        if (Math.abs(sum[j]!) > 1e-6) assert.ok(Math.abs(one.weights[j]! - (init[j]! - 1e-3 * Math.sign(sum[j]!))) < 1e-5, `coefficient ${j}: ${one.weights[j]} after one step, gradient ${sum[j]}`);
      }
      const seen: number[] = [];
      const run = await adaMerging(session, coeffs, tasks, { lr: 5e-2, maxSteps: 12, init, onStep: (p) => seen.push(p.step) });
      assert.deepEqual(seen, Array.from({ length: 12 }, (_, i) => i + 1));
      const total = (l: number[]) => l.reduce((a, b) => a + b, 0);
      const final = coeffs.merge(run.weights);
      let after = 0;
      for (const t of tasks) after += (await session.run((k) => final.get(k)!, await t.nextBatch(), t.head)).loss;
      assert.ok(after < total(run.losses[0]!) - 1e-3, `summed entropy ${total(run.losses[0]!)} → ${after}`);
    } finally {
      await session.dispose();
    }
  });
}

test('AdaMerging stops at a non-finite loss naming the step and the last finite loss; bad lr and max_steps are UserErrors', async () => {
  const { session, coeffs, tasks } = await setup('task_wise');
  try {
    let calls = 0;
    const nan = new Float32Array(6 * 3 * 16 * 16).fill(NaN);
    const bad: AdaMergingTask[] = [tasks[0]!, { ...tasks[1]!, nextBatch: async () => (++calls >= 2 ? nan : tasks[1]!.nextBatch()) }];
    await assert.rejects(adaMerging(session, coeffs, bad, { lr: 1e-3, maxSteps: 5, init: coeffs.initial() }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /task1 is NaN at step 2; the last finite loss was \d/);
      return true;
    });
    await assert.rejects(adaMerging(session, coeffs, tasks, { lr: 0, maxSteps: 5, init: coeffs.initial() }), /lr must be positive/);
    await assert.rejects(adaMerging(session, coeffs, tasks, { lr: 1e-3, maxSteps: 0, init: coeffs.initial() }), /max_steps must be an integer ≥ 1/);
  } finally {
    await session.dispose();
  }
});

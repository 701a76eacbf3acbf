/**
 * The engine end to end: Adam on the gradients of ClipVisionGradSession lowers the loss of a random tiny
 * tower on a fixed batch (cross-entropy), and entropy minimisation lowers the entropy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clipVisionConfigFrom } from '../../src/models/clip/config.js';
import { l2NormalizeRows } from '../../src/models/clip/head.js';
import { randomClipStateDict } from '../../src/models/clip/random-weights.js';
import { ClipVisionGradSession, type VisionLoss } from '../../src/grad/clip-vision-grad.js';
import { Adam, CosineAnnealingLR } from '../../src/grad/optim.js';
import { mulberry32 } from '../../src/util/prng.js';

const cfg = clipVisionConfigFrom({
  model_type: 'clip_vision_model', hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 2,
  image_size: 16, patch_size: 4, hidden_act: 'quick_gelu', projection_dim: 8,
});

function uniform(n: number, seed: number, a: number): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (next() * 2 - 1) * a);
}

for (const loss of ['cross_entropy', 'entropy'] as VisionLoss[]) {
  test(`20 Adam steps with a cosine schedule lower the ${loss} loss of a random tiny tower`, async () => {
    const sd = randomClipStateDict({ vision: cfg, projectionDim: 8 }, 4);
    const batch = 8;
    const s = await ClipVisionGradSession.create(cfg, sd, {
      loss, batch, projection: sd.loadF32('visual_projection.weight'), classes: 5,
      logitScale: sd.loadF32('logit_scale')[0]!, threads: 1,
    });
    try {
      const head = l2NormalizeRows(uniform(5 * 8, 2, 1), 8);
      const params = new Map([...s.keys.keys()].map((k) => [k, sd.loadF32(k)]));
      const pixels = uniform(batch * 3 * 16 * 16, 6, 2);
      const labels = [0, 1, 2, 3, 4, 0, 1, 2];
      const opt = new Adam({ lr: 1e-2 });
      const sched = new CosineAnnealingLR(1e-2, 20);
      const losses: number[] = [];
      for (let t = 0; t < 20; t++) {
        const r = await s.run((k) => params.get(k)!, pixels, head, labels);
        losses.push(r.loss);
        opt.lr = sched.lr;
        opt.step(params, r.grads);
        sched.step();
      }
      const last = (await s.run((k) => params.get(k)!, pixels, head, labels)).loss;
      assert.ok(Number.isFinite(last) && last < 0.5 * losses[0]!, `loss went from ${losses[0]} to ${last} (${losses.map((l) => l.toFixed(3)).join(' ')})`);
    } finally {
      await s.dispose();
    }
  });
}

/**
 * Whole-tower gradients (ClipVisionGradSession) against central finite differences of the same session's
 * loss, tensor by tensor along random directions, on seeded random towers (no ../shared needed) and on
 * the tiny CLIP fixtures; and the session's loss against the inference tower + the host-side head.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ClipActivation, type ClipVisionConfig, clipVisionConfigFrom, readClipConfig } from '../../src/models/clip/config.js';
import { clipLogits, l2NormalizeRows } from '../../src/models/clip/head.js';
import { randomClipStateDict } from '../../src/models/clip/random-weights.js';
import { ClipVisionSession } from '../../src/models/clip/session.js';
import { ClipVisionGradSession, type VisionLoss } from '../../src/grad/clip-vision-grad.js';
import { openCheckpoint } from '../../src/tensor/checkpoint.js';
import type { StateDict } from '../../src/tensor/types.js';
import { mulberry32 } from '../../src/util/prng.js';
import { needsShared, sharedPath } from '../helpers/paths.js';
import { assertClose } from '../clip-model/close.js';

const tinyCfg = (act: ClipActivation) => clipVisionConfigFrom({
  model_type: 'clip_vision_model', hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 2,
  image_size: 16, patch_size: 4, hidden_act: act, projection_dim: 8,
});

function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * next());
}

function weightsOf(sd: StateDict, keys: Iterable<string>): Map<string, Float32Array> {
  return new Map([...keys].map((k) => [k, sd.loadF32(k)]));
}

/**
 * Host-side loss from logits [batch, classes], in float64 (the reference for the session's loss output).
 * For 'fisher', `frozen` holds √p of the unperturbed logits: the gradient the session computes treats it
 * as a constant (`.detach()`), so finite differences must too.
 */
function hostLoss(loss: VisionLoss, logits: Float32Array, classes: number, labels: number[], frozen?: number[]): number {
  let total = 0;
  const rows = logits.length / classes;
  for (let r = 0; r < rows; r++) {
    const row = Array.from(logits.subarray(r * classes, (r + 1) * classes));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    if (loss === 'entropy') total -= row.reduce((s, v) => s + Math.exp(v - lse) * Math.log(Math.exp(v - lse) + 1e-8), 0);
    else if (loss === 'fisher') total += row.reduce((s, v, c) => s + (frozen ? frozen[r * classes + c]! : Math.sqrt(Math.exp(v - lse))) * (v - lse), 0);
    else total += row[labels[r]!]! - lse;
  }
  return loss === 'entropy' ? total / rows : loss === 'cross_entropy' ? -total / rows : total;
}

function sqrtSoftmax(logits: Float32Array, classes: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < logits.length / classes; r++) {
    const row = Array.from(logits.subarray(r * classes, (r + 1) * classes));
    const m = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
    for (const v of row) out.push(Math.sqrt(Math.exp(v - m) / z));
  }
  return out;
}

interface TowerCase {
  readonly cfg: ClipVisionConfig;
  readonly sd: StateDict;
  readonly projection: Float32Array;
  readonly logitScale: number;
  readonly what: string;
}

/** Padding the head to more classes (the session's size) changes neither the loss nor any gradient. */
async function checkTower(c: TowerCase, loss: VisionLoss, padTo = 4): Promise<void> {
  const batch = 3;
  const classes = 4;
  const dim = c.projection.length / c.cfg.hiddenSize;
  const textEmbeds = l2NormalizeRows(uniform(classes * dim, 7), dim);
  const labels = [2, 0, 3];
  const pixels = uniform(batch * 3 * c.cfg.imageSize * c.cfg.imageSize, 5, -2, 2);
  const s = await ClipVisionGradSession.create(c.cfg, c.sd, { loss, batch, projection: c.projection, classes: padTo, logitScale: c.logitScale, threads: 1 });
  const ref = await ClipVisionSession.create(c.cfg, c.sd, { projection: c.projection, attention: 'fused', threads: 1 });
  try {
    const w = weightsOf(c.sd, s.keys.keys());
    const base = await s.run((k) => w.get(k)!, pixels, textEmbeds, labels);
    assert.equal(s.trainable.length, s.keys.size);

    // The forward half: the same logits and loss as inference + the host-side head.
    const embeds = (await ref.run(pixels, batch)).embeds!;
    const logits = clipLogits(l2NormalizeRows(embeds, dim), textEmbeds, dim, c.logitScale);
    assertClose(base.logits, logits, `${c.what} logits`, 1e-4, 1e-4);
    assertClose([base.loss], [hostLoss(loss, logits, classes, labels)], `${c.what} ${loss}`, 1e-4, 1e-5);

    // The backward half, against the host-side loss of the perturbed logits (√p frozen for 'fisher'):
    // every tensor's gradient along a random direction v (entries up to the tensor's
    // RMS, at least 0.02) vs (L(θ + h·v) − L(θ − h·v)) / 2h. float32 (Conv and Erf have no double
    // kernels): h = 1e-2 is a 1% change of the tensor, small enough for the O(h²) term and large enough
    // that the loss's rounding (~1e-7) stays far below the difference; tolerance 2e-3 relative to the
    // directional derivative's scale.
    const h = 1e-2;
    const frozen = sqrtSoftmax(base.logits, classes);
    const objective = async (k: string, sign: number, shifted: (s: number) => Float32Array) =>
      hostLoss(loss, (await s.run((q) => (q === k ? shifted(sign) : w.get(q)!), pixels, textEmbeds, labels)).logits, classes, labels, frozen);
    let seed = 100;
    for (const [k, value] of w) {
      const g = base.grads.get(k)!;
      const rms = Math.max(0.02, Math.sqrt(value.reduce((a, x) => a + x * x, 0) / value.length));
      const v = uniform(value.length, seed++, -rms, rms);
      let analytic = 0;
      let scale = 0;
      for (let i = 0; i < v.length; i++) {
        analytic += g[i]! * v[i]!;
        scale += Math.abs(g[i]! * v[i]!);
      }
      const shifted = (sign: number) => Float32Array.from(value, (x, i) => x + sign * h * v[i]!);
      const up = await objective(k, 1, shifted);
      const down = await objective(k, -1, shifted);
      const fd = (up - down) / (2 * h);
      const err = Math.abs(fd - analytic);
      assert.ok(err <= 2e-3 * (scale + Math.abs(base.loss)) + 1e-5, `${c.what} ${loss}: d/d ${k} along a random direction: analytic ${analytic}, finite differences ${fd}`);
    }
  } finally {
    await s.dispose();
    await ref.dispose();
  }
}

for (const act of ['quick_gelu', 'gelu'] as ClipActivation[]) {
  for (const loss of ['cross_entropy', 'entropy', 'log_likelihood', 'fisher'] as VisionLoss[]) {
    test(`random tiny tower (${act}): ${loss} gradients of every tensor = finite differences`, async () => {
      const cfg = tinyCfg(act);
      const sd = randomClipStateDict({ vision: cfg, projectionDim: 8 }, 3);
      await checkTower({ cfg, sd, projection: sd.loadF32('visual_projection.weight'), logitScale: sd.loadF32('logit_scale')[0]!, what: `random ${act}` }, loss);
    });
  }
}

test('a head padded to more classes gives the same loss, logits and gradients (entropy and cross-entropy)', async () => {
  const cfg = tinyCfg('quick_gelu');
  const sd = randomClipStateDict({ vision: cfg, projectionDim: 8 }, 3);
  const head = l2NormalizeRows(uniform(4 * 8, 7), 8);
  const pixels = uniform(3 * 3 * 16 * 16, 5, -2, 2);
  for (const loss of ['entropy', 'cross_entropy'] as VisionLoss[]) {
    const results = [];
    for (const classes of [4, 9]) {
      const s = await ClipVisionGradSession.create(cfg, sd, { loss, batch: 3, projection: sd.loadF32('visual_projection.weight'), classes, logitScale: Math.log(100), threads: 1 });
      try {
        results.push(await s.run((k) => sd.loadF32(k), pixels, head, [3, 1, 0]));
      } finally {
        await s.dispose();
      }
    }
    const [a, b] = results as [Awaited<ReturnType<ClipVisionGradSession['run']>>, Awaited<ReturnType<ClipVisionGradSession['run']>>];
    assert.equal(b.logits.length, 3 * 4);
    assertClose(b.logits, a.logits, `${loss} logits`, 1e-6, 1e-6);
    assertClose([b.loss], [a.loss], `${loss} loss`, 1e-6, 1e-7);
    for (const [k, g] of a.grads) assertClose(b.grads.get(k)!, g, `${loss} d/d ${k}`, 1e-5, 1e-7);
  }
});

test('a partial batch (rows padded with weight 0) gives the loss and gradients of a session of its own size', async () => {
  const cfg = tinyCfg('gelu');
  const sd = randomClipStateDict({ vision: cfg, projectionDim: 8 }, 5);
  const head = l2NormalizeRows(uniform(4 * 8, 9), 8);
  const pixels = uniform(2 * 3 * 16 * 16, 6, -2, 2);
  for (const loss of ['entropy', 'cross_entropy', 'log_likelihood'] as VisionLoss[]) {
    const results = [];
    for (const batch of [2, 5]) {
      const s = await ClipVisionGradSession.create(cfg, sd, { loss, batch, projection: sd.loadF32('visual_projection.weight'), classes: 4, logitScale: Math.log(100), threads: 1 });
      try {
        results.push(await s.run((k) => sd.loadF32(k), pixels, head, [1, 3]));
      } finally {
        await s.dispose();
      }
    }
    const [a, b] = results as [Awaited<ReturnType<ClipVisionGradSession['run']>>, Awaited<ReturnType<ClipVisionGradSession['run']>>];
    assertClose(b.logits, a.logits, `${loss} logits`, 1e-6, 1e-6);
    assertClose([b.loss], [a.loss], `${loss} loss`, 1e-6, 1e-7);
    for (const [k, g] of a.grads) assertClose(b.grads.get(k)!, g, `${loss} d/d ${k}`, 1e-5, 1e-7);
  }
});

test('tiny-clip fixture (ft-a tower, tiny-clip head): cross-entropy gradients of every tensor = finite differences', needsShared(), async () => {
  const models = sharedPath('fixtures', 'clip', 'models');
  const clip = openCheckpoint(join(models, 'tiny-clip'));
  const cfg = readClipConfig(JSON.parse(readFileSync(join(models, 'tiny-clip', 'config.json'), 'utf8'))).vision!;
  const ft = openCheckpoint(join(models, 'tiny-clip-ft-a'));
  try {
    await checkTower({ cfg, sd: ft, projection: clip.loadF32('visual_projection.weight'), logitScale: clip.loadF32('logit_scale')[0]!, what: 'tiny-clip-ft-a' }, 'cross_entropy');
  } finally {
    clip.close();
    ft.close();
  }
});

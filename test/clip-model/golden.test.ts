/**
 * The ONNX CLIP towers against the reference outputs of transformers 4.45 (eager, float32) for the tiny
 * fixture checkpoints in ../shared/fixtures/clip, with both attention implementations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsShared, sharedPath } from '../helpers/paths.js';
import { readNpy } from '../helpers/npy.js';
import { openSafetensors } from '../../src/tensor/safetensors-read.js';
import { clipVisionConfigFrom, readClipConfig } from '../../src/models/clip/config.js';
import { ClipTextSession, ClipVisionSession } from '../../src/models/clip/session.js';
import { clipLogits, l2NormalizeRows } from '../../src/models/clip/head.js';
import type { AttentionImpl } from '../../src/models/clip/encoder-graph.js';
import { assertClose, maxAbsDiff } from './close.js';

const fixtures = () => sharedPath('fixtures', 'clip');
const model = (name: string) => join(fixtures(), 'models', name);
const golden = (dir: string, name: string) => readNpy(join(fixtures(), 'golden', dir, `${name}.npy`)).data;
const f32 = (dir: string, name: string) => golden(dir, name) as Float32Array;
const i64 = (dir: string, name: string) => golden(dir, name) as BigInt64Array;
const configOf = (dir: string) => readClipConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), join(dir, 'config.json'));

const IMPLS: AttentionImpl[] = ['fused', 'plain'];

for (const attention of IMPLS) {
  test(`tiny-clip vision tower matches transformers (${attention} attention)`, needsShared(), async () => {
    const dir = model('tiny-clip');
    const sd = openSafetensors(join(dir, 'model.safetensors'));
    const cfg = configOf(dir);
    const s = await ClipVisionSession.create(cfg.vision!, sd, { projection: sd.loadF32('visual_projection.weight'), attention, lastHiddenState: true });
    try {
      const out = await s.run(f32('tiny-clip', 'pixel_values'), 3);
      assertClose(out.lastHiddenState, f32('tiny-clip', 'vision_last_hidden_state'), 'vision_last_hidden_state');
      assertClose(out.pooled, f32('tiny-clip', 'vision_pooled'), 'vision_pooled');
      assertClose(out.embeds, f32('tiny-clip', 'image_embeds_unnorm'), 'image_embeds_unnorm');
      assertClose(l2NormalizeRows(out.embeds!, 16), f32('tiny-clip', 'image_embeds'), 'image_embeds');
    } finally {
      await s.dispose();
      sd.close();
    }
  });

  test(`tiny-clip text tower matches transformers, with and without attention_mask (${attention} attention)`, needsShared(), async () => {
    const dir = model('tiny-clip');
    const sd = openSafetensors(join(dir, 'model.safetensors'));
    const cfg = configOf(dir);
    assert.equal(cfg.text!.eosTokenId, 2, 'tiny-clip uses the legacy argmax pooling');
    const s = await ClipTextSession.create(cfg.text!, sd, { projection: sd.loadF32('text_projection.weight'), attention, lastHiddenState: true });
    try {
      const ids = i64('inputs', 'tiny_input_ids');
      const mask = i64('inputs', 'tiny_attention_mask');
      const plain = await s.run(ids, 4);
      assertClose(plain.lastHiddenState, f32('tiny-clip', 'text_last_hidden_state'), 'text_last_hidden_state');
      assertClose(plain.pooled, f32('tiny-clip', 'text_pooled'), 'text_pooled');
      assertClose(plain.embeds, f32('tiny-clip', 'text_embeds_unnorm'), 'text_embeds_unnorm');
      assertClose(l2NormalizeRows(plain.embeds!, 16), f32('tiny-clip', 'text_embeds'), 'text_embeds');

      const masked = await s.run(ids, 4, mask);
      const withMask = f32('tiny-clip', 'text_last_hidden_state_with_mask');
      assertClose(masked.lastHiddenState, withMask, 'text_last_hidden_state_with_mask');
      // The golden pair differs at pad positions, so this also shows the mask took effect.
      assert.ok(maxAbsDiff(withMask, f32('tiny-clip', 'text_last_hidden_state')) > 1e-3);
      assertClose(masked.pooled, f32('tiny-clip', 'text_pooled'), 'text_pooled with mask');
      assertClose(masked.embeds, f32('tiny-clip', 'text_embeds_unnorm'), 'text_embeds_unnorm with mask');

      // The len16 goldens were computed without attention_mask (the pooled outputs do not depend on it).
      const short = await s.run(i64('inputs', 'tiny_input_ids_len16'), 2);
      assertClose(short.lastHiddenState, f32('tiny-clip', 'text_last_hidden_state_len16'), 'text_last_hidden_state_len16');
      assertClose(short.pooled, f32('tiny-clip', 'text_pooled_len16'), 'text_pooled_len16');
      assertClose(short.embeds, f32('tiny-clip', 'text_embeds_unnorm_len16'), 'text_embeds_unnorm_len16');
      assertClose(l2NormalizeRows(short.embeds!, 16), f32('tiny-clip', 'text_embeds_len16'), 'text_embeds_len16');
      const shortMasked = await s.run(i64('inputs', 'tiny_input_ids_len16'), 2, i64('inputs', 'tiny_attention_mask_len16'));
      assertClose(shortMasked.pooled, f32('tiny-clip', 'text_pooled_len16'), 'text_pooled_len16 with mask');
    } finally {
      await s.dispose();
      sd.close();
    }
  });
}

test('tiny-clip logits from both towers match logits_per_image and logits_per_text', needsShared(), async () => {
  const dir = model('tiny-clip');
  const sd = openSafetensors(join(dir, 'model.safetensors'));
  const cfg = configOf(dir);
  const vs = await ClipVisionSession.create(cfg.vision!, sd, { projection: sd.loadF32('visual_projection.weight') });
  const ts = await ClipTextSession.create(cfg.text!, sd, { projection: sd.loadF32('text_projection.weight') });
  try {
    const img = l2NormalizeRows((await vs.run(f32('tiny-clip', 'pixel_values'), 3)).embeds!, cfg.projectionDim);
    const txt = l2NormalizeRows((await ts.run(i64('inputs', 'tiny_input_ids'), 4)).embeds!, cfg.projectionDim);
    const scale = sd.loadF32('logit_scale')[0]!;
    assertClose([scale], f32('tiny-clip', 'logit_scale'), 'logit_scale', 0, 0);
    assertClose(clipLogits(img, txt, cfg.projectionDim, scale), f32('tiny-clip', 'logits_per_image'), 'logits_per_image', 0, 2e-3);
    assertClose(clipLogits(txt, img, cfg.projectionDim, scale), f32('tiny-clip', 'logits_per_text'), 'logits_per_text', 0, 2e-3);
  } finally {
    await vs.dispose();
    await ts.dispose();
    sd.close();
  }
});

test('a checkpoint with int64 position_ids buffers (legacy keys) gives the same outputs', needsShared(), async () => {
  const dir = model('tiny-clip-legacy-keys');
  const sd = openSafetensors(join(dir, 'model.safetensors'));
  assert.ok(sd.has('vision_model.embeddings.position_ids') && sd.has('text_model.embeddings.position_ids'));
  const cfg = configOf(dir);
  const vs = await ClipVisionSession.create(cfg.vision!, sd, { projection: sd.loadF32('visual_projection.weight') });
  const ts = await ClipTextSession.create(cfg.text!, sd, { projection: sd.loadF32('text_projection.weight') });
  try {
    const v = await vs.run(f32('tiny-clip', 'pixel_values'), 3);
    assertClose(v.pooled, f32('tiny-clip', 'vision_pooled'), 'vision_pooled');
    assertClose(v.embeds, f32('tiny-clip', 'image_embeds_unnorm'), 'image_embeds_unnorm');
    const t = await ts.run(i64('inputs', 'tiny_input_ids'), 4, i64('inputs', 'tiny_attention_mask'));
    assertClose(t.pooled, f32('tiny-clip', 'text_pooled'), 'text_pooled');
    assertClose(t.embeds, f32('tiny-clip', 'text_embeds_unnorm'), 'text_embeds_unnorm');
  } finally {
    await vs.dispose();
    await ts.dispose();
    sd.close();
  }
});

test('tiny-clip-bpe (vocab_size absent → 49408) embeds the real-BPE MNIST prompts as transformers does', needsShared(), async () => {
  const dir = model('tiny-clip-bpe');
  const cfg = configOf(dir);
  assert.equal(cfg.text!.vocabSize, 49408);
  const sd = openSafetensors(join(dir, 'model.safetensors'));
  const ts = await ClipTextSession.create(cfg.text!, sd, { projection: sd.loadF32('text_projection.weight') });
  try {
    const z = 'zeroshot-mnist-tiny-clip-bpe';
    const out = await ts.run(i64(z, 'prompt_input_ids'), 10, i64(z, 'prompt_attention_mask'));
    assertClose(out.pooled, f32(z, 'prompt_text_pooled'), 'prompt_text_pooled');
    assertClose(l2NormalizeRows(out.embeds!, cfg.projectionDim), f32(z, 'prompt_text_embeds'), 'prompt_text_embeds');
  } finally {
    await ts.dispose();
    sd.close();
  }
});

test('fine-tuned and merged CLIPVisionModel towers, projected with the pretrained visual_projection', needsShared(), async () => {
  const z = 'zeroshot-mnist-tiny-clip-bpe';
  const pre = openSafetensors(join(model('tiny-clip'), 'model.safetensors'));
  const projection = pre.loadF32('visual_projection.weight');
  pre.close();
  const dirs: Record<string, string> = {
    'ft-a': model('tiny-clip-ft-a'),
    'ft-b': model('tiny-clip-ft-b'),
    merged: join(fixtures(), 'golden', 'tiny-clip-merged-ta0.5'),
  };
  for (const [name, dir] of Object.entries(dirs)) {
    const cfg = clipVisionConfigFrom(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
    const sd = openSafetensors(join(dir, 'model.safetensors'));
    const s = await ClipVisionSession.create(cfg, sd, { projection });
    try {
      const out = await s.run(f32('tiny-clip', 'pixel_values'), 3);
      assertClose(out.pooled, f32(z, `vision_pooled_${name}`), `vision_pooled_${name}`);
      const embeds = l2NormalizeRows(out.embeds!, 16);
      assertClose(embeds, f32(z, `image_embeds_${name}`), `image_embeds_${name}`);
      const logits = clipLogits(embeds, f32(z, 'zeroshot_weights'), 16, f32(z, 'logit_scale')[0]!);
      assertClose(logits, f32(z, `zeroshot_logits_${name}`), `zeroshot_logits_${name}`, 0, 2e-3);
    } finally {
      await s.dispose();
      sd.close();
    }
  }
});

// The comparisons above are only as strong as the goldens: all-zero or constant arrays (a broken export)
// would let a tower that outputs zeros pass.
test('the goldens are real outputs: finite, varied, and the towers\' outputs differ', needsShared(), () => {
  const spread = (a: Float32Array) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of a) {
      assert.ok(Number.isFinite(v));
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    return hi - lo;
  };
  for (const name of ['vision_last_hidden_state', 'vision_pooled', 'image_embeds', 'text_last_hidden_state', 'text_pooled', 'text_embeds', 'logits_per_image']) {
    const g = f32('tiny-clip', name);
    assert.ok(g.length > 0 && spread(g) > 1e-3, `${name}: ${g.length} values, spread ${spread(g)}`);
  }
  assert.ok(maxAbsDiff(f32('tiny-clip', 'image_embeds'), f32('tiny-clip', 'text_embeds').subarray(0, f32('tiny-clip', 'image_embeds').length)) > 1e-3);
});

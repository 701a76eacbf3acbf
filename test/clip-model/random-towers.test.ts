/**
 * The ONNX towers on small seeded random checkpoints against the float64 reference transcription
 * (no ../shared needed): every activation, both attention implementations, both pooling rules, masks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/errors.js';
import { type ClipActivation, clipTextConfigFrom, clipVisionConfigFrom } from '../../src/models/clip/config.js';
import type { AttentionImpl } from '../../src/models/clip/encoder-graph.js';
import { randomClipStateDict } from '../../src/models/clip/random-weights.js';
import { ClipTextSession, ClipVisionSession } from '../../src/models/clip/session.js';
import { stateDictFromArrays } from '../../src/tensor/memory-state-dict.js';
import type { StateDict } from '../../src/tensor/types.js';
import { assertClose } from './close.js';
import { referenceText, referenceVision } from './reference.js';

const ACTS: ClipActivation[] = ['quick_gelu', 'gelu', 'gelu_new', 'relu'];
const IMPLS: AttentionImpl[] = ['fused', 'plain'];

const visionCfg = (act: ClipActivation) => clipVisionConfigFrom({
  model_type: 'clip_vision_model', hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 2,
  image_size: 16, patch_size: 4, hidden_act: act, projection_dim: 8,
});
const textCfg = (act: ClipActivation, eos: number) => clipTextConfigFrom({
  model_type: 'clip_text_model', hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 4,
  vocab_size: 50, max_position_embeddings: 12, hidden_act: act, eos_token_id: eos, projection_dim: 8,
});

function pixels(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = (s / 2 ** 32) * 4 - 2;
  }
  return out;
}

function project(pooled: Float64Array, proj: Float32Array, d: number): Float64Array {
  const e = proj.length / d;
  const rows = pooled.length / d;
  const out = new Float64Array(rows * e);
  for (let r = 0; r < rows; r++) for (let o = 0; o < e; o++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += pooled[r * d + k]! * proj[o * d + k]!;
    out[r * e + o] = s;
  }
  return out;
}

for (const attention of IMPLS) {
  test(`vision tower = float64 reference for every activation (${attention} attention)`, async () => {
    for (const act of ACTS) {
      const cfg = visionCfg(act);
      const sd = randomClipStateDict({ vision: cfg, projectionDim: 8 }, 11);
      const proj = sd.loadF32('visual_projection.weight');
      const s = await ClipVisionSession.create(cfg, sd, { projection: proj, attention, lastHiddenState: true, threads: 1 });
      try {
        const px = pixels(3 * s.imageValues, 5);
        const out = await s.run(px, 3);
        const ref = referenceVision(cfg, sd, px, 3);
        assertClose(out.lastHiddenState, ref.hidden, `${act} last_hidden_state`, 1e-5, 1e-5);
        assertClose(out.pooled, ref.pooled, `${act} pooled`, 1e-5, 1e-5);
        assertClose(out.embeds, project(ref.pooled, proj, 16), `${act} embeds`, 1e-5, 1e-5);
        // Without last_hidden_state the graph computes the last layer for the CLS row only.
        const pooledOnly = await ClipVisionSession.create(cfg, sd, { projection: proj, attention, threads: 1 });
        try {
          const o = await pooledOnly.run(px, 3);
          assert.equal(o.lastHiddenState, undefined);
          assertClose(o.pooled, ref.pooled, `${act} pooled (CLS-only last layer)`, 1e-5, 1e-5);
          assertClose(o.embeds, project(ref.pooled, proj, 16), `${act} embeds (CLS-only last layer)`, 1e-5, 1e-5);
        } finally {
          await pooledOnly.dispose();
        }
      } finally {
        await s.dispose();
      }
    }
  });

  test(`text tower = float64 reference: causal mask, attention_mask, both pooling rules (${attention} attention)`, async () => {
    // Row 0: EOS (7) then pads of the largest id 49 (legacy argmax picks the first 49, not EOS);
    // row 1: no EOS at all (eos rule falls back to position 0); row 2: full length.
    const ids = [
      1, 3, 4, 7, 49, 49, 49, 49,
      1, 9, 9, 9, 9, 9, 9, 9,
      1, 30, 7, 2, 45, 7, 8, 7,
    ];
    const mask = [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1];
    for (const [act, eos] of [['quick_gelu', 2], ['gelu', 7], ['relu', 7]] as const) {
      const cfg = textCfg(act, eos);
      const sd = randomClipStateDict({ text: cfg, projectionDim: 8 }, 23);
      const proj = sd.loadF32('text_projection.weight');
      const s = await ClipTextSession.create(cfg, sd, { projection: proj, attention, lastHiddenState: true, threads: 1 });
      try {
        for (const m of [undefined, mask]) {
          const out = await s.run(ids, 3, m);
          const ref = referenceText(cfg, sd, ids, 3, m);
          const what = `${act}/eos ${eos}${m ? ' with mask' : ''}`;
          assert.deepEqual(ref.positions, eos === 2 ? [4, 1, 4] : [3, 0, 2]);
          assertClose(out.lastHiddenState, ref.hidden, `${what} last_hidden_state`, 1e-5, 1e-5);
          assertClose(out.pooled, ref.pooled, `${what} pooled`, 1e-5, 1e-5);
          assertClose(out.embeds, project(ref.pooled, proj, 16), `${what} embeds`, 1e-5, 1e-5);
        }
        // Shorter sequences use the first position embeddings.
        const short = await s.run(ids.slice(0, 5), 1);
        assertClose(short.pooled, referenceText(cfg, sd, ids.slice(0, 5), 1).pooled, `${act} len 5 pooled`, 1e-5, 1e-5);
      } finally {
        await s.dispose();
      }
    }
  });
}

test('a checkpoint missing a tensor or with a wrong shape is a UserError naming it', async () => {
  const cfg = visionCfg('quick_gelu');
  const sd = randomClipStateDict({ vision: cfg }, 3);
  const without = (drop: string, replace?: { shape: number[]; data: Float32Array }): StateDict => {
    const entries: Record<string, { shape: readonly number[]; data: Float32Array }> = {};
    for (const n of sd.names()) if (n !== drop) entries[n] = { shape: sd.info(n).shape, data: sd.loadF32(n) };
    if (replace) entries[drop] = replace;
    return stateDictFromArrays(entries);
  };
  const name = 'vision_model.encoder.layers.1.mlp.fc2.weight';
  await assert.rejects(ClipVisionSession.create(cfg, without(name), { source: 'ft.safetensors' }),
    (e: unknown) => e instanceof UserError && e.message.includes(`ft.safetensors: tensor ${name} is missing`));
  await assert.rejects(ClipVisionSession.create(cfg, without(name, { shape: [32, 16], data: new Float32Array(512) })),
    (e: unknown) => e instanceof UserError && e.message.includes('has shape [32, 16], expected [16, 32]'));
});

test('bad inputs are UserErrors: pixel count, token ids outside the vocabulary, too long sequences', async () => {
  const vcfg = visionCfg('quick_gelu');
  const v = await ClipVisionSession.create(vcfg, randomClipStateDict({ vision: vcfg }, 1), { threads: 1 });
  const tcfg = textCfg('quick_gelu', 2);
  const t = await ClipTextSession.create(tcfg, randomClipStateDict({ text: tcfg }, 1), { threads: 1 });
  try {
    await assert.rejects(v.run(new Float32Array(v.imageValues * 2 - 1), 2), (e: unknown) => e instanceof UserError && /expected 2 × 3×16×16/.test(e.message));
    await assert.rejects(t.run([1, 2, 50], 1), (e: unknown) => e instanceof UserError && /token id 50 is outside the vocabulary \(size 50\)/.test(e.message));
    await assert.rejects(t.run(new Array(13).fill(1), 1), (e: unknown) => e instanceof UserError && /sequence length 13 exceeds max_position_embeddings 12/.test(e.message));
    await assert.rejects(t.run([1, 2, 3], 2), UserError);
    await assert.rejects(t.run([1, 2, 3], 1, [1, 1]), (e: unknown) => e instanceof UserError && /attention_mask has 2 values/.test(e.message));
  } finally {
    await v.dispose();
    await t.dispose();
  }
});

/** DARE's pieces: which tensors count as Linear weights, and the seeded drop itself. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLinearWeight, randomDrop, uniformStream } from '../../src/method/dare/random-drop.js';

test('Linear weights of a CLIP checkpoint', () => {
  const f = (name: string, shape: number[]) => isLinearWeight(name, { dtype: 'F32', shape });
  assert.equal(f('vision_model.encoder.layers.0.self_attn.q_proj.weight', [768, 768]), true);
  assert.equal(f('vision_model.encoder.layers.0.mlp.fc1.weight', [3072, 768]), true);
  assert.equal(f('visual_projection.weight', [512, 768]), true);
  assert.equal(f('vision_model.encoder.layers.0.mlp.fc1.bias', [3072]), false);
  assert.equal(f('vision_model.embeddings.position_embedding.weight', [50, 768]), false);
  assert.equal(f('text_model.embeddings.token_embedding.weight', [49408, 512]), false);
  assert.equal(f('vision_model.embeddings.patch_embedding.weight', [768, 3, 32, 32]), false);
  assert.equal(f('vision_model.post_layernorm.weight', [768]), false);
});

test('the drop keeps about 1 − ratio of the entries, rescaled, and depends only on (seed, model, tensor)', () => {
  const n = 200_000;
  const tv = new Float32Array(n).fill(1);
  randomDrop(tv, 0.3, true, uniformStream(5, 'model', 'w'));
  const kept = tv.filter((x) => x !== 0);
  assert.ok(Math.abs(kept.length / n - 0.7) < 0.01, String(kept.length / n));
  assert.ok(kept.every((x) => x === Math.fround(1 / Math.fround(0.7))));
  const again = new Float32Array(n).fill(1);
  randomDrop(again, 0.3, true, uniformStream(5, 'model', 'w'));
  assert.deepEqual(again, tv);
  for (const [seed, m, w] of [[6, 'model', 'w'], [5, 'other', 'w'], [5, 'model', 'w2']] as const) {
    const other = new Float32Array(n).fill(1);
    randomDrop(other, 0.3, true, uniformStream(seed, m, w));
    assert.notDeepEqual(other, tv);
  }
  const all = new Float32Array(4).fill(2);
  randomDrop(all, 1, true, uniformStream(0, 'm', 'w'));
  assert.deepEqual(Array.from(all), [0, 0, 0, 0]);
  const none = Float32Array.from([1, -2, 3]);
  randomDrop(none, 0, true, uniformStream(0, 'm', 'w'));
  assert.deepEqual(Array.from(none), [1, -2, 3]);
});

test('the drop with the generator in its loop equals a draw per entry through next(), bit for bit, and leaves the stream where that does', () => {
  const values = [1.5, -2, 0, -0, NaN, Infinity, -Infinity, 1e-40, -3.25e10, 0.1];
  for (const [ratio, rescale] of [[0.3, true], [0.9, false], [0, true], [0.5, true], [1e-8, false]] as const) {
    const n = 10007;
    const src = Float32Array.from({ length: n }, (_, i) => values[i % values.length]! * (1 + i / n));
    const fast = Float32Array.from(src);
    const stream = uniformStream(7, 'm', `w${ratio}`);
    randomDrop(fast, ratio, rescale, stream);
    const slow = Float32Array.from(src);
    const reference = uniformStream(7, 'm', `w${ratio}`);
    randomDrop(slow, ratio, rescale, () => reference()); // a plain function: one call per entry
    assert.deepEqual(new Uint32Array(fast.buffer), new Uint32Array(slow.buffer), `ratio ${ratio}, rescale ${rescale}`);
    assert.equal(stream(), reference(), 'the stream continues where the per-entry draws left it');
  }
});

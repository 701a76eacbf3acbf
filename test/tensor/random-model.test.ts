import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clipVisionTensorSpecs, writeRandomClipVisionModel } from '../../bench/lib/random-model.js';
import { openCheckpoint } from '../../src/tensor/checkpoint.js';
import { needsShared, sharedPath } from '../helpers/paths.js';
import { tempDir } from './support.js';

const root = tempDir();
const tiny = { layers: 2, hidden: 32, mlp: 64, heads: 4, patch: 8, image: 32, projectionDim: 16 };

test('the ViT-B/32 defaults have 87,456,000 parameters in 199 tensors with 50 position embeddings', () => {
  const specs = clipVisionTensorSpecs();
  let params = 0;
  for (const s of specs.values()) params += s.shape.reduce((a, b) => a * b, 1);
  assert.equal(params, 87_456_000);
  assert.equal(specs.size, 199);
  assert.deepEqual(specs.get('vision_model.embeddings.position_embedding.weight')!.shape, [50, 768]);
  assert.deepEqual(specs.get('vision_model.encoder.layers.11.mlp.fc2.weight')!.shape, [768, 3072]);
});

test('a random tower matches the real tiny CLIP vision checkpoint\'s names and shapes', needsShared(), () => {
  const real = openCheckpoint(sharedPath('fixtures', 'clip', 'models', 'tiny-clip-ft-a'));
  const specs = clipVisionTensorSpecs(tiny);
  assert.deepEqual(new Set(specs.keys()), new Set(real.names()));
  for (const n of real.names()) assert.deepEqual(specs.get(n)!.shape, real.info(n).shape, n);
  real.close?.();
});

test('writeRandomClipVisionModel writes config.json + model.safetensors, the same bytes for the same seed', () => {
  const dirs = ['a', 'b', 'c', 'ft'].map((d) => {
    const p = join(root, d);
    mkdirSync(p);
    return p;
  });
  const a = writeRandomClipVisionModel(dirs[0]!, { ...tiny, seed: 7 });
  writeRandomClipVisionModel(dirs[1]!, { ...tiny, seed: 7 });
  writeRandomClipVisionModel(dirs[2]!, { ...tiny, seed: 8 });
  writeRandomClipVisionModel(dirs[3]!, { ...tiny, seed: 9, base: { seed: 7, noise: 0.1 } });
  const bytes = (d: string) => readFileSync(join(d, 'model.safetensors'));
  assert.ok(bytes(dirs[0]!).equals(bytes(dirs[1]!)));
  assert.ok(!bytes(dirs[0]!).equals(bytes(dirs[2]!)));
  const cfg = JSON.parse(readFileSync(join(dirs[0]!, 'config.json'), 'utf8'));
  assert.equal(cfg.model_type, 'clip_vision_model');
  assert.equal(cfg.num_hidden_layers, 2);
  assert.equal(a.params, [...clipVisionTensorSpecs(tiny).values()].reduce((s, t) => s + t.shape.reduce((x, y) => x * y, 1), 0));
  // The fine-tuned variant stays close to its base: small relative difference, but not zero.
  const base = openCheckpoint(dirs[0]!);
  const ft = openCheckpoint(dirs[3]!);
  const name = 'vision_model.encoder.layers.0.mlp.fc1.weight';
  const x = base.loadF32(name);
  const y = ft.loadF32(name);
  let d2 = 0;
  let n2 = 0;
  for (let i = 0; i < x.length; i++) {
    d2 += (x[i]! - y[i]!) ** 2;
    n2 += x[i]! ** 2;
  }
  const rel = Math.sqrt(d2 / n2);
  assert.ok(rel > 0.05 && rel < 0.2, `relative difference ${rel}`);
  const ln = base.loadF32('vision_model.post_layernorm.weight');
  assert.ok(ln.every((v) => Math.abs(v - 1) < 0.05), 'layer norm weights near 1');
  base.close?.();
  ft.close?.();
});

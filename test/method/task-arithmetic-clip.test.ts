/**
 * End to end against the Python reference: task arithmetic (λ = 0.5) of tiny-clip-ft-a and -ft-b onto
 * tiny-clip through the CLIP vision pool, saved, reloaded, compared with transformers' merged checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskArithmeticAlgorithm } from '../../src/method/index.js';
import { CLIPVisionModelPool } from '../../src/modelpool/index.js';
import { openSafetensors } from '../../src/tensor/safetensors-read.js';
import { needsShared, sharedPath } from '../helpers/paths.js';

test('task arithmetic of the tiny CLIP fixtures equals the golden merge', needsShared(), async () => {
  const models = sharedPath('fixtures', 'clip', 'models');
  const pool = new CLIPVisionModelPool({
    models: {
      _pretrained_: join(models, 'tiny-clip'),
      'ft-a': join(models, 'tiny-clip-ft-a'),
      'ft-b': { _target_: 'transformers.CLIPVisionModel.from_pretrained', pretrained_model_name_or_path: join(models, 'tiny-clip-ft-b') },
    },
    processor: join(models, 'tiny-clip'),
    platform: 'hf',
  });
  const out = mkdtempSync(join(tmpdir(), 'fb-ta-'));
  try {
    const merged = await new TaskArithmeticAlgorithm({ scaling_factor: 0.5 }).run(pool);
    await pool.saveModel(merged, join(out, 'merged'));
    merged.stateDict.close?.();

    const golden = openSafetensors(sharedPath('fixtures', 'clip', 'golden', 'tiny-clip-merged-ta0.5', 'model.safetensors'));
    const saved = openSafetensors(join(out, 'merged', 'model.safetensors'));
    try {
      assert.deepEqual([...saved.names()].sort(), [...golden.names()].sort());
      assert.equal(saved.metadata.format, 'pt');
      for (const n of golden.names()) {
        assert.deepEqual(saved.info(n), golden.info(n));
        const a = saved.loadF32(n);
        const b = golden.loadF32(n);
        for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-6 * Math.max(1, Math.abs(b[i]!)), `${n}[${i}]`);
      }
    } finally {
      golden.close();
      saved.close();
    }

    const cfg = JSON.parse(readFileSync(join(out, 'merged', 'config.json'), 'utf8'));
    const want = JSON.parse(readFileSync(sharedPath('fixtures', 'clip', 'golden', 'tiny-clip-merged-ta0.5', 'config.json'), 'utf8'));
    delete cfg._name_or_path;
    delete want._name_or_path;
    assert.deepEqual(cfg, want);
    assert.match(readFileSync(join(out, 'merged', 'config.json'), 'utf8'), /"layer_norm_eps": 1e-05,\n/);

    // The saved directory is itself a CLIP vision model the pool can load and merge again.
    const again = new CLIPVisionModelPool({ models: { merged: join(out, 'merged') } });
    const m = await again.loadModel('merged');
    assert.equal(m.stateDict.names().length, 39);
    assert.equal(m.config?.model_type, 'clip_vision_model');
    m.stateDict.close?.();
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

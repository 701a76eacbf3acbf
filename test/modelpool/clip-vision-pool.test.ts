/** CLIPVisionModelPool on the tiny CLIP fixtures: what a model is, and what saving writes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUserError } from '../../src/errors.js';
import { CLIPVisionModelPool } from '../../src/modelpool/index.js';
import { openSafetensors } from '../../src/tensor/safetensors-read.js';
import { needsShared, sharedPath } from '../helpers/paths.js';

const fixture = (name: string) => sharedPath('fixtures', 'clip', 'models', name);

test('a CLIPModel checkpoint gives its vision tower and vision_config, completed with defaults', needsShared(), async () => {
  const pool = new CLIPVisionModelPool({ models: { _pretrained_: fixture('tiny-clip'), legacy: fixture('tiny-clip-legacy-keys'), a: fixture('tiny-clip-ft-a') } });
  const m = await pool.loadModel('_pretrained_');
  const names = m.stateDict.names();
  assert.equal(names.length, 39);
  assert.ok(names.every((n) => n.startsWith('vision_model.')));
  assert.equal(m.config?.model_type, 'clip_vision_model');
  assert.equal(m.config?.hidden_size, 32);
  assert.equal(m.config?.patch_size, 8);
  assert.equal(m.config?.hidden_act, 'quick_gelu');
  assert.equal(m.config?.layer_norm_eps, 1e-5);
  assert.equal(m.config?.vision_config, undefined);
  m.stateDict.close?.();

  const legacy = await pool.loadModel('legacy');
  assert.deepEqual([...legacy.stateDict.names()].sort(), [...names].sort());
  legacy.stateDict.close?.();

  const a = await pool.loadModel('a');
  assert.deepEqual([...a.stateDict.names()].sort(), [...names].sort());
  a.stateDict.close?.();

  const full = await pool.loadClipModel('legacy');
  assert.equal(full.stateDict.names().length, 78);
  assert.ok(!full.stateDict.names().some((n) => n.endsWith('position_ids')));
  full.stateDict.close?.();
});

test('saveModel writes a CLIPVisionModel directory; refuses non-CLIP and config-less models', needsShared(), async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-clip-'));
  try {
    const pool = new CLIPVisionModelPool({ models: { _pretrained_: fixture('tiny-clip') } });
    const m = await pool.loadModel('_pretrained_');
    await pool.saveModel(m, join(dir, 'saved'));
    const cfg = JSON.parse(readFileSync(join(dir, 'saved', 'config.json'), 'utf8'));
    assert.deepEqual(cfg.architectures, ['CLIPVisionModel']);
    assert.equal(cfg.model_type, 'clip_vision_model');
    assert.equal(cfg.torch_dtype, 'float32');
    assert.equal(cfg.image_size, 32);
    const f = openSafetensors(join(dir, 'saved', 'model.safetensors'));
    assert.equal(f.names().length, 39);
    assert.deepEqual(f.metadata, { format: 'pt' });
    const w = 'vision_model.encoder.layers.1.mlp.fc2.weight';
    assert.deepEqual(f.loadF32(w), m.stateDict.loadF32(w));
    f.close();
    // save_pretrained's max_shard_size: shards plus an index, replacing the single file.
    await pool.saveModel(m, join(dir, 'saved'), { max_shard_size: '40KB' });
    assert.ok(!existsSync(join(dir, 'saved', 'model.safetensors')));
    const index = JSON.parse(readFileSync(join(dir, 'saved', 'model.safetensors.index.json'), 'utf8'));
    assert.equal(Object.keys(index.weight_map).length, 39);
    const again = await new CLIPVisionModelPool({ models: { s: join(dir, 'saved') } }).loadModel('s');
    assert.deepEqual(again.stateDict.loadF32(w), m.stateDict.loadF32(w));
    again.stateDict.close?.();
    m.stateDict.close?.();

    cpSync(fixture('tiny-clip-ft-a'), join(dir, 'bert'), { recursive: true });
    writeFileSync(join(dir, 'bert', 'config.json'), JSON.stringify({ model_type: 'bert' }));
    const bad = new CLIPVisionModelPool({ models: { x: join(dir, 'bert') } });
    await assert.rejects(bad.loadModel('x'), (e: unknown) => isUserError(e) && /model_type "bert" is not a CLIP model/.test((e as Error).message));
    unlinkSync(join(dir, 'bert', 'config.json'));
    await assert.rejects(bad.loadModel('x'), (e: unknown) => isUserError(e) && /no config\.json/.test((e as Error).message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** BaseModelPool: names, special models, entry forms, loading, saving, clear errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUserError } from '../../src/errors.js';
import { BaseModelPool, MODELPOOLS, CLIPVisionModelPool, setHubResolver } from '../../src/modelpool/index.js';
import { stateDictFromArrays } from '../../src/tensor/memory-state-dict.js';
import { openCheckpoint } from '../../src/tensor/checkpoint.js';
import { writeSafetensorsSync } from '../../src/tensor/safetensors-write.js';

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-pool-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function writeModel(dir: string, value: number, config: object | null = { model_type: 'toy', hidden_size: 2, layer_norm_eps: 1e-5 }): string {
  mkdirSync(dir, { recursive: true });
  writeSafetensorsSync(join(dir, 'model.safetensors'), stateDictFromArrays({ 'w.weight': { shape: [2, 2], data: [value, value, value, value] }, 'b.bias': { shape: [2], data: [value, -value] } }));
  if (config) writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

function userError(pattern: RegExp) {
  return (e: unknown) => isUserError(e) && pattern.test((e as Error).message);
}

test('model names: special names start and end with _, order kept, lists become "0", "1", …', () => {
  const pool = new BaseModelPool({ models: { _pretrained_: 'a', b: 'b', _c: 'c', d_: 'd', _merged_: 'm' } });
  assert.deepEqual(pool.allModelNames, ['_pretrained_', 'b', '_c', 'd_', '_merged_']);
  assert.deepEqual(pool.modelNames, ['b', '_c', 'd_']);
  assert.equal(pool.hasPretrained, true);
  assert.equal(pool.hasMerged, true);
  assert.equal(pool.size, 3);
  assert.equal(pool.getModelPath('b'), 'b');
  assert.deepEqual(new BaseModelPool({ models: ['x', 'y'] }).allModelNames, ['0', '1']);
});

test('entries: paths, from_pretrained targets; anything else is refused by name', () => {
  const pool = new BaseModelPool({ models: { a: { _target_: 'transformers.AutoModel.from_pretrained', pretrained_model_name_or_path: 'org/m', torch_dtype: 'float32' } } });
  assert.equal(pool.getModelPath('a'), 'org/m');
  assert.throws(() => new BaseModelPool({ models: { a: { _target_: 'my.module.load', path: 'x' } } }), userError(/models\.a: _target_ 'my\.module\.load' is not supported/));
  assert.throws(() => new BaseModelPool({ models: { a: { _target_: 'transformers.CLIPModel.from_pretrained' } } }), userError(/needs pretrained_model_name_or_path/));
  assert.throws(() => new BaseModelPool({ models: { a: 3 } }), userError(/models\.a: expected a model path/));
  assert.throws(() => new BaseModelPool({ models: 'x' }), userError(/modelpool\.models: expected a mapping/));
  assert.throws(() => new BaseModelPool({ models: {}, platform: 'ftp' }), userError(/platform: expected one of hf, huggingface, modelscope/));
});

test('loading: local directories, pretrained-or-first, unknown names and missing paths', withDir(async (dir) => {
  const a = writeModel(join(dir, 'a'), 1);
  const b = writeModel(join(dir, 'b'), 2, null);
  const pool = new BaseModelPool({ models: { first: a, second: { _target_: 'transformers.AutoModel.from_pretrained', pretrained_model_name_or_path: b } } });
  const m = await pool.loadPretrainedOrFirstModel();
  assert.deepEqual(Array.from(m.stateDict.loadF32('b.bias')), [1, -1]);
  assert.equal(m.config?.model_type, 'toy');
  m.stateDict.close?.();
  const s = await pool.loadModel('second');
  assert.equal(s.config, null);
  assert.deepEqual(Array.from(s.stateDict.loadF32('w.weight')), [2, 2, 2, 2]);
  s.stateDict.close?.();
  await assert.rejects(pool.loadModel('third'), userError(/model 'third' not found in the model pool\. Available models: 'first', 'second'/));
  await assert.rejects(pool.loadPretrainedModel(), userError(/no pretrained model/));
  await assert.rejects(new BaseModelPool({ models: { x: join(dir, 'nope') } }).loadModel('x'), userError(/does not exist/));
}));

test('torch_dtype of a from_pretrained entry: tensors seen and saved in that dtype', withDir(async (dir) => {
  const a = writeModel(join(dir, 'a'), 1 / 3);
  const pool = new BaseModelPool({ models: { h: { _target_: 'transformers.AutoModel.from_pretrained', pretrained_model_name_or_path: a, torch_dtype: 'float16' } } });
  const m = await pool.loadModel('h');
  assert.equal(m.stateDict.info('w.weight').dtype, 'F16');
  assert.equal(m.stateDict.loadF32('w.weight')[0], 0.333251953125); // 1/3 rounded to float16
  await pool.saveModel(m, join(dir, 'h.safetensors'));
  const f = openCheckpoint(join(dir, 'h.safetensors'));
  assert.equal(f.info('b.bias').dtype, 'F16');
  f.close();
  m.stateDict.close?.();
  assert.throws(() => new BaseModelPool({ models: { h: { _target_: 'transformers.AutoModel.from_pretrained', pretrained_model_name_or_path: a, torch_dtype: 'int3' } } }),
    userError(/models\.h: torch_dtype must be one of auto, float32/));
}));

test('hub repo ids go through the hub resolver', withDir(async (dir) => {
  const a = writeModel(join(dir, 'snap'), 3);
  const asked: string[] = [];
  setHubResolver(async (repo) => {
    asked.push(repo);
    return a;
  });
  try {
    const m = await new BaseModelPool({ models: { x: 'org/model' } }).loadModel('x');
    assert.deepEqual(asked, ['org/model']);
    assert.deepEqual(Array.from(m.stateDict.loadF32('b.bias')), [3, -3]);
    m.stateDict.close?.();
  } finally {
    setHubResolver(null);
  }
}));

test('saving: one .safetensors file, or a directory with config.json written the Python way', withDir(async (dir) => {
  const pool = new BaseModelPool({ models: { a: writeModel(join(dir, 'a'), 4) } });
  const m = await pool.loadModel('a');
  await pool.saveModel(m, join(dir, 'out.safetensors'));
  const f = openCheckpoint(join(dir, 'out.safetensors'));
  assert.deepEqual(Array.from(f.loadF32('w.weight')), [4, 4, 4, 4]);
  f.close();
  await pool.saveModel(m, join(dir, 'outdir'));
  assert.ok(existsSync(join(dir, 'outdir', 'model.safetensors')));
  assert.equal(readFileSync(join(dir, 'outdir', 'config.json'), 'utf8'), '{\n  "hidden_size": 2,\n  "layer_norm_eps": 1e-05,\n  "model_type": "toy"\n}\n');
  m.stateDict.close?.();
}));

test('the registry map', () => {
  assert.equal(MODELPOOLS['fusion_bench.modelpool.CLIPVisionModelPool'], CLIPVisionModelPool);
  assert.equal(MODELPOOLS['fusion_bench.modelpool.BaseModelPool'], BaseModelPool);
});

test('merged_model_save_kwargs: max_shard_size is honoured; unknown keys, pickles and push_to_hub are refused by name', async () => {
  const { savePretrainedOptions } = await import('../../src/modelpool/save-pretrained.js');
  const { isUserError } = await import('../../src/errors.js');
  assert.deepEqual(savePretrainedOptions({ max_shard_size: '1MB', safe_serialization: true, push_to_hub: false }), { maxShardBytes: 1_000_000 });
  assert.deepEqual(savePretrainedOptions(undefined), {});
  for (const [kw, pattern] of [
    [{ max_shard_sizes: '1MB' }, /merged_model_save_kwargs\.max_shard_sizes: not an option .* takes max_shard_size, safe_serialization, push_to_hub/],
    [{ safe_serialization: false }, /would write a pickle/],
    [{ push_to_hub: true }, /push_to_hub: uploading to the hub is not supported yet/],
  ] as const) {
    assert.throws(() => savePretrainedOptions(kw as Record<string, unknown>), (e) => isUserError(e) && pattern.test((e as Error).message));
  }
});

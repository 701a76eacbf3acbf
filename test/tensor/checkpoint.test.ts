import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckpoint, ShardedCheckpoint } from '../../src/tensor/checkpoint.js';
import { SafetensorsFile } from '../../src/tensor/safetensors-read.js';
import { writeSafetensorsSync } from '../../src/tensor/safetensors-write.js';
import { MemoryStateDict, materialize, stateDictFromArrays } from '../../src/tensor/memory-state-dict.js';
import { UserError } from '../../src/errors.js';
import { craftSafetensors, f32Bytes, tempDir } from './support.js';

const root = tempDir();
let counter = 0;
const freshDir = () => {
  const d = join(root, `ckpt-${counter++}`);
  mkdirSync(d);
  return d;
};

function userError(re: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  };
}

const small = () => stateDictFromArrays({ a: { shape: [2], data: [1, 2] }, b: { shape: [2, 2], data: [3, 4, 5, 6] } });

test('a directory with model.safetensors, the file itself, and a sharded directory all open', () => {
  const dir = freshDir();
  writeSafetensorsSync(join(dir, 'model.safetensors'), small());
  const single = openCheckpoint(dir);
  assert.ok(single instanceof SafetensorsFile);
  assert.deepEqual([...single.loadF32('b')], [3, 4, 5, 6]);
  single.close();
  const direct = openCheckpoint(join(dir, 'model.safetensors'));
  assert.deepEqual(direct.names(), ['a', 'b']);
  direct.close();

  const sharded = freshDir();
  writeSafetensorsSync(join(sharded, 'model.safetensors'), small(), { maxShardBytes: 8 });
  for (const p of [sharded, join(sharded, 'model.safetensors.index.json')]) {
    const c = openCheckpoint(p);
    assert.ok(c instanceof ShardedCheckpoint);
    assert.equal(c.shards.length, 2);
    assert.deepEqual(materialize(c).get('b').data, new Float32Array([3, 4, 5, 6]));
    // b (16 B) is over the 8 B limit, so it gets a shard of its own, emitted before the pending one.
    assert.equal(c.shard('b').path, join(sharded, 'model-00001-of-00002.safetensors'));
    assert.equal(c.shard('a').path, join(sharded, 'model-00002-of-00002.safetensors'));
    assert.throws(() => c.info('zzz'), userError(/no tensor named 'zzz'/));
    c.close();
  }
});

test('PyTorch pickle checkpoints are refused with a way to convert them', () => {
  const dir = freshDir();
  writeFileSync(join(dir, 'pytorch_model.bin'), 'not read');
  writeFileSync(join(dir, 'config.json'), '{}');
  assert.throws(() => openCheckpoint(dir), userError(/pytorch_model\.bin.*arbitrary code.*save_pretrained\(out_dir, safe_serialization=True\)/));
  const pt = join(dir, 'weights.pt');
  writeFileSync(pt, 'not read');
  assert.throws(() => openCheckpoint(pt), userError(/weights\.pt.*safetensors only/));
});

test('missing files and empty directories give clear messages', () => {
  const dir = freshDir();
  assert.throws(() => openCheckpoint(dir), userError(/no model\.safetensors or model\.safetensors\.index\.json/));
  writeSafetensorsSync(join(dir, 'other.safetensors'), small());
  assert.throws(() => openCheckpoint(dir), userError(/found other\.safetensors; open that file directly/));
  assert.throws(() => openCheckpoint(join(dir, 'nothing-here')), userError(/does not exist/));
});

test('broken shard indexes are UserErrors: missing shard, tensor not in its shard, paths outside the directory', () => {
  const dir = freshDir();
  craftSafetensors(join(dir, 'model-00001-of-00002.safetensors'), { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32Bytes([1]));
  const index = join(dir, 'model.safetensors.index.json');
  const put = (weightMap: unknown) => writeFileSync(index, JSON.stringify({ metadata: { total_size: 8 }, weight_map: weightMap }));
  put({ a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' });
  assert.throws(() => openCheckpoint(dir), userError(/shard model-00002-of-00002\.safetensors listed in the weight_map is missing/));
  put({ a: 'model-00001-of-00002.safetensors', c: 'model-00001-of-00002.safetensors' });
  assert.throws(() => openCheckpoint(dir), userError(/puts 'c' in model-00001-of-00002\.safetensors, but that shard has no such tensor/));
  put({ a: '../model-00001-of-00002.safetensors' });
  assert.throws(() => openCheckpoint(dir), userError(/weight_map entry for 'a' must be a file name in the same directory/));
  put(['a']);
  assert.throws(() => openCheckpoint(dir), userError(/weight_map must be an object/));
  writeFileSync(index, '{oops');
  assert.throws(() => openCheckpoint(dir), userError(/cannot read the shard index/));
  unlinkSync(index);
});

test('MemoryStateDict: copies on load, checks shapes, materialize picks names in order', () => {
  const data = new Float32Array([1, 2, 3, 4]);
  const sd = new MemoryStateDict([['w', { dtype: 'F16', shape: [2, 2], data }]]);
  const loaded = sd.loadF32('w');
  loaded[0] = 42;
  assert.equal(data[0], 1, 'the input is not modified');
  assert.equal(sd.loadF32('w')[0], 1);
  assert.deepEqual(sd.info('w'), { dtype: 'F16', shape: [2, 2] });
  assert.throws(() => new MemoryStateDict([['x', { dtype: 'F32', shape: [3], data }]]), /has 4 values but shape \[3\] needs 3/);
  const m = materialize(small(), ['b']);
  assert.deepEqual(m.names(), ['b']);
  assert.equal(m.has('a'), false);
});

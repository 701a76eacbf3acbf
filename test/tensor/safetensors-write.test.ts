import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors } from '../../src/tensor/safetensors-read.js';
import { openCheckpoint, ShardedCheckpoint } from '../../src/tensor/checkpoint.js';
import { writeSafetensors, writeSafetensorsSync, parseShardSize } from '../../src/tensor/safetensors-write.js';
import { MemoryStateDict, makeTensor, stateDictFromArrays } from '../../src/tensor/memory-state-dict.js';
import { DTYPES } from '../../src/tensor/dtype.js';
import type { DType, StateDict } from '../../src/tensor/types.js';
import { UserError } from '../../src/errors.js';
import { needsShared, sharedPath } from '../helpers/paths.js';
import { tempDir } from './support.js';

const root = tempDir();
let counter = 0;
const freshDir = () => {
  const d = join(root, `out-${counter++}`);
  mkdirSync(d);
  return d;
};

/** Parses a safetensors header independently of the reader under test. */
function rawHeader(path: string): { length: number; text: string; json: Record<string, any> } {
  const buf = readFileSync(path);
  const length = Number(buf.readBigUInt64LE(0));
  const text = buf.subarray(8, 8 + length).toString('utf8');
  return { length, text, json: JSON.parse(text) };
}

/** Values every dtype stores exactly. */
function exactValues(dtype: DType, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (dtype === 'BOOL') out[i] = i % 3 === 0 ? 1 : 0;
    else if (dtype.startsWith('U')) out[i] = (i * 7) % 200;
    else if (dtype.startsWith('I')) out[i] = ((i * 7) % 200) - 100;
    else out[i] = (i - n / 2) * 0.25; // multiples of 1/4: exact in F16 and BF16
  }
  return out;
}

test('round trip of every dtype through a file: values, dtypes and shapes come back', () => {
  const dir = freshDir();
  const tensors = new Map(DTYPES.map((d, k) => [`t.${d}`, makeTensor(d, [3, k + 1], exactValues(d, 3 * (k + 1)))] as const));
  const src = new MemoryStateDict(tensors);
  const path = join(dir, 'model.safetensors');
  const written = writeSafetensorsSync(path, src);
  assert.deepEqual(written.files, [path]);
  assert.equal(written.indexPath, null);
  const back = openSafetensors(path);
  try {
    assert.deepEqual(new Set(back.names()), new Set(src.names()));
    for (const [name, t] of tensors) {
      assert.deepEqual(back.info(name), { dtype: t.dtype, shape: t.shape }, name);
      assert.deepEqual([...back.loadF32(name)], [...t.data], name);
    }
    assert.deepEqual(back.metadata, { format: 'pt' });
  } finally {
    back.close();
  }
});

test('the layout is Python safetensors\': dtype alignment descending, then name; header padded with spaces to 8', () => {
  const dir = freshDir();
  const src = stateDictFromArrays({
    'b.f32': { shape: [1], data: [1] },
    'a.f16': { shape: [1], data: [1], dtype: 'F16' },
    'z.i64': { shape: [1], data: [1], dtype: 'I64' },
    'a.f32': { shape: [1], data: [2] },
    'c.u8': { shape: [3], data: [1, 2, 3], dtype: 'U8' },
    'm.bf16': { shape: [1], data: [1], dtype: 'BF16' },
  });
  const path = join(dir, 'model.safetensors');
  writeSafetensorsSync(path, src, { metadata: { note: 'x' } });
  const { length, text, json } = rawHeader(path);
  assert.equal(length % 8, 0);
  assert.match(text, /^\{"__metadata__":\{"note":"x","format":"pt"\},"z\.i64":\{"dtype":"I64","shape":\[1\],"data_offsets":\[0,8\]\}/);
  assert.equal(text.trimEnd(), JSON.stringify(json), 'compact JSON, then only spaces');
  assert.deepEqual(Object.keys(json).slice(1), ['z.i64', 'a.f32', 'b.f32', 'm.bf16', 'a.f16', 'c.u8']);
  assert.deepEqual(json['c.u8'].data_offsets, [20, 23]);
});

test('output dtypes can be chosen per tensor (F32 → F16/BF16 rounding to nearest)', () => {
  const dir = freshDir();
  const src = stateDictFromArrays({ w: { shape: [3], data: [1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 / 3] }, b: { shape: [1], data: [0.1] } });
  const path = join(dir, 'model.safetensors');
  writeSafetensorsSync(path, src, { dtypes: (name) => (name === 'w' ? 'F16' : 'BF16') });
  const back = openSafetensors(path);
  assert.equal(back.info('w').dtype, 'F16');
  assert.deepEqual([...back.loadF32('w')], [1, 1 + 2 ** -9, 0.333251953125]);
  assert.deepEqual([...back.loadF32('b')], [0.10009765625]);
  back.close();
});

test('rewriting the Python-written fixtures reproduces them byte for byte', needsShared(), () => {
  const dir = freshDir();
  for (const m of ['tiny-clip', 'tiny-clip-legacy-keys', 'tiny-clip-ft-a']) {
    const original = join(sharedPath('fixtures', 'clip', 'models', m), 'model.safetensors');
    const sd = openSafetensors(original);
    const out = join(dir, `${m}.safetensors`);
    writeSafetensorsSync(out, sd);
    sd.close();
    assert.ok(readFileSync(out).equals(readFileSync(original)), m);
  }
});

test('the int64 position_ids survive a rewrite through loadF32 too (no loadRaw on the source)', needsShared(), () => {
  const original = openSafetensors(join(sharedPath('fixtures', 'clip', 'models', 'tiny-clip-legacy-keys'), 'model.safetensors'));
  const viaF32: StateDict = { names: () => original.names(), has: (n) => original.has(n), info: (n) => original.info(n), loadF32: (n) => original.loadF32(n) };
  const out = join(freshDir(), 'model.safetensors');
  writeSafetensorsSync(out, viaF32);
  assert.ok(readFileSync(out).equals(readFileSync(original.path)));
  original.close();
});

test('sharding follows save_pretrained: greedy split, oversized tensors alone, sorted index with total_size', () => {
  const dir = freshDir();
  // 4-byte floats: a 40 B, big 400 B, c 40 B, d 60 B, e 40 B; limit 100 B (a shard may reach it exactly).
  const src = stateDictFromArrays({
    a: { shape: [10], data: exactValues('F32', 10) },
    big: { shape: [100], data: exactValues('F32', 100) },
    c: { shape: [10], data: exactValues('F32', 10) },
    d: { shape: [15], data: exactValues('F32', 15) },
    e: { shape: [10], data: exactValues('F32', 10) },
  });
  const written = writeSafetensorsSync(join(dir, 'model.safetensors'), src, { maxShardBytes: 100 });
  const names = (i: number) => `model-0000${i}-of-00003.safetensors`;
  assert.deepEqual(written.files, [1, 2, 3].map((i) => join(dir, names(i))));
  assert.equal(written.indexPath, join(dir, 'model.safetensors.index.json'));
  assert.equal(written.totalBytes, 580);
  assert.deepEqual(readdirSync(dir).sort(), [names(1), names(2), names(3), 'model.safetensors.index.json']);
  const indexText = readFileSync(written.indexPath!, 'utf8');
  const expectedIndex = {
    metadata: { total_size: 580 },
    weight_map: { a: names(2), big: names(1), c: names(2), d: names(3), e: names(3) },
  };
  assert.equal(indexText, JSON.stringify(expectedIndex, null, 2) + '\n');
  const ckpt = openCheckpoint(dir);
  try {
    assert.ok(ckpt instanceof ShardedCheckpoint);
    assert.deepEqual([...ckpt.names()], ['big', 'a', 'c', 'd', 'e']);
    for (const n of src.names()) assert.deepEqual([...ckpt.loadF32(n)], [...src.loadF32(n)], n);
    assert.deepEqual(ckpt.indexMetadata, { total_size: 580 });
    assert.deepEqual(ckpt.metadata, { format: 'pt' });
  } finally {
    ckpt.close();
  }
  // Under the limit: one plain model.safetensors, and the old shards and index are gone.
  writeSafetensorsSync(join(dir, 'model.safetensors'), src, { maxShardBytes: parseShardSize('1KB') });
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
});

test('rewriting with fewer shards removes the stale ones', () => {
  const dir = freshDir();
  const src = stateDictFromArrays({ a: { shape: [10], data: exactValues('F32', 10) }, b: { shape: [10], data: exactValues('F32', 10) }, c: { shape: [10], data: exactValues('F32', 10) } });
  writeSafetensorsSync(join(dir, 'model.safetensors'), src, { maxShardBytes: 40 });
  assert.equal(readdirSync(dir).length, 4);
  writeSafetensorsSync(join(dir, 'model.safetensors'), src, { maxShardBytes: 80 });
  assert.deepEqual(readdirSync(dir).sort(), ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json']);
});

/** A source whose loadF32 fails (or aborts) at the `failAt`-th load. */
function failingSource(failAt: number, onFail: () => never | void): StateDict {
  const inner = stateDictFromArrays({ a: { shape: [4], data: [1, 2, 3, 4] }, b: { shape: [4], data: [1, 2, 3, 4] }, c: { shape: [4], data: [1, 2, 3, 4] } });
  let loads = 0;
  return {
    names: () => inner.names(),
    has: (n) => inner.has(n),
    info: (n) => inner.info(n),
    loadF32: (n) => {
      if (++loads === failAt) onFail();
      return inner.loadF32(n);
    },
  };
}

test('an error mid-write leaves the existing file untouched and no temporary files', () => {
  const dir = freshDir();
  const path = join(dir, 'model.safetensors');
  writeFileSync(path, 'old content');
  assert.throws(() => writeSafetensorsSync(path, failingSource(2, () => { throw new Error('boom'); })), /boom/);
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
  assert.equal(readFileSync(path, 'utf8'), 'old content');
  // Sharded too.
  assert.throws(() => writeSafetensorsSync(path, failingSource(3, () => { throw new Error('boom'); }), { maxShardBytes: 16 }), /boom/);
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
});

test('aborting the async writer removes its temporary files; a successful write replaces the old file', async () => {
  const dir = freshDir();
  const path = join(dir, 'model.safetensors');
  writeFileSync(path, 'old content');
  const ac = new AbortController();
  await assert.rejects(writeSafetensors(path, failingSource(1, () => ac.abort(new Error('stop'))), { signal: ac.signal }), /stop/);
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
  assert.equal(readFileSync(path, 'utf8'), 'old content');
  const res = await writeSafetensors(path, failingSource(99, () => {}));
  assert.deepEqual(res.files, [path]);
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
  const back = openSafetensors(path);
  assert.deepEqual([...back.loadF32('c')], [1, 2, 3, 4]);
  back.close();
});

test('values that an integer dtype cannot hold are a UserError naming the tensor; no file is left', () => {
  const dir = freshDir();
  const src = stateDictFromArrays({ ids: { shape: [2], data: [1, 2.5] } });
  assert.throws(() => writeSafetensorsSync(join(dir, 'model.safetensors'), src, { dtypes: () => 'I64' }), (e: unknown) => e instanceof UserError && /tensor 'ids'.*2\.5/.test(e.message));
  assert.deepEqual(readdirSync(dir), []);
  assert.throws(() => writeSafetensorsSync(join(dir, 'missing', 'model.safetensors'), src), UserError);
  assert.equal(existsSync(join(dir, 'missing')), false);
});

test('parseShardSize reads huggingface_hub-style sizes', () => {
  assert.equal(parseShardSize('5GB'), 5e9);
  assert.equal(parseShardSize('500MB'), 5e8);
  assert.equal(parseShardSize(' 10 kb '), 1e4);
  assert.equal(parseShardSize(1234), 1234);
  assert.throws(() => parseShardSize('5 GiBs'), UserError);
  assert.throws(() => parseShardSize(0), UserError);
});

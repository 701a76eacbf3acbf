import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { truncateSync, statSync } from 'node:fs';
import { openSafetensors, MAX_HEADER_BYTES } from '../../src/tensor/safetensors-read.js';
import { openCheckpoint } from '../../src/tensor/checkpoint.js';
import { UserError } from '../../src/errors.js';
import { needsShared, sharedPath } from '../helpers/paths.js';
import { craftSafetensors, f32Bytes, tempDir } from './support.js';

const dir = tempDir();
let counter = 0;
const file = () => join(dir, `case-${counter++}.safetensors`);

/** Asserts that opening `path` fails with a UserError whose message names the file and matches `re`. */
function refuses(path: string, re: RegExp): void {
  assert.throws(
    () => openSafetensors(path),
    (e: unknown) => {
      assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
      assert.ok(e.message.includes(path), `message names the file: ${e.message}`);
      assert.match(e.message, re);
      return true;
    },
  );
}

test('a hand-built file reads back: names in storage order, info, loadF32, loadRaw, metadata', () => {
  const a = f32Bytes([1, 2, 3, 4, 5, 6]);
  const b = new Uint8Array([0x00, 0x3c, 0x00, 0xc0]); // F16 1, -2
  const p = craftSafetensors(file(), {
    __metadata__: { format: 'pt', note: 'hi' },
    b: { dtype: 'F16', shape: [2], data_offsets: [24, 28] },
    a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] },
  }, new Uint8Array([...a, ...b]));
  const sd = openSafetensors(p);
  try {
    assert.deepEqual(sd.names(), ['a', 'b']);
    assert.deepEqual(sd.metadata, { format: 'pt', note: 'hi' });
    assert.deepEqual(sd.info('a'), { dtype: 'F32', shape: [2, 3] });
    assert.deepEqual([...sd.loadF32('a')], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...sd.loadF32('b')], [1, -2]);
    assert.deepEqual([...sd.loadRaw('b')], [...b]);
    assert.equal(sd.has('a'), true);
    assert.equal(sd.has('c'), false);
    assert.throws(() => sd.loadF32('c'), (e: unknown) => e instanceof UserError && /no tensor named 'c'/.test(e.message));
    // Each load is a fresh array the caller owns.
    const first = sd.loadF32('a');
    first[0] = 99;
    assert.equal(sd.loadF32('a')[0], 1);
  } finally {
    sd.close();
  }
});

test('empty tensors, scalars and a file without tensors are valid', () => {
  const p = craftSafetensors(file(), {
    s: { dtype: 'F32', shape: [], data_offsets: [0, 4] },
    z: { dtype: 'F32', shape: [0, 5], data_offsets: [4, 4] },
  }, f32Bytes([7]));
  const sd = openSafetensors(p);
  assert.deepEqual([...sd.loadF32('s')], [7]);
  assert.equal(sd.loadF32('z').length, 0);
  sd.close();
  const empty = openSafetensors(craftSafetensors(file(), '{}      '));
  assert.deepEqual(empty.names(), []);
  assert.deepEqual(empty.metadata, {});
  empty.close();
});

test('a huge declared header length is refused before anything is allocated', () => {
  refuses(craftSafetensors(file(), '{}', new Uint8Array(0), 1n << 62n), /larger than the 100000000-byte limit/);
  refuses(craftSafetensors(file(), '{}', new Uint8Array(0), BigInt(MAX_HEADER_BYTES + 1)), /limit/);
  refuses(craftSafetensors(file(), '{}', new Uint8Array(0), 4096n), /runs past the end/);
});

test('too short, non-UTF-8, non-JSON and non-object headers are refused', () => {
  const tiny = file();
  craftSafetensors(tiny, '');
  truncateSync(tiny, 5);
  refuses(tiny, /8-byte header length is missing/);
  refuses(craftSafetensors(file(), '{"a": [1, 2'), /not valid JSON/);
  refuses(craftSafetensors(file(), new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), /not valid UTF-8/);
  refuses(craftSafetensors(file(), '[1,2,3]'), /must be a JSON object/);
  refuses(craftSafetensors(file(), { t: 5 }), /tensor 't'.*must be an object/);
});

test('unknown dtypes, bad shapes and bad offsets name the tensor', () => {
  const data = f32Bytes([1, 2]);
  refuses(craftSafetensors(file(), { w: { dtype: 'F8_E4M3', shape: [8], data_offsets: [0, 8] } }, data), /tensor 'w'.*unknown dtype "F8_E4M3"/);
  refuses(craftSafetensors(file(), { w: { dtype: 'f32', shape: [2], data_offsets: [0, 8] } }, data), /unknown dtype/);
  refuses(craftSafetensors(file(), { w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, data), /tensor 'w'.*non-negative integers/);
  refuses(craftSafetensors(file(), { w: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } }, data), /non-negative integers/);
  refuses(craftSafetensors(file(), { w: { dtype: 'F32', shape: '2', data_offsets: [0, 8] } }, data), /shape must be a list/);
  refuses(craftSafetensors(file(), { w: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }, data), /data_offsets must be two non-negative integers/);
  refuses(craftSafetensors(file(), { w: { dtype: 'F32', shape: [2], data_offsets: [0] } }, data), /data_offsets/);
  refuses(craftSafetensors(file(), { w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, data), /end before they begin/);
});

test('a shape that disagrees with the byte length is refused, also when numel overflows', () => {
  const data = f32Bytes([1, 2, 3]);
  refuses(craftSafetensors(file(), { w: { dtype: 'F32', shape: [2], data_offsets: [0, 12] } }, data), /tensor 'w'.*needs 8 bytes.*hold 12/);
  refuses(craftSafetensors(file(), { w: { dtype: 'F16', shape: [3], data_offsets: [0, 12] } }, data), /needs 6 bytes/);
  refuses(craftSafetensors(file(), { w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 12] } }, data), /more than 2\^53/);
});

test('offsets past the end, overlaps, gaps and trailing bytes are refused', () => {
  const data = f32Bytes([1, 2, 3, 4]);
  refuses(craftSafetensors(file(), {
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] },
  }, data), /tensor 'b' needs data bytes 8\.\.24 but the file has only 16/);
  refuses(craftSafetensors(file(), {
    a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
    b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
  }, data), /tensor 'b'.*overlaps tensor 'a'/);
  refuses(craftSafetensors(file(), {
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    b: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
  }, f32Bytes([1, 2])), /overlaps/);
  refuses(craftSafetensors(file(), {
    a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
    b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
  }, data), /bytes 4\.\.8 .*gap before tensor 'b'/);
  refuses(craftSafetensors(file(), {
    a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
  }, f32Bytes([1, 2])), /bytes 0\.\.4 .*gap before tensor 'a'/);
  refuses(craftSafetensors(file(), { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data), /8 bytes after the last tensor/);
});

test('__metadata__ must map strings to strings', () => {
  refuses(craftSafetensors(file(), { __metadata__: { format: 'pt', step: 5 } }), /__metadata__ value for 'step' must be a string/);
  refuses(craftSafetensors(file(), { __metadata__: ['pt'] }), /__metadata__ must be an object/);
  const ok = openSafetensors(craftSafetensors(file(), { __metadata__: null }));
  assert.deepEqual(ok.metadata, {});
  ok.close();
});

test('a file truncated after opening fails on load with a UserError naming file and tensor', () => {
  const p = craftSafetensors(file(), {
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
  }, f32Bytes([1, 2, 3, 4]));
  const sd = openSafetensors(p);
  try {
    truncateSync(p, statSync(p).size - 4);
    assert.deepEqual([...sd.loadF32('a')], [1, 2]);
    assert.throws(() => sd.loadF32('b'), (e: unknown) => e instanceof UserError && e.message.includes(p) && /tensor 'b'.*truncated/.test(e.message));
  } finally {
    sd.close();
  }
});

test('a missing file or a directory is a UserError', () => {
  refuses(join(dir, 'nope.safetensors'), /cannot open/);
  refuses(dir, /not a file/);
});

const models = (name: string) => sharedPath('fixtures', 'clip', 'models', name);

test('tiny-clip: 78 float32 tensors with the CLIP names and shapes', needsShared(), () => {
  const sd = openCheckpoint(models('tiny-clip'));
  try {
    const names = sd.names();
    assert.equal(names.length, 78);
    assert.ok(names.every((n) => sd.info(n).dtype === 'F32'));
    assert.deepEqual(sd.metadata, { format: 'pt' });
    const expect: Record<string, number[]> = {
      logit_scale: [],
      'text_model.embeddings.token_embedding.weight': [1000, 32],
      'text_model.embeddings.position_embedding.weight': [77, 32],
      'vision_model.embeddings.class_embedding': [32],
      'vision_model.embeddings.patch_embedding.weight': [32, 3, 8, 8],
      'vision_model.embeddings.position_embedding.weight': [17, 32],
      'vision_model.pre_layrnorm.weight': [32],
      'vision_model.encoder.layers.1.mlp.fc1.weight': [64, 32],
      'vision_model.encoder.layers.1.self_attn.q_proj.bias': [32],
      'visual_projection.weight': [16, 32],
      'text_projection.weight': [16, 32],
    };
    for (const [n, shape] of Object.entries(expect)) assert.deepEqual(sd.info(n).shape, shape, n);
    // logit_scale is initialised to ln(100) (config logit_scale_init_value), stored as float32.
    assert.deepEqual([...sd.loadF32('logit_scale')], [Math.fround(Math.log(100))]);
    const ln = sd.loadF32('vision_model.pre_layrnorm.weight');
    assert.equal(ln.length, 32);
    assert.ok(ln.every(Number.isFinite));
  } finally {
    sd.close?.();
  }
});

test('tiny-clip-legacy-keys: int64 position_ids read exactly, stored first (8-byte alignment)', needsShared(), () => {
  const sd = openSafetensors(join(models('tiny-clip-legacy-keys'), 'model.safetensors'));
  try {
    assert.equal(sd.names().length, 80);
    assert.deepEqual(sd.names().slice(0, 2), ['text_model.embeddings.position_ids', 'vision_model.embeddings.position_ids']);
    assert.deepEqual(sd.info('text_model.embeddings.position_ids'), { dtype: 'I64', shape: [1, 77] });
    assert.deepEqual([...sd.loadF32('vision_model.embeddings.position_ids')], Array.from({ length: 17 }, (_, i) => i));
    const raw = sd.loadRaw('text_model.embeddings.position_ids');
    assert.equal(raw.byteLength, 77 * 8);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < 77; i++) assert.equal(dv.getBigInt64(i * 8, true), BigInt(i));
  } finally {
    sd.close();
  }
});

test('fine-tuned towers hold only the 39 vision_model tensors; tiny-clip-bpe has the 49408-row embedding', needsShared(), () => {
  for (const m of ['tiny-clip-ft-a', 'tiny-clip-ft-b']) {
    const sd = openCheckpoint(models(m));
    assert.equal(sd.names().length, 39, m);
    assert.ok(sd.names().every((n) => n.startsWith('vision_model.')), m);
    sd.close?.();
  }
  const bpe = openCheckpoint(models('tiny-clip-bpe'));
  assert.deepEqual(bpe.info('text_model.embeddings.token_embedding.weight').shape, [49408, 32]);
  bpe.close?.();
});

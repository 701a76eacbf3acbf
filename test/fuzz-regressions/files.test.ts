/**
 * Inputs that once broke the "one UserError" rule in model files and the hub cache: each failed before
 * its fix with a JS stack or an escape from the cache folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIPImageProcessor } from '../../src/models/clip/image-processor.js';
import { readClipConfig } from '../../src/models/clip/config.js';
import { CLIPTokenizer } from '../../src/models/clip/tokenizer.js';
import { openSafetensors } from '../../src/tensor/safetensors-read.js';
import { readRef, readTreeCache, repoCache } from '../../src/hub/cache-layout.js';
import { parseTorchDtype } from '../../src/modelpool/dtype-view.js';
import { buildReport } from '../../src/taskpool/clip-vision/report.js';
import { repoRoot } from '../helpers/paths.js';
import { failsWithUserError, tempDir } from './support.js';

test('preprocessor_config.json with "crop_size": 1e308 is a UserError, not an Infinity-length typed array', async () => {
  await failsWithUserError(() => CLIPImageProcessor.fromConfig({ crop_size: 1e308 }, 'pp.json'), /pp\.json: "crop_size" must be an integer from 1 to 4096, got 1e\+308/);
  await failsWithUserError(() => CLIPImageProcessor.fromConfig({ size: { shortest_edge: 1e300 } }, 'pp.json'), /"size.shortest_edge"/);
  await failsWithUserError(() => CLIPImageProcessor.fromConfig({ crop_size: { height: 224, width: 2 ** 40 } }, 'pp.json'), /"crop_size.width"/);
  assert.deepEqual(CLIPImageProcessor.fromConfig({ crop_size: 336 }, 'pp.json').config.cropSize, { height: 336, width: 336 });
});

test('config.json sizes beyond any model (image_size 1e308, hidden_size 2^40) are UserErrors naming the key', async () => {
  await failsWithUserError(() => readClipConfig({ model_type: 'clip', vision_config: { image_size: 1e308 } }, 'cfg.json'), /cfg\.json vision_config: "image_size" must be an integer from 1 to 4096/);
  await failsWithUserError(() => readClipConfig({ model_type: 'clip', text_config: { hidden_size: 2 ** 40 } }, 'cfg.json'), /"hidden_size"/);
});

test('a safetensors header that names a tensor twice says "duplicate"', async (t) => {
  const dir = tempDir(t);
  const entry = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
  const header = Buffer.from(`{"w":${entry},"w":${entry}}`);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const path = join(dir, 'dup.safetensors');
  writeFileSync(path, Buffer.concat([len, header, Buffer.alloc(4)]));
  await failsWithUserError(() => openSafetensors(path), /dup\.safetensors: safetensors header names tensor "w" twice \(duplicate key\)/);
});

test('tokenizer files of unexpected types: fractional model_max_length, huge ids', async (t) => {
  const dir = tempDir(t);
  for (const f of ['vocab.json', 'merges.txt', 'special_tokens_map.json']) copyFileSync(join(repoRoot, 'demo/models/tiny-clip', f), join(dir, f));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 10.5 }));
  await failsWithUserError(() => CLIPTokenizer.fromDir(dir), /tokenizer_config\.json: "model_max_length" must be an integer/);
  writeFileSync(join(dir, 'tokenizer_config.json'), '{}');
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify({ '<|startoftext|>': 1e300, '<|endoftext|>': 1 }));
  await failsWithUserError(() => CLIPTokenizer.fromDir(dir), /vocab\.json: the id of token "<\|startoftext\|>" is not an integer from 0/);
});

test("hub cache refs: a ref holding a path is refused (it would become a folder name); '..' revisions stay in refs/", async (t) => {
  const hub = tempDir(t);
  const c = repoCache(hub, { repoId: 'org/name', repoType: 'model' });
  mkdirSync(join(c.storage, 'refs'), { recursive: true });
  writeFileSync(join(c.storage, 'refs', 'main'), '../../../../etc');
  await failsWithUserError(() => readRef(c, 'main'), /ref file .*main holds "\.\.\/\.\.\/\.\.\/\.\.\/etc", not a 40-hex commit hash/);
  await failsWithUserError(() => readRef(c, '../../x'), /revision "\.\.\/\.\.\/x" is not a usable branch or tag name/);
  writeFileSync(join(c.storage, 'refs', 'main'), `${'a'.repeat(40)}\n`);
  assert.equal(readRef(c, 'main'), 'a'.repeat(40));
  // A listing whose names leave the snapshot or whose ids are not hashes is not trusted.
  mkdirSync(join(c.storage, 'trees'), { recursive: true });
  const good = { size: 1, blob_id: 'b'.repeat(40) };
  for (const files of [{ '../../x': good }, { ok: { size: 1, blob_id: '../x' } }, { ok: { size: -1, blob_id: 'b'.repeat(40) } }]) {
    writeFileSync(join(c.storage, 'trees', `${'a'.repeat(40)}.json`), JSON.stringify({ format_version: 1, files }));
    assert.equal(readTreeCache(c, 'a'.repeat(40)), null);
  }
});

test('model and task names that are Object.prototype members stay data', async () => {
  await failsWithUserError(() => parseTorchDtype('constructor', 'modelpool.models.m'), /torch_dtype must be one of/);
  await failsWithUserError(() => parseTorchDtype('toString', 'modelpool.models.m'), /torch_dtype must be one of/);
  const report = buildReport({ trainable_params: 1, all_params: 1, trainable_percentage: 1 }, [['__proto__', { accuracy: 0.5, loss: 1 }], ['constructor', { accuracy: 1, loss: 0 }]]);
  assert.equal(Object.getPrototypeOf(report), Object.prototype);
  assert.deepEqual(Object.keys(report).sort(), ['__proto__', 'average', 'constructor', 'model_info']);
});

test('merging-weights: a .npy whose header is cut short, names no sizes, or claims more data than it has is one UserError', async () => {
  const { readTensorFile } = await import('../../src/grad/io/tensor-file.js');
  const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { isUserError } = await import('../../src/errors.js');
  const dir = mkdtempSync(join(tmpdir(), 'npy-'));
  try {
    const npy = (major: number, header: string, body = new Uint8Array(0)) => {
      const h = Buffer.from(header, 'latin1');
      const pre = major === 1 ? Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 0xff, h.length >> 8]) : Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]), Buffer.from(Uint32Array.of(h.length).buffer)]);
      return Buffer.concat([pre, h, body]);
    };
    const cases: [string, Buffer][] = [
      ['fuzz finding: version 78, 10 bytes', Buffer.from([147, 78, 85, 77, 80, 89, 147, 78, 1, 0])],
      ['negative shape', npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }")],
      ['huge shape, no data', npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000,), }")],
      ['header longer than the file', Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]), Buffer.from(Uint32Array.of(1000).buffer)])],
    ];
    for (const [what, bytes] of cases) {
      const p = join(dir, 'w.npy');
      writeFileSync(p, bytes);
      assert.throws(() => readTensorFile(p), (e) => isUserError(e), what);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * The on-disk crop cache (src/image/crop-disk-cache.ts): what is read back is what was written; a change
 * to a data file's contents, the processor config, the rows or the load options misses; a damaged file
 * is a miss, never a crash; and two processes writing the same entry while it is read never show a
 * reader half a file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cropCacheDir, cropCacheKey, readCrops, writeCrops, type DiskCrop } from '../../src/image/crop-disk-cache.js';

/** Deterministic crops: the same arguments give the same bytes in any process. */
function makeCrops(n: number, size: number, seed: number): DiskCrop[] {
  const out: DiskCrop[] = [];
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    const data = new Uint8Array(size * size * 3);
    for (let k = 0; k < data.length; k++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      data[k] = s >>> 24;
    }
    out.push({ data, height: size, width: size, label: i % 10 });
  }
  return out;
}

function withDir(fn: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-crops-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const processor = { size: 28, crop: 28, resample: 3 };

test('crops read back as written; a changed data file, processor, rows or load options misses', withDir((dir) => {
  const data = join(dir, 'test.parquet');
  writeFileSync(data, 'parquet bytes v1');
  const cache = join(dir, 'cache');
  const parts = { files: [data], dataset: { path: 'parquet', split: 'test' }, processor, rows: [0, 1, 2] };
  const key = cropCacheKey(parts)!;
  assert.equal(readCrops(cache, key), null, 'nothing cached yet');
  const crops = makeCrops(3, 5, 1);
  writeCrops(cache, key, crops);
  assert.deepEqual(readCrops(cache, key), crops);
  assert.ok(readCrops(cache, key)!.every((c) => c.data.buffer instanceof SharedArrayBuffer), 'read into shared memory (posted to the preprocessing thread without a copy)');
  assert.deepEqual(cropCacheKey(parts), key, 'the same inputs give the same key');

  const misses: [string, typeof parts][] = [
    ['processor', { ...parts, processor: { ...processor, crop: 24 } }],
    ['rows', { ...parts, rows: [0, 2, 1] }],
    ['load options', { ...parts, dataset: { path: 'parquet', split: 'train' } }],
  ];
  for (const [what, p] of misses) {
    const k = cropCacheKey(p)!;
    assert.notEqual(k.file, key.file, what);
    assert.equal(readCrops(cache, k), null, what);
  }
  // same size, other contents
  writeFileSync(data, 'parquet bytes v2');
  const changed = cropCacheKey(parts)!;
  assert.notEqual(changed.hash, key.hash, 'a data file with other contents has another key');
  assert.equal(readCrops(cache, changed), null);
  // back to the old contents: the old entry is valid again
  writeFileSync(data, 'parquet bytes v1');
  assert.deepEqual(readCrops(cache, cropCacheKey(parts)!), crops);
  assert.equal(cropCacheKey({ ...parts, files: [] }), null, 'rows from no file are not cached');
}));

test('a damaged or foreign cache file is a miss', withDir((dir) => {
  const data = join(dir, 'd.parquet');
  writeFileSync(data, 'x');
  const cache = join(dir, 'cache');
  const key = cropCacheKey({ files: [data], dataset: null, processor, rows: [0, 1] })!;
  const path = writeCrops(cache, key, makeCrops(2, 4, 2));
  const whole = readFileSync(path);
  truncateSync(path, whole.length - 1);
  assert.equal(readCrops(cache, key), null, 'truncated');
  writeFileSync(path, Buffer.concat([whole, Buffer.from([0])]));
  assert.equal(readCrops(cache, key), null, 'trailing bytes');
  writeFileSync(path, 'not a crop file');
  assert.equal(readCrops(cache, key), null, 'not a crop file');
  // another key's (complete) file under this name
  const other = cropCacheKey({ files: [data], dataset: null, processor, rows: [1, 0] })!;
  writeFileSync(path, readFileSync(writeCrops(cache, other, makeCrops(2, 4, 3))));
  assert.equal(readCrops(cache, key), null, 'a file written for another key');
}));

test('two processes writing one entry while it is read: every read is the whole entry (or a miss before the first write ends), and no temporary file stays', withDir(async (dir) => {
  const data = join(dir, 'd.parquet');
  writeFileSync(data, 'shared data file');
  const cache = join(dir, 'cache');
  const n = 300;
  const size = 48; // ~2 MB a file: a write takes many system calls
  const key = cropCacheKey({ files: [data], dataset: null, processor, rows: Array.from({ length: n }, (_, i) => i) })!;
  const want = makeCrops(n, size, 7);
  const digest = (crops: DiskCrop[]) => {
    const h = createHash('sha256');
    for (const c of crops) h.update(c.data).update(`${c.height}x${c.width}:${c.label}`);
    return h.digest('hex');
  };
  const wantDigest = digest(want);
  const mod = new URL('../../src/image/crop-disk-cache.js', import.meta.url).href;
  const writer = `
    const m = await import(${JSON.stringify(mod)});
    const key = ${JSON.stringify(key)};
    ${makeCrops.toString()}
    const crops = makeCrops(${n}, ${size}, 7);
    for (let i = 0; i < 25; i++) m.writeCrops(${JSON.stringify(cache)}, key, crops);
  `;
  const exits = [0, 1].map(() => new Promise<number | null>((done) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', writer], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('close', done);
  }));
  let running = exits.length;
  for (const e of exits) void e.then(() => running--);
  let reads = 0;
  let hits = 0;
  // read as long as a writer runs (each read is checked, whatever the interleaving), then once more
  for (;;) {
    const last = running === 0;
    const got = readCrops(cache, key);
    reads++;
    if (got !== null) {
      hits++;
      assert.equal(digest(got), wantDigest, `read ${reads}: a complete entry`);
    } else {
      // once an entry is in place, a rename only ever replaces it by another whole file
      assert.equal(hits, 0, `read ${reads}: a miss after ${hits} hits (a reader saw a file being written)`);
    }
    if (last) break;
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(await Promise.all(exits), [0, 0], 'both writers finished');
  assert.ok(hits >= 1, 'the entry was read back');
  assert.deepEqual(readdirSync(cropCacheDir(cache)), [key.file], 'one entry, no temporary file left');
}));

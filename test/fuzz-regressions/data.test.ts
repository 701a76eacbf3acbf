/**
 * Inputs that once broke the "one UserError" rule in datasets: parquet shards that hung hyparquet or
 * threw outside the error handling, PNG bombs, and split or data_files names that are Object.prototype
 * members. Each failed before its fix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deflateSync } from 'node:zlib';
import { encode as encodePng } from 'fast-png';
import { parquetWriteFile } from 'hyparquet-writer';
import { openShard, readRowGroup } from '../../src/data/parquet-shard.js';
import { nestedFooter } from '../../fuzz/targets/parquet.js';
import { ImageClassificationDataset } from '../../src/data/image-classification.js';
import { dataFilesBySplit, globToRegExp, parseDatasetCard, resolveSplitFiles } from '../../src/data/data-files.js';
import { decodeImage } from '../../src/image/decode.js';
import { writeHfParquetDataset } from '../helpers/datasets.js';
import { repoRoot } from '../helpers/paths.js';
import { failsWithUserError, tempDir } from './support.js';

const inputs = join(repoRoot, 'test', 'fuzz-regressions', 'inputs');
const here = dirname(fileURLToPath(import.meta.url));

test('a bit-packed run whose length wraps in 32 bits (hyparquet loops forever) is refused before decoding', async () => {
  // A V2 page of dictionary indices with bit width 0 and a run header of 0x20000001 (saved fuzz input).
  const shard = await openShard(join(inputs, 'bitpacked-run-wraps.parquet'), 'ds');
  await failsWithUserError(() => readRowGroup(shard, 0, ['s'], 'ds'), /^ds: cannot read row group 0 of .*bitpacked-run-wraps\.parquet: .*dictionary indices: a bit-packed run of 2147483648 values where 200 remain/);
});

test("a snappy literal whose 4-byte length is negative to hyparquet's decoder (it loops forever) is refused", async () => {
  // Saved fuzz input: the literal tag 0xfc with length bytes fa ff ff ff moves hyparquet's read position
  // back onto the tag; our decoder reads the length unsigned and finds it past the data.
  const shard = await openShard(join(inputs, 'snappy-negative-literal.parquet'), 'ds');
  await failsWithUserError(() => readRowGroup(shard, 0, ['n'], 'ds'), /^ds: cannot read row group 0 of .*: snappy: literal past the end/);
});

test('RLE runs of length 0 and runs past the page are refused', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'x.parquet');
  parquetWriteFile({ filename: file, codec: 'UNCOMPRESSED', columnData: [{ name: 's', data: Array.from({ length: 200 }, (_, i) => `v${(i * 7) % 3}`) }] });
  const clean = readFileSync(file);
  // The page body starts with the bit width byte; the saved input tells where (same writer, same data).
  const wraps = readFileSync(join(inputs, 'bitpacked-run-wraps.parquet'));
  let body = 0;
  while (body < clean.length && clean[body] === wraps[body]) body++;
  for (const [what, bytes] of [['of length 0', [2, 0]], ['of 1073741823 values', [2, 0xfe, 0xff, 0xff, 0xff, 0x07]]] as const) {
    const b = Buffer.from(clean);
    b.set(bytes, body);
    writeFileSync(file, b);
    const shard = await openShard(file, 'ds');
    await failsWithUserError(() => readRowGroup(shard, 0, ['s'], 'ds'), new RegExp(`an RLE run ${what}`));
  }
  writeFileSync(file, clean);
  assert.equal((await readRowGroup(await openShard(file, 'ds'), 0, ['s'], 'ds')).length, 200);
});

test('a footer whose schema claims more children than it has is a UserError naming the file, not a TypeError', async () => {
  await failsWithUserError(() => openShard(join(inputs, 'schema-children.parquet'), 'ds'), /^ds: .*schema-children\.parquet is not a readable parquet file/);
});

test('a schema element with a negative child count (hyparquet\'s GeoParquet marking looped forever on it) is a UserError naming it', () => {
  // Saved fuzz input (seed 7031): 'tags' claims -2 children. Run in a child process with a time limit, so
  // that a regression fails here instead of hanging the suite (the loop is synchronous).
  const file = join(inputs, 'schema-negative-children.parquet');
  const script = `import(${JSON.stringify(pathToFileURL(join(here, '..', '..', 'src', 'data', 'parquet-shard.js')).href)})
    .then((m) => m.openShard(${JSON.stringify(file)}, 'ds'))
    .then(() => console.log('opened'), (e) => console.log(e.constructor.name + ': ' + e.message));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.signal, null, 'openShard did not finish within 30 s');
  assert.match(r.stdout.trim(), /^UserError: ds: .*schema-negative-children\.parquet is not a readable parquet file: schema element 6 \('tags'\) has -2 children$/);
});

test('a footer of thrift structs nested 100 000 deep is a UserError in words, not "Maximum call stack size exceeded"', async (t) => {
  const file = join(tempDir(t), 'deep.parquet');
  writeFileSync(file, nestedFooter(100_000));
  await failsWithUserError(() => openShard(file, 'ds'), /^ds: .*deep\.parquet is not a readable parquet file: its thrift metadata nests structures thousands deep, which no parquet writer does$/);
});

test('a truncated page header is a UserError, and nothing is left to reject unhandled', async (t) => {
  const dir = tempDir(t);
  const b = Buffer.from(readFileSync(join(repoRoot, 'test/fixtures/parquet/v1-snappy.parquet')));
  const shard0 = await openShard(join(repoRoot, 'test/fixtures/parquet/v1-snappy.parquet'), 'ds');
  const meta = shard0.metadata.row_groups[0]!.columns[1]!.meta_data!;
  const start = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
  b.fill(0xff, start, start + 6);
  const file = join(dir, 'cut.parquet');
  writeFileSync(file, b);
  const shard = await openShard(file, 'ds');
  await failsWithUserError(() => readRowGroup(shard, 0, ['image', 'label'], 'ds'), /^ds: cannot read row group 0/);
});

test('parquet files from arrow-rs (V1 and V2 pages, dictionaries, nulls, lists) pass the validation unchanged', async () => {
  for (const f of ['v1-snappy.parquet', 'v2-snappy.parquet']) {
    const shard = await openShard(join(repoRoot, 'test/fixtures/parquet', f), 'ds');
    let rows = 0;
    for (let rg = 0; rg < shard.rowGroupStarts.length - 1; rg++) rows += (await readRowGroup(shard, rg, ['image', 'label', 'flag', 'tags'], 'ds')).length;
    assert.equal(rows, 3000, f);
  }
});

test('a parquet split with 0 rows is an error naming the dataset, not accuracy: null', async (t) => {
  const dir = tempDir(t);
  const file = writeHfParquetDataset(dir, { split: 'test', images: [], labels: [] });
  await failsWithUserError(() => ImageClassificationDataset.fromParquetFiles([file], { name: 'tanganke/empty (split test)' }), /^tanganke\/empty \(split test\): its parquet file holds no rows/);
});

/** A 28×28 grey PNG whose IDAT inflates to `inflated` bytes. */
function pngBomb(inflated: number): Uint8Array {
  const png = Buffer.from(encodePng({ width: 28, height: 28, data: new Uint8Array(28 * 28), channels: 1 }));
  const idat = png.indexOf('IDAT') - 4;
  const len = png.readUInt32BE(idat);
  const data = deflateSync(Buffer.alloc(inflated));
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write('IDAT', 4, 'latin1');
  data.copy(chunk, 8);
  let c = ~0;
  for (const byte of chunk.subarray(4, 8 + data.length)) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  chunk.writeUInt32BE(~c >>> 0, 8 + data.length);
  return Buffer.concat([png.subarray(0, idat), chunk, png.subarray(idat + 12 + len)]);
}

test('a PNG that declares 28×28 but whose IDAT inflates to 16 MB is refused as a bomb, naming dataset and row', async (t) => {
  await failsWithUserError(() => decodeImage(pngBomb(16 << 20), 'mnist row 3'), /^mnist row 3: its image data inflates to more than the 812 bytes its 28x28 header allows/);
  // The exact size still decodes.
  assert.equal(decodeImage(pngBomb(28 * 29), 'ok').width, 28);
  const dir = tempDir(t);
  const file = writeHfParquetDataset(dir, { split: 'test', images: [pngBomb(28 * 29), pngBomb(16 << 20)], labels: [1, 2] });
  const ds = await ImageClassificationDataset.fromParquetFiles([file], { name: 'ylecun/mnist (split test)' });
  await failsWithUserError(() => ds.getRGB(1), /^ylecun\/mnist \(split test\) row 1: its image data inflates/);
});

test('a PNG refused for its declared size names the dataset and row', async () => {
  const png = Buffer.from(encodePng({ width: 1, height: 1, data: new Uint8Array(3), channels: 3 }));
  png.writeUInt32BE(14000, 16);
  png.writeUInt32BE(14000, 20);
  await failsWithUserError(() => decodeImage(png, 'cars row 9'), /^cars row 9: image size 14000x14000/);
});

test('split names and data_files keys that are Object.prototype members stay data', async () => {
  const files = ['data/train-0.parquet', 'data/test-0.parquet'];
  for (const split of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    await failsWithUserError(() => resolveSplitFiles(files, null, undefined, split, 'ds'), /no parquet files for split/);
  }
  const bySplit = dataFilesBySplit(JSON.parse('{"__proto__": "data/test-*", "train": "data/train-*"}') as Record<string, string>, 'ds');
  assert.deepEqual(Object.keys(bySplit).sort(), ['__proto__', 'train']);
  assert.equal(Object.getPrototypeOf(bySplit), Object.prototype);
  const card = parseDatasetCard('---\nconfigs:\n- config_name: default\n  data_files:\n  - split: __proto__\n    path: data/test-*\n  - split: train\n    path: data/train-*\n---\n', 'ds');
  assert.deepEqual(resolveSplitFiles(files, card, undefined, '__proto__', 'ds').files, ['data/test-0.parquet']);
  await failsWithUserError(() => resolveSplitFiles(files, card, undefined, 'constructor', 'ds'), /config 'default' has no split 'constructor'/);
});

test('glob patterns: no exponential backtracking, and a bad class is a UserError naming the pattern', async () => {
  const name = 'a'.repeat(60);
  assert.equal(globToRegExp('*a'.repeat(30) + 'b').test(name), false);
  assert.equal(globToRegExp('**a'.repeat(30) + 'b').test(name), false);
  assert.equal(globToRegExp('*a'.repeat(30)).test(name), true);
  await failsWithUserError(() => globToRegExp('data/[z-a]*', 'ds'), /ds: pattern 'data\/\[z-a\]\*' has an invalid character class/);
});

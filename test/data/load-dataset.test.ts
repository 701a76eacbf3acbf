import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { loadImageClassificationDataset } from '../../src/data/load.js';
import { fer2013OptionsFromCall } from '../../src/data/load-dataset-call.js';
import type { DatasetHubClient } from '../../src/data/hub-client.js';
import { UserError } from '../../src/errors.js';
import { idxSliceAsPngs, writeDatasetCard, writeHfParquetDataset } from '../helpers/datasets.js';
import { needsShared, sharedPath } from '../helpers/paths.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'fb-data-'));
}

/** n small grey PNGs whose first pixel encodes the row index. */
function syntheticImages(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => encodePng({ width: 2, height: 2, channels: 1, depth: 8, data: Uint8Array.from([i % 256, 1, 2, 3]) }));
}

test('real MNIST rows through the HF parquet writer and the loader keep labels and pixels', needsShared(), async () => {
  const dir = tempDir();
  try {
    const start = 1234;
    const n = 250;
    const src = idxSliceAsPngs(sharedPath('data', 'mnist', 't10k-images-idx3-ubyte.gz'), sharedPath('data', 'mnist', 't10k-labels-idx1-ubyte.gz'), start, n);
    const names = Array.from({ length: 10 }, (_, i) => String(i));
    writeHfParquetDataset(dir, { split: 'test', images: src.images, labels: src.labels, labelNames: names, rowGroupSize: 64 });
    const ds = await loadImageClassificationDataset({ path: dir, split: 'test' });
    assert.equal(ds.length, n);
    assert.deepEqual(ds.features.labelNames, names);
    // Out of order, across row groups.
    for (const i of [0, 200, 63, 64, 249, 1, 130]) {
      const ex = await ds.getRGB(i);
      assert.equal(ex.label, src.labels[i], `label of row ${i}`);
      assert.deepEqual([ex.image.width, ex.image.height], [28, 28]);
      const grey = new Uint8Array(28 * 28);
      for (let p = 0; p < grey.length; p++) grey[p] = ex.image.data[p * 3]!;
      assert.ok(Buffer.from(grey).equals(Buffer.from(src.pixels[i]!)), `pixels of row ${i} (MNIST test ${start + i})`);
    }
    const labelsRead: number[] = [];
    for (let i = 0; i < n; i++) labelsRead.push((await ds.get(i)).label);
    assert.deepEqual(labelsRead, src.labels);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('local layouts: data/, <config>/, <split>/ folders and the parquet builder', async () => {
  const dir = tempDir();
  try {
    const imgs = syntheticImages(5);
    writeHfParquetDataset(join(dir, 'a'), { split: 'test', images: imgs, labels: [0, 1, 2, 3, 4] });
    writeHfParquetDataset(join(dir, 'a'), { split: 'train', images: imgs.slice(0, 2), labels: [4, 4] });
    writeHfParquetDataset(join(dir, 'b'), { split: 'test', images: imgs.slice(0, 3), labels: [1, 1, 1], config: 'digits' });
    writeHfParquetDataset(join(dir, 'b'), { split: 'test', images: imgs.slice(0, 4), labels: [2, 2, 2, 2], config: 'other' });
    writeHfParquetDataset(join(dir, 'c'), { split: 'test', images: imgs.slice(0, 2), labels: [0, 1], config: 'test', fileName: 'part-0.parquet' });
    writeHfParquetDataset(join(dir, 'c'), { split: 'test', images: imgs.slice(0, 1), labels: [1], config: 'test', fileName: 'part-1.parquet' });

    assert.equal((await loadImageClassificationDataset({ path: join(dir, 'a'), split: 'test' })).length, 5);
    assert.equal((await loadImageClassificationDataset({ path: join(dir, 'a'), split: 'train' })).length, 2);
    const b = await loadImageClassificationDataset({ path: join(dir, 'b'), name: 'digits', split: 'test' });
    assert.equal(b.length, 3);
    assert.equal((await b.get(2)).label, 1);
    const c = await loadImageClassificationDataset({ path: join(dir, 'c'), split: 'test' });
    assert.equal(c.length, 3);
    assert.equal((await c.get(2)).label, 1, 'shards concatenate in name order');

    const viaBuilder = await loadImageClassificationDataset({ path: 'parquet', data_files: { test: 'a/data/test-*.parquet' }, split: 'test' }, { cwd: dir });
    assert.equal(viaBuilder.length, 5);
    assert.equal((await viaBuilder.get(3)).label, 3);
    const listed = await loadImageClassificationDataset({ path: 'parquet', data_files: [join(dir, 'c/test/part-0.parquet'), join(dir, 'c/test/part-1.parquet')], split: 'train' });
    assert.equal(listed.length, 3);
    await assert.rejects(loadImageClassificationDataset({ path: 'parquet', data_files: 'nothing-*.parquet', split: 'train' }, { cwd: dir }), UserError);
    await assert.rejects(loadImageClassificationDataset({ path: 'parquet', data_files: { test: 'x' }, split: 'train' }), (e: unknown) => e instanceof UserError && /no split 'train'/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a dataset card selects config files and class names', async () => {
  const dir = tempDir();
  try {
    writeHfParquetDataset(dir, { split: 'test', images: syntheticImages(3), labels: [0, 2, 1], config: 'cropped_digits' });
    writeDatasetCard(
      dir,
      `dataset_info:
  config_name: cropped_digits
  features:
  - name: image
    dtype: image
  - name: label
    dtype:
      class_label:
        names:
          '0': zero
          '1': one
          '2': two
configs:
- config_name: cropped_digits
  data_files:
  - split: test
    path: cropped_digits/test-*`,
    );
    const ds = await loadImageClassificationDataset({ path: dir, name: 'cropped_digits', split: 'test' });
    assert.equal(ds.length, 3);
    // The footer has no class names (written without labelNames), so the card's apply.
    assert.deepEqual(ds.features.labelNames, ['zero', 'one', 'two']);
    assert.equal((await ds.get(1)).label, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad data: corrupt image, missing column, label out of range → UserError naming dataset and row', async () => {
  const dir = tempDir();
  try {
    const imgs = syntheticImages(4);
    imgs[2] = imgs[2]!.slice(0, 20);
    writeHfParquetDataset(join(dir, 'corrupt'), { split: 'test', images: imgs, labels: [0, 1, 0, 1], labelNames: ['a', 'b'] });
    const ds = await loadImageClassificationDataset({ path: join(dir, 'corrupt'), split: 'test' });
    await ds.getRGB(1);
    await assert.rejects(ds.getRGB(2), (e: unknown) => e instanceof UserError && /dataset .*corrupt.*split test.* row 2: corrupt PNG/.test(e.message));

    writeHfParquetDataset(join(dir, 'range'), { split: 'test', images: syntheticImages(3), labels: [0, 5, 1], labelNames: ['a', 'b'] });
    const r = await loadImageClassificationDataset({ path: join(dir, 'range'), split: 'test' });
    await assert.rejects(r.get(0), (e: unknown) => e instanceof UserError && /row 1: label 5 is outside the classes 0\.\.1/.test(e.message));

    await assert.rejects(
      loadImageClassificationDataset({ path: join(dir, 'range'), split: 'test', labelColumn: 'fine_label' }),
      (e: unknown) => e instanceof UserError && /range.*has no 'fine_label' column/.test(e.message),
    );
    mkdirSync(join(dir, 'junk', 'data'), { recursive: true });
    writeFileSync(join(dir, 'junk', 'data', 'test-00000-of-00001.parquet'), 'not parquet at all');
    await assert.rejects(loadImageClassificationDataset({ path: join(dir, 'junk'), split: 'test' }), (e: unknown) => e instanceof UserError && /not a readable parquet file/.test(e.message));
    await assert.rejects(loadImageClassificationDataset({ path: join(dir, 'range'), split: 'validation' }), UserError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A hub client over a local folder standing in for a repo snapshot (records what was asked). */
function folderHub(root: string, files: string[], log: string[]): DatasetHubClient {
  return {
    listRepoFiles: async (r) => {
      log.push(`list ${r.repoId}@${r.revision ?? 'main'}`);
      return files;
    },
    download: async (f) => {
      log.push(`get ${f.filename}`);
      return join(root, f.filename);
    },
  };
}

test('hub repos: files chosen from the card, only the split downloaded', async () => {
  const dir = tempDir();
  try {
    writeHfParquetDataset(dir, { split: 'test', images: syntheticImages(3), labels: [7, 8, 9], config: 'mnist', labelNames: Array.from({ length: 10 }, (_, i) => String(i)) });
    writeHfParquetDataset(dir, { split: 'train', images: syntheticImages(2), labels: [1, 2], config: 'mnist' });
    writeDatasetCard(dir, `configs:\n- config_name: mnist\n  data_files:\n  - split: train\n    path: mnist/train-*\n  - split: test\n    path: mnist/test-*\n  default: true`);
    const files = ['.gitattributes', 'README.md', 'mnist/test-00000-of-00001.parquet', 'mnist/train-00000-of-00001.parquet'];
    const log: string[] = [];
    const ds = await loadImageClassificationDataset({ path: 'ylecun/mnist', split: 'test', revision: 'abc' }, { hub: folderHub(dir, files, log), cwd: dir });
    assert.equal(ds.length, 3);
    assert.equal((await ds.get(2)).label, 9);
    assert.deepEqual(log, ['list ylecun/mnist@abc', 'get README.md', 'get mnist/test-00000-of-00001.parquet']);
    await assert.rejects(
      loadImageClassificationDataset({ path: 'ylecun/mnist', name: 'fashion', split: 'test' }, { hub: folderHub(dir, files, []), cwd: dir }),
      (e: unknown) => e instanceof UserError && /no config named 'fashion'/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('real SVHN PNGs as a cropped_digits config folder', needsShared(), async () => {
  const dir = tempDir();
  try {
    const labels = [5, 1, 8, 9, 4];
    const { readFileSync } = await import('node:fs');
    const images = labels.map((y, n) => new Uint8Array(readFileSync(sharedPath('data', 'svhn', `image_${n}_label${y}.png`))));
    writeHfParquetDataset(dir, { split: 'test', images, labels, config: 'cropped_digits' });
    const copy = join(dir, 'copy', 'cropped_digits', 'test-00000-of-00001.parquet');
    mkdirSync(dirname(copy), { recursive: true });
    copyFileSync(join(dir, 'cropped_digits', 'test-00000-of-00001.parquet'), copy);
    const ds = await loadImageClassificationDataset({ path: join(dir, 'copy'), name: 'cropped_digits', split: 'test' });
    const raw = readFileSync(sharedPath('data', 'svhn', 'images_5x32x32x3_uint8.bin'));
    for (let i = 0; i < 5; i++) {
      const ex = await ds.getRGB(i);
      assert.equal(ex.label, labels[i]);
      assert.ok(Buffer.from(ex.image.data).equals(raw.subarray(i * 3072, (i + 1) * 3072)));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("fer2013 (fusion_bench's load_fer2013): the WebDataset repo's parquet export, read through its jpg / cls columns", async () => {
  const dir = tempDir();
  try {
    // The repo holds tar shards only; its parquet export keeps the WebDataset column names.
    writeHfParquetDataset(join(dir, 'export'), { split: 'test', images: syntheticImages(4), labels: [3, 0, 6, 2], config: 'default/test', fileName: '0000.parquet', columns: { image: 'jpg', label: 'cls' } });
    const log: string[] = [];
    const hub: DatasetHubClient = {
      listRepoFiles: async (r) => {
        log.push(`list ${r.repoId}@${r.revision ?? 'main'}`);
        return r.revision === 'refs/convert/parquet' ? ['default/test/0000.parquet'] : ['.gitattributes', 'README.md', 'test/0.tar', 'train/0.tar'];
      },
      download: async (f) => {
        log.push(`get ${f.filename}@${f.revision ?? 'main'}`);
        return join(dir, 'export', f.filename);
      },
    };
    const opts = fer2013OptionsFromCall([], { split: 'test' });
    assert.deepEqual(opts, { path: 'clip-benchmark/wds_fer2013', split: 'test', imageColumn: 'jpg', labelColumn: 'cls' });
    const ds = await loadImageClassificationDataset(opts, { hub, cwd: dir });
    assert.equal(ds.length, 4);
    assert.deepEqual(await Promise.all([0, 1, 2, 3].map(async (i) => (await ds.get(i)).label)), [3, 0, 6, 2]);
    assert.equal((await ds.getRGB(2)).image.data[0], 2, 'row 2 is the third image');
    assert.deepEqual(log, ['list clip-benchmark/wds_fer2013@main', 'list clip-benchmark/wds_fer2013@refs/convert/parquet', 'get default/test/0000.parquet@refs/convert/parquet']);

    // fusion_bench's defaults and argument names; anything else is refused.
    assert.deepEqual(fer2013OptionsFromCall([], {}), { path: 'clip-benchmark/wds_fer2013', split: 'train', imageColumn: 'jpg', labelColumn: 'cls' });
    assert.equal(fer2013OptionsFromCall(['me/fer'], { split: 'test' }).path, 'me/fer');
    assert.throws(() => fer2013OptionsFromCall([], { name: 'x' }), (e: unknown) => e instanceof UserError && /load_fer2013: argument 'name' is not supported \(it takes path, split\)/.test(e.message));
    assert.throws(() => fer2013OptionsFromCall(['a'], { path: 'b' }), (e: unknown) => e instanceof UserError && /'path' is given both positionally and by name/.test(e.message));
    // A copy with image / label columns is not what load_fer2013 reads.
    writeHfParquetDataset(join(dir, 'plain'), { split: 'test', images: syntheticImages(1), labels: [0] });
    await assert.rejects(
      loadImageClassificationDataset(fer2013OptionsFromCall([join(dir, 'plain')], { split: 'test' })),
      (e: unknown) => e instanceof UserError && /has no 'jpg' column \(columns: image, label\)/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

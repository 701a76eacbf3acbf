import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { loadImageClassificationDataset } from '../../src/data/load.js';
import { hubClient } from '../../src/data/hub-client.js';
import { UserError } from '../../src/errors.js';
import { writeDatasetCard, writeHfParquetDataset } from '../helpers/datasets.js';
import { startFakeHub } from '../helpers/hub-server.js';

const MNIST_CARD = `dataset_info:
  config_name: mnist
  features:
  - name: image
    dtype: image
  - name: label
    dtype:
      class_label:
        names:
          '0': '0'
          '1': '1'
          '2': '2'
          '3': '3'
          '4': '4'
          '5': '5'
          '6': '6'
          '7': '7'
          '8': '8'
          '9': '9'
configs:
- config_name: mnist
  data_files:
  - split: train
    path: mnist/train-*
  - split: test
    path: mnist/test-*
  default: true`;

test('ylecun/mnist-shaped repo through the hub client on 127.0.0.1, then offline from the cache', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-hubdata-'));
  const repo = join(dir, 'hub', 'datasets', 'ylecun', 'mnist', 'main');
  const images = Array.from({ length: 6 }, (_, i) => encodePng({ width: 3, height: 3, channels: 1, depth: 8, data: new Uint8Array(9).fill(i * 40) }));
  const labels = [7, 2, 1, 0, 4, 1];
  writeHfParquetDataset(repo, { split: 'test', images, labels, config: 'mnist', rowGroupSize: 4 });
  writeHfParquetDataset(repo, { split: 'train', images: images.slice(0, 2), labels: [5, 0], config: 'mnist' });
  writeDatasetCard(repo, MNIST_CARD);
  const hub = await startFakeHub({ root: join(dir, 'hub') });
  try {
    const settings = { endpoint: hub.url, cacheDir: join(dir, 'cache'), token: null, quiet: true };
    const ds = await loadImageClassificationDataset({ path: 'ylecun/mnist', split: 'test' }, { hub: hubClient(settings) });
    assert.equal(ds.length, 6);
    assert.equal(ds.features.labelNames?.length, 10);
    const ex = await ds.getRGB(5);
    assert.equal(ex.label, 1);
    assert.equal(ex.image.data[0], 200);
    const fetched = hub.requests.filter((r) => r.method === 'GET').map((r) => r.url);
    assert.ok(!fetched.some((u) => u.includes('train-')), 'the train split is not downloaded');

    const before = hub.requests.length;
    const offline = await loadImageClassificationDataset({ path: 'ylecun/mnist', split: 'test' }, { hub: hubClient({ ...settings, offline: true }) });
    assert.equal(offline.length, 6);
    assert.equal((await offline.get(0)).label, 7);
    assert.equal(hub.requests.length, before, 'offline loading sends no request');
  } finally {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a loading-script repo falls back to the hub parquet export (refs/convert/parquet)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-hubdata-'));
  const main = join(dir, 'hub', 'datasets', 'org', 'scripted', 'main');
  const exported = join(dir, 'hub', 'datasets', 'org', 'scripted', encodeURIComponent('refs/convert/parquet'));
  const images = Array.from({ length: 3 }, (_, i) => encodePng({ width: 2, height: 2, channels: 3, depth: 8, data: new Uint8Array(12).fill(i) }));
  mkdirSync(main, { recursive: true });
  writeFileSync(join(main, 'scripted.py'), '# a datasets loading script\n');
  writeHfParquetDataset(exported, { split: 'test', images, labels: [2, 0, 1], config: 'cropped_digits/test', fileName: '0000.parquet' });
  const hub = await startFakeHub({ root: join(dir, 'hub') });
  try {
    const client = hubClient({ endpoint: hub.url, cacheDir: join(dir, 'cache'), token: null, quiet: true });
    const ds = await loadImageClassificationDataset({ path: 'org/scripted', name: 'cropped_digits', split: 'test' }, { hub: client });
    assert.equal(ds.length, 3);
    assert.equal((await ds.get(0)).label, 2);
    await assert.rejects(
      loadImageClassificationDataset({ path: 'org/scripted', name: 'full_numbers', split: 'test' }, { hub: client }),
      (e: unknown) => e instanceof UserError && /parquet export .* no 'full_numbers\/test\/' files/.test(e.message),
    );
  } finally {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

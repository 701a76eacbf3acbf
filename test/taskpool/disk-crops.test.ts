/**
 * The task pool with the on-disk crop cache under `path.cache_dir`: a pool in another sweep (as a joblib
 * worker, another process) takes the crops an earlier one wrote and decodes nothing, with the same
 * numbers; a data set whose file changes is decoded again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cropCacheDir } from '../../src/image/crop-disk-cache.js';
import { runContext } from '../../src/run-context.js';
import { CLIPVisionModelTaskPool } from '../../src/taskpool/clip-vision/taskpool.js';
import { idxSliceAsPngs, writeHfParquetDataset } from '../helpers/datasets.js';
import { needsShared, sharedDir, sharedPath } from '../helpers/paths.js';
import { fixtureModel, openModel, VISION_TOWERS } from './support.js';

let tmp = '';
let slice: { images: Uint8Array[]; labels: number[] } = { images: [], labels: [] };

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'clip-disk-crops-'));
  if (sharedDir === null) return;
  slice = idxSliceAsPngs(sharedPath('data', 'mnist', 't10k-images-idx3-ubyte.gz'), sharedPath('data', 'mnist', 't10k-labels-idx1-ubyte.gz'), 100, 12);
});

after(() => rmSync(tmp, { recursive: true, force: true }));

function writeData(images: Uint8Array[]): void {
  writeHfParquetDataset(join(tmp, 'data'), { split: 'test', images, labels: slice.labels, labelNames: [...'0123456789'] });
}

function pool(cacheDir: string): CLIPVisionModelTaskPool {
  const clip = fixtureModel('tiny-clip-bpe');
  const cfg = { test_datasets: { mnist: { _target_: 'datasets.load_dataset', path: join(tmp, 'data'), split: 'test' } }, clip_model: clip, processor: clip, dataloader_kwargs: { batch_size: 5 } };
  // each pool in a sweep of its own: nothing shared in memory, as between two processes
  return new CLIPVisionModelTaskPool(cfg as never, runContext({ status: null, sweepCache: new Map(), cacheDir }));
}

test('a second sweep takes the crops from the disk cache and gets the same numbers; a changed data file is decoded again', needsShared(), async () => {
  const merged = openModel(VISION_TOWERS.merged!());
  const cacheDir = join(tmp, 'cache');
  const pools: CLIPVisionModelTaskPool[] = [];
  const make = () => {
    const p = pool(cacheDir);
    pools.push(p);
    return p;
  };
  try {
    writeData(slice.images);
    const first = make();
    const want = (await first.evaluate(merged)).mnist;
    assert.deepEqual(first.images, { decoded: 12, fromMemory: 0 });
    assert.equal(first.cropsFromDisk, 0);
    assert.equal(readdirSync(cropCacheDir(cacheDir)).length, 1, 'the crops were written');

    const second = make();
    assert.deepEqual((await second.evaluate(merged)).mnist, want);
    assert.equal(second.cropsFromDisk, 12);
    assert.deepEqual(second.images, { decoded: 0, fromMemory: 12 }, 'nothing decoded');

    // the same images in another order: another file's contents, so the cache misses
    writeData([...slice.images].reverse());
    const third = make();
    const got = (await third.evaluate(merged)).mnist;
    assert.equal(third.cropsFromDisk, 0);
    assert.deepEqual(third.images, { decoded: 12, fromMemory: 0 });
    assert.notDeepEqual(got, want, 'labels no longer match their images');
    assert.equal(readdirSync(cropCacheDir(cacheDir)).length, 2);
  } finally {
    await Promise.all(pools.map((p) => p.close()));
    merged.stateDict.close?.();
  }
});

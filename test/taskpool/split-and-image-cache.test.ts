/**
 * The task pool on a train_validation_split config (fusion_bench's val/*.yaml, arriving as data) evaluates
 * exactly the rows torch's random_split picks, and in a sweep keeps the preprocessed crops in memory:
 * a second evaluation decodes no image and reports the same numbers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MT19937, torchRandperm } from '../../src/data/torch-random.js';
import { runContext, type RunContext } from '../../src/run-context.js';
import { CLIPVisionModelTaskPool } from '../../src/taskpool/clip-vision/taskpool.js';
import { idxSliceAsPngs, writeHfParquetDataset } from '../helpers/datasets.js';
import { needsShared, sharedDir, sharedPath } from '../helpers/paths.js';
import { fixtureModel, openModel, VISION_TOWERS } from './support.js';

let tmp = '';
const N = 20;
let valRows: number[] = [];

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'clip-split-'));
  if (sharedDir === null) return;
  const slice = idxSliceAsPngs(sharedPath('data', 'mnist', 't10k-images-idx3-ubyte.gz'), sharedPath('data', 'mnist', 't10k-labels-idx1-ubyte.gz'), 300, N);
  writeHfParquetDataset(join(tmp, 'slice'), { split: 'train', images: slice.images, labels: slice.labels, labelNames: [...'0123456789'], rowGroupSize: 7 });
  // What fusion_bench's split (fraction 0.25, seed 0) takes as validation rows, written out as a data set of its own.
  valRows = Array.from(torchRandperm(N, new MT19937(0))).slice(N - 5);
  writeHfParquetDataset(join(tmp, 'val-only'), { split: 'train', images: valRows.map((r) => slice.images[r]!), labels: valRows.map((r) => slice.labels[r]!), labelNames: [...'0123456789'] });
});

after(() => {
  rmSync(tmp, { recursive: true, force: true });
  delete process.env.FUSION_BENCH_IMAGE_CACHE_MB;
});

const splitConfig = () => ({
  _target_: 'fusion_bench.utils.data.train_validation_split',
  dataset: { _target_: 'datasets.load_dataset', path: join(tmp, 'slice'), split: 'train' },
  validation_fraction: 0.25,
  validation_size: null,
  random_seed: 0,
  return_split: 'val',
});

function poolConfig(dataset: unknown, batchSize = 2): Record<string, unknown> {
  const clip = fixtureModel('tiny-clip-bpe');
  return { test_datasets: { mnist: dataset }, clip_model: clip, processor: clip, dataloader_kwargs: { batch_size: batchSize } };
}

test('a split config evaluates the same rows as fusion_bench; the crops are reused across evaluations and pools', needsShared(), async () => {
  const merged = openModel(VISION_TOWERS.merged!());
  const pools: CLIPVisionModelTaskPool[] = [];
  let ctx: RunContext = runContext({ status: null });
  const make = (cfg: Record<string, unknown>) => {
    const p = new CLIPVisionModelTaskPool(cfg as never, ctx);
    pools.push(p);
    return p;
  };
  try {
    // Uncached references: the validation rows as a data set of their own, batch sizes 2 and 3.
    ctx = runContext({ status: null });
    const valOnly = { _target_: 'datasets.load_dataset', path: join(tmp, 'val-only'), split: 'train' };
    const want2 = (await make(poolConfig(valOnly, 2)).evaluate(merged)).mnist;
    const want3 = (await make(poolConfig(valOnly, 3)).evaluate(merged)).mnist;

    const plain = make(poolConfig(splitConfig(), 2));
    assert.deepEqual((await plain.evaluate(merged)).mnist, want2, 'the split evaluates the rows torch picks');
    assert.deepEqual(plain.images, { decoded: 5, fromMemory: 0 });

    // In a sweep: the first evaluation keeps the crops, the second decodes nothing.
    ctx = runContext({ status: null, sweepCache: new Map() });
    const pool = make(poolConfig(splitConfig(), 2));
    assert.deepEqual((await pool.evaluate(merged)).mnist, want2);
    assert.deepEqual(pool.images, { decoded: 5, fromMemory: 0 });
    assert.deepEqual((await pool.evaluate(merged)).mnist, want2);
    assert.deepEqual(pool.images, { decoded: 5, fromMemory: 5 }, 'the second evaluate decodes no image');
    // Another pool (another batch size) on the same data set and processor shares the crops.
    const other = make(poolConfig(splitConfig(), 3));
    assert.deepEqual((await other.evaluate(merged)).mnist, want3);
    assert.deepEqual(other.images, { decoded: 0, fromMemory: 5 });

    const info = await pool.runInfo();
    assert.deepEqual(info.datasets.mnist, {
      source: join(tmp, 'slice'), name: null, revision: null, split: 'train', rows: 5,
      train_validation_split: { return_split: 'val', validation_fraction: 0.25, validation_size: null, random_seed: 0 },
    });
    assert.deepEqual(info.models['taskpool.clip_model'], { source: fixtureModel('tiny-clip-bpe'), revision: null });

    // A zero budget keeps nothing: every evaluation decodes again.
    process.env.FUSION_BENCH_IMAGE_CACHE_MB = '0';
    ctx = runContext({ status: null, sweepCache: new Map() });
    const none = make(poolConfig(splitConfig(), 2));
    await none.evaluate(merged);
    assert.deepEqual((await none.evaluate(merged)).mnist, want2);
    assert.deepEqual(none.images, { decoded: 10, fromMemory: 0 });
  } finally {
    delete process.env.FUSION_BENCH_IMAGE_CACHE_MB;
    await Promise.all(pools.map((p) => p.close()));
    merged.stateDict.close?.();
  }
});

test('a split config must name one part of the split', () => {
  // checked when the task pool is built, before any model is opened: no fixture needed
  const config = (dataset: unknown) => ({ test_datasets: { mnist: dataset }, clip_model: 'org/not-opened', dataloader_kwargs: { batch_size: 8 } });
  assert.throws(() => new CLIPVisionModelTaskPool(config({ ...splitConfig(), return_split: 'all' }) as never), /use 'train' or 'val'/);
  assert.throws(() => new CLIPVisionModelTaskPool(config({ ...splitConfig(), dataset: null }) as never), /test_datasets\.mnist\.dataset/);
});

/**
 * Preprocessing on the second thread (src/taskpool/clip-vision/preprocess-thread.ts) gives the batches
 * the main thread would: same rows, labels and pixel values bit for bit, with and without the crop
 * cache; a bad image is the same UserError; and the task pool reports the same numbers either way.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { loadImageClassificationDataset } from '../../src/data/load.js';
import type { ImageBatch } from '../../src/data/image-batches.js';
import { trainValidationSplit } from '../../src/data/train-validation-split.js';
import { UserError } from '../../src/errors.js';
import { CLIPImageProcessor } from '../../src/models/clip/image-processor.js';
import { runContext } from '../../src/run-context.js';
import { canPipeline, imageBatches, pipelinedImageBatches } from '../../src/taskpool/clip-vision/batches.js';
import { ImageCropCache } from '../../src/taskpool/clip-vision/image-cache.js';
import { preprocessThread, usePreprocessThread } from '../../src/taskpool/clip-vision/preprocess-thread.js';
import { CLIPVisionModelTaskPool } from '../../src/taskpool/clip-vision/taskpool.js';
import { writeHfParquetDataset } from '../helpers/datasets.js';
import { needsShared } from '../helpers/paths.js';
import { fixtureModel, openModel, VISION_TOWERS } from './support.js';

let tmp = '';
const N = 23;

/** RGB and grey PNGs of varying sizes (resize and centre crop both do something), one label each. */
function images(n: number): { images: Uint8Array[]; labels: number[] } {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const width = 20 + (i % 5) * 3;
    const height = 17 + (i % 3) * 4;
    const channels = i % 4 === 0 ? 1 : 3;
    const data = new Uint8Array(width * height * channels).map((_, p) => (p * 31 + i * 17 + (p >> 3)) & 255);
    out.push(encodePng({ width, height, channels, depth: 8, data }));
  }
  return { images: out, labels: Array.from({ length: n }, (_, i) => i % 10) };
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'clip-thread-'));
  const s = images(N);
  writeHfParquetDataset(join(tmp, 'set'), { split: 'test', images: s.images, labels: s.labels, labelNames: [...'0123456789'], rowGroupSize: 6 });
  const bad = [...s.images];
  bad[9] = Uint8Array.of(1, 2, 3, 4, 5);
  writeHfParquetDataset(join(tmp, 'bad'), { split: 'test', images: bad, labels: s.labels, labelNames: [...'0123456789'] });
});

after(() => {
  rmSync(tmp, { recursive: true, force: true });
  delete process.env.FUSION_BENCH_PREPROCESS_THREAD;
});

const processor = () => CLIPImageProcessor.fromConfig({ size: 16, crop_size: 14, resample: 3, do_center_crop: true });

async function collect(gen: AsyncGenerator<ImageBatch>): Promise<{ start: number; count: number; pixels: Float32Array; labels: number[] }[]> {
  const out = [];
  // A batch's buffer is reused: copy it before asking for the next.
  for await (const b of gen) out.push({ start: b.start, count: b.count, pixels: b.pixelValues.slice(), labels: [...b.labels] });
  return out;
}

test('the thread gives the main thread\'s batches bit for bit, with and without the crop cache, on a split too', async () => {
  const ds = await loadImageClassificationDataset({ path: join(tmp, 'set'), split: 'test' });
  const subset = trainValidationSplit(ds, { validation_fraction: 0.4, validation_size: null, random_seed: 3, return_split: 'val' } as never, 'test') as never;
  const thread = preprocessThread();
  assert.ok(thread, 'worker threads start here');
  for (const rows of [ds, subset]) {
    const p = processor();
    assert.ok(canPipeline(rows, p));
    for (const batchSize of [4, 5, 64]) {
      const counts = () => ({ decoded: 0, fromMemory: 0 });
      const serialCounts = counts();
      const want = await collect(imageBatches(rows, p, { batchSize, end: 1000, cache: null, counts: serialCounts }));
      const threadCounts = counts();
      assert.deepEqual(await collect(pipelinedImageBatches(rows, p, { batchSize, end: 1000, cache: null, counts: threadCounts }, thread)), want);
      assert.deepEqual(threadCounts, serialCounts);
      // Through the crop cache: the first pass keeps crops made on the thread, the second only normalises them.
      const store = new ImageCropCache(1 << 30);
      const cache = { store, key: 'k' };
      const first = counts();
      assert.deepEqual(await collect(pipelinedImageBatches(rows, p, { batchSize, end: 1000, cache, counts: first }, thread)), want);
      // kept in shared memory, so that sending them back to the thread copies nothing
      const row0 = rows === ds ? 0 : (rows as unknown as { sourceRow(i: number): number }).sourceRow(0);
      assert.ok(store.get('k', row0)!.data.buffer instanceof SharedArrayBuffer, 'crops made on the thread are shared');
      const second = counts();
      assert.deepEqual(await collect(pipelinedImageBatches(rows, p, { batchSize, end: 1000, cache, counts: second }, thread)), want);
      assert.deepEqual(second, { decoded: 0, fromMemory: first.decoded });
      const serialCached = counts();
      assert.deepEqual(await collect(imageBatches(rows, p, { batchSize, end: 1000, cache, counts: serialCached }, )), want, 'crops made on the thread serve the main thread');
      assert.equal(serialCached.decoded, 0);
    }
  }
});

test('an image that does not decode is the same UserError on the thread as on the main thread', async () => {
  const ds = await loadImageClassificationDataset({ path: join(tmp, 'bad'), split: 'test' });
  const opts = () => ({ batchSize: 4, end: 1000, cache: null, counts: { decoded: 0, fromMemory: 0 } });
  const serial = await collect(imageBatches(ds, processor(), opts())).then(() => null, (e: unknown) => e);
  const threaded = await collect(pipelinedImageBatches(ds, processor(), opts(), preprocessThread()!)).then(() => null, (e: unknown) => e);
  assert.ok(serial instanceof UserError && /row 9/.test(serial.message), String(serial));
  assert.ok(threaded instanceof UserError, String(threaded));
  assert.equal(threaded.message, serial.message);
  // The thread is still usable afterwards.
  assert.equal((await collect(pipelinedImageBatches(ds, processor(), { ...opts(), end: 8 }, preprocessThread()!))).length, 2);
});

test('small evaluations stay on the main thread unless FUSION_BENCH_PREPROCESS_THREAD says otherwise', () => {
  assert.equal(usePreprocessThread(64, 64, {}), false, 'one batch');
  assert.equal(usePreprocessThread(100, 10, { FUSION_BENCH_PREPROCESS_THREAD: '0' }), false);
  assert.equal(usePreprocessThread(100, 10, { FUSION_BENCH_PREPROCESS_THREAD: '1' }), true);
  assert.equal(usePreprocessThread(5000, 10, { FUSION_BENCH_PREPROCESS_THREAD: '0' }), false);
});

test('the task pool reports the same numbers with preprocessing on the thread', needsShared(), async () => {
  const merged = openModel(VISION_TOWERS.merged!());
  const clip = fixtureModel('tiny-clip-bpe');
  const cfg = { test_datasets: { mnist: { _target_: 'datasets.load_dataset', path: join(tmp, 'set'), split: 'test' } }, clip_model: clip, processor: clip, dataloader_kwargs: { batch_size: 4 } };
  const evaluate = async (flag: string) => {
    process.env.FUSION_BENCH_PREPROCESS_THREAD = flag;
    const pool = new CLIPVisionModelTaskPool(cfg as never, runContext({ status: null }));
    try {
      return { report: await pool.evaluate(merged), pipelined: pool.pipelinedTasks };
    } finally {
      await pool.close();
    }
  };
  const serial = await evaluate('0');
  const threaded = await evaluate('1');
  assert.equal(serial.pipelined, 0);
  assert.equal(threaded.pipelined, 1);
  assert.deepEqual(threaded.report, serial.report);
});

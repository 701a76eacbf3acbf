/**
 * CLIPVisionModelTaskPool.evaluate end to end on the tiny BPE CLIP: HF-layout parquet data sets (the three
 * golden input images, a slice of real MNIST), accuracy and loss against an independent float64
 * computation, the head cache across task pool instances, fast_dev_run, and the report's shape.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idxSliceAsPngs, writeHfParquetDataset } from '../helpers/datasets.js';
import { startFakeHub } from '../helpers/hub-server.js';
import { needsShared, sharedDir, sharedPath } from '../helpers/paths.js';
import { UserError } from '../../src/errors.js';
import { decodeImageRGB } from '../../src/image/decode.js';
import { clipLogits, l2NormalizeRows } from '../../src/models/clip/head.js';
import { CLIPImageProcessor } from '../../src/models/clip/image-processor.js';
import { ClipVisionSession } from '../../src/models/clip/session.js';
import { clipVisionConfigFrom } from '../../src/models/clip/config.js';
import { runContext, type RunContext } from '../../src/run-context.js';

let ctx: RunContext = runContext({ status: null });
import { CLIPVisionModelTaskPool } from '../../src/taskpool/clip-vision/taskpool.js';
import { openSafetensors } from '../../src/tensor/safetensors-read.js';
import { fixtureModel, golden, goldenInputPngs, openModel, referenceMetrics, VISION_TOWERS, ZS } from './support.js';

let tmp = '';
let mnistSlice: { images: Uint8Array[]; labels: number[] } = { images: [], labels: [] };
let goldenLabels: number[] = [];
const SLICE = { start: 100, n: 20 };

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'clip-taskpool-'));
  if (sharedDir === null) return;
  mnistSlice = idxSliceAsPngs(sharedPath('data', 'mnist', 't10k-images-idx3-ubyte.gz'), sharedPath('data', 'mnist', 't10k-labels-idx1-ubyte.gz'), SLICE.start, SLICE.n);
  writeHfParquetDataset(join(tmp, 'mnist-slice'), { split: 'test', images: mnistSlice.images, labels: mnistSlice.labels, labelNames: [...'0123456789'], rowGroupSize: 7 });
  // Labels for the golden images: the merged tower's prediction for two of them, a wrong class for the
  // middle one, so accuracy is 2/3 and the loss mixes confident and unconfident rows.
  const logits = golden(ZS, 'zeroshot_logits_merged');
  const argmax = [0, 1, 2].map((i) => { const row = Array.from(logits.subarray(i * 10, i * 10 + 10)); return row.indexOf(Math.max(...row)); });
  goldenLabels = [argmax[0]!, (argmax[1]! + 1) % 10, argmax[2]!];
  writeHfParquetDataset(join(tmp, 'golden-images'), { split: 'test', images: goldenInputPngs(), labels: goldenLabels, labelNames: [...'0123456789'] });
});

after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** Logits of the MNIST slice for a vision tower, computed without the task pool: G's preprocessing, H's session, the golden head. */
async function sliceLogits(tower: string): Promise<Float32Array> {
  const processor = CLIPImageProcessor.fromDir(fixtureModel('tiny-clip-bpe'));
  const pixels = processor.preprocessBatch(mnistSlice.images.map((png) => decodeImageRGB(png)));
  const model = openModel(VISION_TOWERS[tower]!());
  const pre = openSafetensors(join(fixtureModel('tiny-clip-bpe'), 'model.safetensors'));
  const s = await ClipVisionSession.create(clipVisionConfigFrom(model.config), model.stateDict, { projection: pre.loadF32('visual_projection.weight') });
  try {
    const out = await s.run(pixels, SLICE.n);
    return clipLogits(l2NormalizeRows(out.embeds!, 16), golden(ZS, 'zeroshot_weights'), 16, pre.loadF32('logit_scale')[0]!);
  } finally {
    await s.dispose();
    pre.close();
  }
}

function poolConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const clip = fixtureModel('tiny-clip-bpe');
  return {
    // svhn first: the report follows config order, not any sorted order.
    test_datasets: {
      svhn: { _target_: 'datasets.load_dataset', path: join(tmp, 'mnist-slice'), split: 'test' },
      mnist: { _target_: 'datasets.load_dataset', _args_: [join(tmp, 'golden-images')], split: 'test' },
    },
    base_model: clip,
    clip_model: { _target_: 'transformers.CLIPModel.from_pretrained', pretrained_model_name_or_path: clip },
    processor: { _target_: 'transformers.CLIPProcessor.from_pretrained', pretrained_model_name_or_path: clip },
    data_processor: { _target_: 'transformers.CLIPProcessor.from_pretrained', pretrained_model_name_or_path: clip },
    dataloader_kwargs: { batch_size: 8, num_workers: 8, pin_memory: true, drop_last: false, shuffle: false },
    layer_wise_feature_save_path: null,
    layer_wise_feature_first_token_only: true,
    layer_wise_feature_max_num: 1000,
    ...extra,
  };
}

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual}, expected ${expected} (tolerance ${tol})`);
}

test('evaluate: report shape, accuracy and loss, head cache across task pools, fast_dev_run', needsShared(), async () => {
  const lines: string[] = [];
  ctx = runContext({ cacheDir: join(tmp, 'cache'), status: { write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WritableStream });
  const merged = openModel(VISION_TOWERS.merged!());
  const expectedSvhn = referenceMetrics(await sliceLogits('merged'), mnistSlice.labels, 10, 8);
  const goldenLogits = golden(ZS, 'zeroshot_logits_merged');

  // First run: heads computed with one text session and written to the cache.
  const pool = new CLIPVisionModelTaskPool(poolConfig() as never, ctx);
  const report = await pool.evaluate(merged);
  assert.deepEqual(Object.keys(report), ['model_info', 'svhn', 'mnist', 'average']);
  let params = 0;
  for (const n of merged.stateDict.names()) params += merged.stateDict.info(n).shape.reduce((a, b) => a * b, 1);
  assert.deepEqual(report.model_info, { trainable_params: params, all_params: params, trainable_percentage: 1 });
  const svhn = report.svhn as { accuracy: number; loss: number };
  const mnist = report.mnist as { accuracy: number; loss: number };
  assert.equal(svhn.accuracy, expectedSvhn.accuracy);
  close(svhn.loss, expectedSvhn.loss, 1e-5 * Math.max(1, expectedSvhn.loss), 'svhn loss');
  const expectedMnist = referenceMetrics(goldenLogits, goldenLabels, 10, 8);
  assert.equal(mnist.accuracy, 2 / 3);
  assert.equal(expectedMnist.accuracy, 2 / 3);
  close(mnist.loss, expectedMnist.loss, 1e-4, 'mnist loss');
  assert.deepEqual(report.average, { accuracy: (svhn.accuracy + mnist.accuracy) / 2, loss: (svhn.loss + mnist.loss) / 2 });
  assert.deepEqual(pool.stats, { textSessionsBuilt: 1, visionSessionsBuilt: 1, headsComputed: 2, headsFromDiskCache: 0 });
  assert.equal(readdirSync(join(tmp, 'cache', 'clip_zeroshot_heads')).filter((f) => f.endsWith('.json')).length, 2);
  assert.ok(lines.some((l) => l.includes('Evaluating svhn') && l.includes('20 images / 20 images') && l.includes('images/s')), lines.join(''));

  // A second task pool (batch size 2) reads both heads from the cache: no text session at all.
  const pool2 = new CLIPVisionModelTaskPool(poolConfig({ dataloader_kwargs: { batch_size: 2 } }) as never, ctx);
  const report2 = await pool2.evaluate(merged, 'merged');
  assert.deepEqual(pool2.stats, { textSessionsBuilt: 0, visionSessionsBuilt: 1, headsComputed: 0, headsFromDiskCache: 2 });
  assert.deepEqual((await pool2.zeroShotHead('mnist')).weights, (await pool.zeroShotHead('mnist')).weights);
  assert.equal((report2.model_info as { name?: string }).name, 'merged');
  // Batches [2, 1]: the loss is the mean of the two batch means, not the mean over images.
  const batched = referenceMetrics(goldenLogits, goldenLabels, 10, 2);
  close((report2.mnist as { loss: number }).loss, batched.loss, 1e-4, 'mnist loss, batch size 2');
  assert.ok(Math.abs(batched.loss - expectedMnist.loss) > 1e-3, 'the two batchings give different losses');
  const svhn2 = referenceMetrics(await sliceLogits('merged'), mnistSlice.labels, 10, 2);
  close((report2.svhn as { loss: number }).loss, svhn2.loss, 1e-5 * Math.max(1, svhn2.loss), 'svhn loss, batch size 2');

  // A damaged cache file is a miss: recomputed and rewritten.
  const dir = join(tmp, 'cache', 'clip_zeroshot_heads');
  for (const f of readdirSync(dir)) writeFileSync(join(dir, f), '{"format": "broken"');
  const pool3 = new CLIPVisionModelTaskPool(poolConfig() as never, ctx);
  await pool3.zeroShotHead('mnist');
  assert.deepEqual(pool3.stats, { textSessionsBuilt: 1, visionSessionsBuilt: 0, headsComputed: 1, headsFromDiskCache: 0 });

  // fast_dev_run: the first batch of each task only (from the option, or from the run context).
  const expectedFirst = referenceMetrics((await sliceLogits('merged')).subarray(0, 8 * 10), mnistSlice.labels.slice(0, 8), 10, 8);
  for (const [cfg, debug] of [[{ fast_dev_run: true }, false], [{}, true]] as const) {
    const fastCtx = { ...ctx, fastDevRun: debug };
    const fast = await new CLIPVisionModelTaskPool(poolConfig(cfg) as never, fastCtx).evaluate(merged);
    const s = fast.svhn as { accuracy: number; loss: number };
    assert.equal(s.accuracy, expectedFirst.accuracy);
    close(s.loss, expectedFirst.loss, 1e-5 * Math.max(1, expectedFirst.loss), 'fast_dev_run loss');
  }

  // drop_last: 20 images in batches of 8 → two full batches, the last 4 left out, as torch's DataLoader does
  const dropped = await new CLIPVisionModelTaskPool(poolConfig({ dataloader_kwargs: { batch_size: 8, drop_last: true } }) as never, ctx).evaluate(merged);
  const expectedDrop = referenceMetrics((await sliceLogits('merged')).subarray(0, 16 * 10), mnistSlice.labels.slice(0, 16), 10, 8);
  assert.equal((dropped.svhn as { accuracy: number }).accuracy, expectedDrop.accuracy);
  close((dropped.svhn as { loss: number }).loss, expectedDrop.loss, 1e-5 * Math.max(1, expectedDrop.loss), 'drop_last loss');
  await Promise.all([pool.close(), pool2.close(), pool3.close()]);
  merged.stateDict.close?.();
});

test('evaluate: the pretrained, fine-tuned and merged towers give their golden accuracy and loss', needsShared(), async () => {
  ctx = runContext({ status: null });
  const pool = new CLIPVisionModelTaskPool(poolConfig({ test_datasets: { mnist: { _target_: 'datasets.load_dataset', path: join(tmp, 'golden-images'), split: 'test' } } }) as never, ctx);
  for (const tower of ['pretrained', 'ft-a', 'ft-b']) {
    const model = openModel(VISION_TOWERS[tower]!());
    const r = (await pool.evaluate(model)).mnist as { accuracy: number; loss: number };
    const e = referenceMetrics(golden(ZS, `zeroshot_logits_${tower}`), goldenLabels, 10, 8);
    assert.equal(r.accuracy, e.accuracy, `${tower} accuracy`);
    close(r.loss, e.loss, 1e-4, `${tower} loss`);
    model.stateDict.close?.();
  }
  // No cache folder: the heads stay in memory, built once for the three evaluations.
  assert.equal(pool.stats.textSessionsBuilt, 1);
  assert.equal(pool.stats.visionSessionsBuilt, 3);
  await pool.close();
});

test('evaluate: bad labels and corrupt images are UserErrors naming the data set and row', needsShared(), async () => {
  ctx = runContext({ status: null });
  const pngs = goldenInputPngs();
  writeHfParquetDataset(join(tmp, 'bad-label'), { split: 'test', images: pngs, labels: [1, 12, 3] });
  const junk = new Uint8Array(64).fill(7);
  writeHfParquetDataset(join(tmp, 'bad-image'), { split: 'test', images: [pngs[0]!, pngs[1]!, junk], labels: [1, 2, 3] });
  const merged = openModel(VISION_TOWERS.merged!());
  for (const [name, pattern] of [['bad-label', /row 1: label 12 is outside the task's 10 classes/], ['bad-image', /row 2: not a PNG or JPEG/]] as const) {
    const pool = new CLIPVisionModelTaskPool(poolConfig({ test_datasets: { mnist: { _target_: 'datasets.load_dataset', path: join(tmp, name), split: 'test' } } }) as never, ctx);
    await assert.rejects(pool.evaluate(merged), (e: Error) => e instanceof UserError && pattern.test(e.message) && e.message.includes(name), name);
    await pool.close();
  }
  merged.stateDict.close?.();
});

test('evaluate: a hub clip_model is fetched without pickles and keys the head cache by repo and commit', needsShared(), async () => {
  const root = join(tmp, 'hub-root');
  const repoDir = join(root, 'models', 'test-org', 'tiny-clip-bpe', 'main');
  mkdirSync(repoDir, { recursive: true });
  cpSync(fixtureModel('tiny-clip-bpe'), repoDir, { recursive: true });
  writeFileSync(join(repoDir, 'pytorch_model.bin'), 'not to be downloaded');
  const hub = await startFakeHub({ root });
  const saved = { HF_ENDPOINT: process.env.HF_ENDPOINT, HF_HOME: process.env.HF_HOME, HF_HUB_CACHE: process.env.HF_HUB_CACHE, HF_HUB_OFFLINE: process.env.HF_HUB_OFFLINE };
  Object.assign(process.env, { HF_ENDPOINT: hub.url, HF_HOME: join(tmp, 'hf-home') });
  delete process.env.HF_HUB_CACHE;
  delete process.env.HF_HUB_OFFLINE;
  try {
    ctx = runContext({ cacheDir: join(tmp, 'hub-cache'), status: null });
    const id = 'test-org/tiny-clip-bpe';
    const pool = new CLIPVisionModelTaskPool(poolConfig({
      test_datasets: { mnist: { _target_: 'datasets.load_dataset', path: join(tmp, 'golden-images'), split: 'test' } },
      base_model: id,
      clip_model: { _target_: 'transformers.CLIPModel.from_pretrained', pretrained_model_name_or_path: id },
      processor: id,
      data_processor: id,
    }) as never, ctx);
    const merged = openModel(VISION_TOWERS.merged!());
    const r = (await pool.evaluate(merged)).mnist as { accuracy: number; loss: number };
    const e = referenceMetrics(golden(ZS, 'zeroshot_logits_merged'), goldenLabels, 10, 8);
    assert.equal(r.accuracy, e.accuracy);
    close(r.loss, e.loss, 1e-4, 'loss');
    assert.ok(!hub.requests.some((q) => q.url.includes('pytorch_model.bin')), 'pytorch_model.bin was requested');
    const dir = join(tmp, 'hub-cache', 'clip_zeroshot_heads');
    const files = readdirSync(dir);
    assert.equal(files.length, 1);
    const doc = JSON.parse(readFileSync(join(dir, files[0]!), 'utf8')) as { model: string };
    assert.equal(doc.model, `hub:${id}@${hub.commitOf('models/test-org/tiny-clip-bpe', 'main')}`);
    await pool.close();
    merged.stateDict.close?.();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await hub.close();
  }
});

/**
 * Results that are not one model, through CLIPVisionModelTaskPool: an ensemble aggregates its members'
 * pooled outputs (mean, weighted sum, element-wise max) before the projection, as fusion_bench's
 * ensemble modules do; per-task models evaluate each task with that task's model.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idxSliceAsPngs, writeHfParquetDataset } from '../helpers/datasets.js';
import { needsShared, sharedDir, sharedPath } from '../helpers/paths.js';
import { decodeImageRGB } from '../../src/image/decode.js';
import { clipLogits, l2NormalizeRows } from '../../src/models/clip/head.js';
import { CLIPImageProcessor } from '../../src/models/clip/image-processor.js';
import { ClipVisionSession } from '../../src/models/clip/session.js';
import { clipVisionConfigFrom } from '../../src/models/clip/config.js';
import { Ensemble, PerTaskModels, type EnsembleCombine } from '../../src/method/result.js';
import { MaxModelPredictorAlgorithm, SimpleEnsembleAlgorithm, WeightedEnsembleAlgorithm } from '../../src/method/index.js';
import { isUserError } from '../../src/errors.js';
import { runContext } from '../../src/run-context.js';
import { CLIPVisionModelTaskPool } from '../../src/taskpool/clip-vision/taskpool.js';
import { openSafetensors } from '../../src/tensor/safetensors-read.js';
import { fixtureModel, golden, openModel, referenceMetrics, VISION_TOWERS, ZS } from './support.js';

let tmp = '';
let slice: { images: Uint8Array[]; labels: number[] } = { images: [], labels: [] };
const N = 12;

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'clip-results-'));
  if (sharedDir === null) return;
  slice = idxSliceAsPngs(sharedPath('data', 'mnist', 't10k-images-idx3-ubyte.gz'), sharedPath('data', 'mnist', 't10k-labels-idx1-ubyte.gz'), 200, N);
  writeHfParquetDataset(join(tmp, 'a'), { split: 'test', images: slice.images, labels: slice.labels, labelNames: [...'0123456789'] });
  writeHfParquetDataset(join(tmp, 'b'), { split: 'test', images: slice.images.slice(0, 7), labels: slice.labels.slice(0, 7), labelNames: [...'0123456789'] });
});

after(() => rmSync(tmp, { recursive: true, force: true }));

function poolConfig(): Record<string, unknown> {
  const clip = fixtureModel('tiny-clip-bpe');
  return {
    test_datasets: {
      mnist: { _target_: 'datasets.load_dataset', path: join(tmp, 'a'), split: 'test' },
      svhn: { _target_: 'datasets.load_dataset', path: join(tmp, 'b'), split: 'test' },
    },
    base_model: clip,
    clip_model: { _target_: 'transformers.CLIPModel.from_pretrained', pretrained_model_name_or_path: clip },
    processor: { _target_: 'transformers.CLIPProcessor.from_pretrained', pretrained_model_name_or_path: clip },
    dataloader_kwargs: { batch_size: 5 },
  };
}

/** The members' pooled outputs on the slice, from their own sessions (no projection). */
async function pooledOf(tower: string, pixels: Float32Array, n: number): Promise<Float32Array> {
  const m = openModel(VISION_TOWERS[tower]!());
  const s = await ClipVisionSession.create(clipVisionConfigFrom(m.config), m.stateDict);
  try {
    return (await s.run(pixels, n)).pooled;
  } finally {
    await s.dispose();
    m.stateDict.close?.();
  }
}

/** fusion_bench's aggregate in float64, then the projection and the zero-shot logits. */
async function ensembleLogits(towers: string[], combine: EnsembleCombine, weights: number[] | null, n: number): Promise<Float32Array> {
  const processor = CLIPImageProcessor.fromDir(fixtureModel('tiny-clip-bpe'));
  const pixels = processor.preprocessBatch(slice.images.slice(0, n).map((png) => decodeImageRGB(png)));
  const pooled = await Promise.all(towers.map((t) => pooledOf(t, pixels, n)));
  const pre = openSafetensors(join(fixtureModel('tiny-clip-bpe'), 'model.safetensors'));
  const proj = pre.loadF32('visual_projection.weight');
  const hidden = pooled[0]!.length / n;
  const dim = proj.length / hidden;
  const agg = pooled[0]!.map((_, i) => {
    const xs = pooled.map((p) => p[i]!);
    if (combine === 'max-model') return Math.max(...xs);
    if (combine === 'weighted') return xs.reduce((s, x, k) => s + x * weights![k]!, 0);
    return xs.reduce((s, x) => s + x, 0) / xs.length;
  });
  const embeds = new Float32Array(n * dim);
  for (let b = 0; b < n; b++) for (let j = 0; j < dim; j++) {
    let acc = 0;
    for (let h = 0; h < hidden; h++) acc += agg[b * hidden + h]! * proj[j * hidden + h]!;
    embeds[b * dim + j] = acc;
  }
  const logits = clipLogits(l2NormalizeRows(embeds, dim), golden(ZS, 'zeroshot_weights'), dim, pre.loadF32('logit_scale')[0]!);
  pre.close();
  return logits;
}

function closeTo(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual}, expected ${expected}`);
}

test('ensembles: the members’ pooled outputs aggregated as fusion_bench does, one session per member', needsShared(), async () => {
  const ctx = runContext({ status: null });
  const modelsIn = { a: VISION_TOWERS['ft-a']!(), b: VISION_TOWERS['ft-b']!(), m: VISION_TOWERS.merged!() };
  const towers = ['ft-a', 'ft-b', 'merged'];
  const cases: [unknown, EnsembleCombine, number[] | null][] = [
    [new SimpleEnsembleAlgorithm({}), 'mean', null],
    [new WeightedEnsembleAlgorithm({ weights: [2, 1, 1] }), 'weighted', [0.5, 0.25, 0.25]],
    [new MaxModelPredictorAlgorithm({}), 'max-model', null],
  ];
  for (const [method, combine, weights] of cases) {
    const ens = await (method as { run(p: unknown): Promise<Ensemble> }).run(modelsIn);
    assert.ok(ens instanceof Ensemble);
    assert.equal(ens.combine, combine);
    const pool = new CLIPVisionModelTaskPool(poolConfig() as never, ctx);
    try {
      const report = await pool.evaluate(ens);
      assert.equal(pool.stats.visionSessionsBuilt, 3, 'one session per member, shared by both tasks');
      const member = openModel(VISION_TOWERS['ft-a']!());
      const one = (await pool.evaluate(member)).model_info as { all_params: number };
      member.stateDict.close?.();
      assert.equal((report.model_info as { all_params: number }).all_params, 3 * one.all_params, 'the members’ parameters together');
      const logits = await ensembleLogits(towers, combine, weights, N);
      const want = referenceMetrics(logits, slice.labels, 10, 5);
      const got = report.mnist as { accuracy: number; loss: number };
      assert.equal(got.accuracy, want.accuracy, combine);
      closeTo(got.loss, want.loss, 1e-4 * Math.max(1, want.loss), `${combine} loss`);
    } finally {
      ens.close();
      await pool.close();
    }
  }
});

test('weighted ensemble: wrong weight count and zero-sum weights are clear errors, before any model opens', async () => {
  await assert.rejects(new WeightedEnsembleAlgorithm({ weights: [1] }).run({ a: '/nonexistent-a', b: '/nonexistent-b' }), (e: unknown) => isUserError(e) && /1 weights for 2 models/.test((e as Error).message));
  await assert.rejects(new WeightedEnsembleAlgorithm({ weights: [1, -1] }).run({ a: '/nonexistent-a', b: '/nonexistent-b' }), (e: unknown) => isUserError(e) && /sum to zero/.test((e as Error).message));
  assert.deepEqual(new WeightedEnsembleAlgorithm({ weights: [1, 3], normalize: false }).memberWeights(2), [1, 3]);
});

test('per-task models: each task is evaluated with its own model', needsShared(), async () => {
  const ctx = runContext({ status: null });
  const models = { mnist: openModel(VISION_TOWERS['ft-a']!()), svhn: openModel(VISION_TOWERS['ft-b']!()) };
  const perTask = new PerTaskModels(['mnist', 'svhn'], (t) => models[t as 'mnist' | 'svhn'], 'own-task');
  const pool = new CLIPVisionModelTaskPool(poolConfig() as never, ctx);
  try {
    const report = await pool.evaluate(perTask);
    assert.deepEqual(Object.keys(report), ['model_info', 'mnist', 'svhn', 'average']);
    const alone = { a: await pool.evaluate(models.mnist), b: await pool.evaluate(models.svhn) };
    assert.deepEqual(report.mnist, alone.a.mnist);
    assert.deepEqual(report.svhn, alone.b.svhn);
    assert.notDeepEqual(alone.a.svhn, alone.b.svhn, 'the two towers differ on svhn, so the check can fail');
    const missing = new PerTaskModels(['mnist'], () => models.mnist, 'own-task');
    await assert.rejects(pool.evaluate(missing), (e: unknown) => isUserError(e) && /no model for task 'svhn'/.test((e as Error).message));
  } finally {
    await pool.close();
    for (const m of Object.values(models)) m.stateDict.close?.();
  }
});

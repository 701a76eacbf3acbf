/**
 * AdaMerging on the demo's tiny CLIP models and MNIST / Fashion-MNIST test slices (shipped in demo/, no
 * ../shared needed): task-wise and layer-wise runs move the coefficients from init_values, save them in
 * the format the extension names, the merged tower is θ₀ + Σ λ·τ (float64 reference), `weights: FILE`
 * reproduces it without training, and bad options are UserErrors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { readTensorFile } from '../../src/grad/io/tensor-file.js';
import { CLIPLayerWiseAdaMergingAlgorithm, CLIPTaskWiseAdaMergingAlgorithm } from '../../src/method/gradient/adamerging-clip.js';
import { clipVisionParameterNames } from '../../src/models/clip/parameters.js';
import { runContext } from '../../src/run-context.js';
import { openCheckpoint } from '../../src/tensor/checkpoint.js';
import { writeHfParquetDataset } from '../helpers/datasets.js';
import { demoDataset as dataset, demoDir as demo, demoPool as pool0 } from './demo-pool.js';

const demoPool = (testDatasets: Record<string, unknown> = { mnist: dataset('mnist'), fashion_mnist: dataset('fashion_mnist') }) => pool0({ test_datasets: testDatasets });

/** θ₀ + Σᵢ λᵢ,ₗ τᵢ in float64 for one tensor. */
function reference(name: string, lambdas: number[]): Float64Array {
  const base = openCheckpoint(join(demo, 'models', 'tiny-clip'));
  const fts = ['tiny-clip-mnist', 'tiny-clip-fashion_mnist'].map((m) => openCheckpoint(join(demo, 'models', m)));
  try {
    const b = base.loadF32(name);
    const out = Float64Array.from(b);
    fts.forEach((ft, i) => {
      const t = ft.loadF32(name);
      for (let e = 0; e < out.length; e++) out[e]! += lambdas[i]! * (t[e]! - b[e]!);
    });
    return out;
  } finally {
    base.close();
    for (const f of fts) f.close();
  }
}

function closeTo(a: Float32Array, b: Float64Array, what: string): void {
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-5 * Math.max(1, Math.abs(b[i]!)), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

test('task-wise AdaMerging on the demo: trains, saves .pt, merges θ₀ + Σ λ·τ; weights: FILE gives the same model', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-adamerging-'));
  try {
    const file = join(dir, 'w.pt');
    const alg = new CLIPTaskWiseAdaMergingAlgorithm({ name: 'clip_task_wise_adamerging', lr: 1e-2, init_values: 0.3, max_steps: 3, batch_size: 16, save_merging_weights: file });
    const merged = await alg.run(demoPool());
    const saved = readTensorFile(file);
    assert.deepEqual(saved.shape, [2]);
    assert.deepEqual(Array.from(saved.data), alg.summary!.weights);
    for (const w of saved.data) assert.ok(w !== Math.fround(0.3) && Math.abs(w - 0.3) <= 3 * 1e-2 + 1e-6, `coefficient ${w} after 3 steps of lr 1e-2`);
    assert.deepEqual(Object.keys(alg.summary!.finalLosses), ['mnist', 'fashion_mnist']);
    const name = 'vision_model.encoder.layers.1.mlp.fc1.weight';
    closeTo(merged.stateDict.loadF32(name), reference(name, Array.from(saved.data)), name);

    const again = await new CLIPTaskWiseAdaMergingAlgorithm({ name: 'clip_task_wise_adamerging', weights: file }).run(demoPool({}));
    for (const n of merged.stateDict.names()) assert.deepEqual(again.stateDict.loadF32(n), merged.stateDict.loadF32(n), n);
    merged.stateDict.close?.();
    again.stateDict.close?.();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('layer-wise AdaMerging on the demo: [2, 55] coefficients saved as .npy, clamped to [0, 1] when merging', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-adamerging-'));
  try {
    const file = join(dir, 'w.npy');
    const alg = new CLIPLayerWiseAdaMergingAlgorithm({ lr: 1e-2, init_values: 0.3, max_steps: 2, batch_size: 8, clamp_weights: true, save_merging_weights: file });
    const merged = await alg.run(demoPool());
    const saved = readTensorFile(file);
    assert.deepEqual(saved.shape, [2, 5 + 3 * 16 + 2]);
    // A coefficient moves exactly when its task vector is not zero (the demo's towers differ from the
    // pretrained one in a few tensors only): its gradient ⟨∂L/∂θₗ, τᵢ,ₗ⟩ is 0 otherwise.
    const names = clipVisionParameterNames({ numHiddenLayers: 3 });
    const base = openCheckpoint(join(demo, 'models', 'tiny-clip'));
    const fts = ['tiny-clip-mnist', 'tiny-clip-fashion_mnist'].map((m) => openCheckpoint(join(demo, 'models', m)));
    const changed = fts.flatMap((ft) => names.map((n) => {
      const a = ft.loadF32(n);
      const b = base.loadF32(n);
      return a.some((x, i) => x !== b[i]);
    }));
    base.close();
    for (const f of fts) f.close();
    const moved = Array.from(saved.data, (w) => w !== Math.fround(0.3));
    assert.ok(changed.some(Boolean));
    assert.deepEqual(moved, changed);
    merged.stateDict.close?.();
    // Loaded weights outside [0, 1] are clamped: λ = 1.7 merges as 1, −0.5 as 0.
    const weights = [new Array(55).fill(1.7), new Array(55).fill(-0.5)];
    const clamped = await new CLIPLayerWiseAdaMergingAlgorithm({ weights, clamp_weights: true }).run(demoPool({}));
    await assert.rejects(new CLIPLayerWiseAdaMergingAlgorithm({ weights: weights.flat() }).run(demoPool({})), (e: unknown) => e instanceof UserError && /shape \[110\], expected \[2, 55\]/.test(e.message));
    const name = 'vision_model.post_layernorm.weight';
    closeTo(clamped.stateDict.loadF32(name), reference(name, [1, 0]), name);
    clamped.stateDict.close?.();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('AdaMerging: bad options and a task without a test set are UserErrors', async () => {
  assert.throws(() => new CLIPTaskWiseAdaMergingAlgorithm({ lr: 0 }), /'lr' must be positive/);
  assert.throws(() => new CLIPTaskWiseAdaMergingAlgorithm({ max_steps: 0 }), /'max_steps' must be an integer ≥ 1/);
  assert.throws(() => new CLIPTaskWiseAdaMergingAlgorithm({ name: 'clip_something' }), /option 'name'/);
  await assert.rejects(new CLIPTaskWiseAdaMergingAlgorithm({ max_steps: 1 }).run(demoPool({ mnist: dataset('mnist') })), (e: unknown) => e instanceof UserError && /no test_datasets entry for task 'fashion_mnist'/.test(e.message));
});

test('AdaMerging: a task without a zero-shot head and an empty test set are UserErrors', async () => {
  const models = { _pretrained_: join(demo, 'models', 'tiny-clip'), foo: join(demo, 'models', 'tiny-clip-mnist'), mnist: join(demo, 'models', 'tiny-clip-mnist') };
  const noHead = pool0({ models, test_datasets: { foo: dataset('mnist'), mnist: dataset('mnist') } });
  await assert.rejects(new CLIPTaskWiseAdaMergingAlgorithm({ max_steps: 1 }).run(noHead), (e: unknown) => e instanceof UserError && /no zero-shot head for task 'foo'/.test(e.message));
  const dir = mkdtempSync(join(tmpdir(), 'fb-adamerging-empty-'));
  try {
    writeHfParquetDataset(dir, { split: 'test', images: [], labels: [] });
    const empty = { _target_: 'datasets.load_dataset', path: 'parquet', data_files: { test: join(dir, 'data', 'test-00000-of-00001.parquet') }, split: 'test' };
    await assert.rejects(new CLIPTaskWiseAdaMergingAlgorithm({ max_steps: 1 }).run(demoPool({ mnist: empty, fashion_mnist: dataset('fashion_mnist') })), (e: unknown) => e instanceof UserError && /test_datasets of task 'mnist'.*is empty|test-00000-of-00001\.parquet\): the split is empty/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("save_merging_weights: layer-wise puts a bare relative name in the log dir, as fusion_bench; './', absolute paths and task-wise as given", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-adamerging-logdir-'));
  try {
    const ctx = runContext({ logDir: join(dir, 'log') });
    const layer = new CLIPLayerWiseAdaMergingAlgorithm({ max_steps: 1, batch_size: 4, save_merging_weights: 'w/merging_weights.npy' }, ctx);
    assert.equal(layer.mergingWeightsPath('./m.pt'), './m.pt');
    assert.equal(layer.mergingWeightsPath('/abs/m.pt'), '/abs/m.pt');
    assert.equal(new CLIPTaskWiseAdaMergingAlgorithm({}, ctx).mergingWeightsPath('m.pt'), 'm.pt');
    const merged = await layer.run(pool0({ test_datasets: { mnist: dataset('mnist'), fashion_mnist: dataset('fashion_mnist') } }));
    merged.stateDict.close?.();
    const saved = readTensorFile(join(dir, 'log', 'w', 'merging_weights.npy'), 'test');
    assert.equal(saved.shape[0], 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Models read from safetensors files (where merging reads into reused scratch buffers) merge to exactly
 * what the same models in memory merge to, sharded and F16 checkpoints included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DareTaskArithmetic, DareTiesMerging, MagMaxAlgorithm, SimpleAverageAlgorithm, TaskArithmeticAlgorithm, TiesMergingAlgorithm, WeightedAverageAlgorithm,
} from '../../src/method/index.js';
import { BaseModelPool } from '../../src/modelpool/index.js';
import { writeSafetensorsSync, type WriteSafetensorsOptions } from '../../src/tensor/safetensors-write.js';
import { model, randomArrays, readAll, toStateDict, type Arrays } from './helpers.js';

/**
 * Writes the models (θ₀ first, named _pretrained_, a, b, c) to `dir` with per-model writer options and
 * returns their directories and in-memory copies holding what the files hold (half precision rounded).
 */
async function writePool(dir: string, arrays: Arrays[], opts: (k: number) => WriteSafetensorsOptions, layout?: Record<string, number[]>) {
  const names = ['_pretrained_', 'a', 'b', 'c'];
  const onDisk: Record<string, string> = {};
  const inMemory: Record<string, ReturnType<typeof model>> = {};
  for (const [k, a] of arrays.entries()) {
    const d = join(dir, names[k]!);
    mkdirSync(d);
    writeSafetensorsSync(join(d, 'model.safetensors'), toStateDict(a, layout), opts(k));
    onDisk[names[k]!] = d;
    const loaded = await new BaseModelPool({ models: { m: d } }).loadModel('m');
    inMemory[names[k]!] = model(readAll(loaded), names[k]!, layout);
    loaded.stateDict.close?.();
  }
  return { onDisk, inMemory };
}

test('file-backed and in-memory pools merge identically', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-files-'));
  try {
    const theta0 = randomArrays(50);
    const arrays: Arrays[] = [theta0, randomArrays(51, { around: theta0, scale: 0.1 }), randomArrays(52, { around: theta0, scale: 0.1 }), randomArrays(53, { around: theta0, scale: 0.1 })];
    // One model stored as F16 (read through loadF32, converted), one sharded, the others single files.
    const { onDisk, inMemory } = await writePool(dir, arrays, (k) => (k === 3 ? { dtypes: () => 'F16' } : k === 2 ? { maxShardBytes: 200 } : {}));
    assert.ok(existsSync(join(onDisk.b!, 'model.safetensors.index.json')));

    for (const method of [
      new TaskArithmeticAlgorithm({ scaling_factor: 0.3 }), new SimpleAverageAlgorithm({}), new MagMaxAlgorithm({}),
      new WeightedAverageAlgorithm({ normalize: false, weights: [0.1, 0.2, 0.3] }),
      new TiesMergingAlgorithm({ scaling_factor: 0.3, threshold: 20, merge_func: 'mean' }),
      new DareTaskArithmetic({ scaling_factor: 0.3, sparsity_ratio: 0.4, only_on_linear_weights: true }),
      new DareTiesMerging({ sparsity_ratio: 0.4, only_on_linear_weights: false, rescale: true, scaling_factor: 0.5, threshold: 30, remove_keys: [], merge_func: 'max' }),
    ]) {
      const fromFiles = await method.run(new BaseModelPool({ models: onDisk }));
      const fromMemory = await method.run(inMemory);
      assert.deepEqual(readAll(fromFiles), readAll(fromMemory), method.constructor.name);
      fromFiles.stateDict.close?.();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tensors larger than a read piece merge from files exactly as in memory (pieces and their tail)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-pieces-'));
  try {
    // 70001 values: two whole pieces of 32768 and a tail; plus a small tensor
    const layout = { 'big.weight': [7, 10001], 'small.bias': [5] };
    const theta0 = randomArrays(60, { layout, grid: true });
    const arrays = [theta0, ...[61, 62, 63].map((s) => randomArrays(s, { layout, grid: true, around: theta0, scale: 0.25 }))];
    const { onDisk, inMemory } = await writePool(dir, arrays, (k) => (k === 2 ? { dtypes: () => 'BF16' } : {}), layout);
    const out = join(dir, 'out');
    for (const method of [
      new TaskArithmeticAlgorithm({ scaling_factor: 0.3 }),
      ...(['sum', 'mean', 'max'] as const).map((f) => new TiesMergingAlgorithm({ scaling_factor: 0.3, threshold: 20, merge_func: f })),
    ]) {
      const pool = new BaseModelPool({ models: onDisk });
      const fromFiles = await method.run(pool);
      // saved: the writer's buffer path (pieces, WebAssembly kernels), then read back
      await pool.saveModel(fromFiles, out);
      fromFiles.stateDict.close?.();
      const saved = await new BaseModelPool({ models: { m: out } }).loadModel('m');
      assert.deepEqual(readAll(saved), readAll(await method.run(inMemory)), method.constructor.name);
      saved.stateDict.close?.();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

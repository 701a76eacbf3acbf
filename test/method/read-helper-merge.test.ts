/**
 * Merges whose reads run on two threads (src/tensor/io/read-helper.ts, forced on here with
 * FUSION_BENCH_READ_THREADS=2) give the same bits as merges that read on one, for every path that reads
 * through a batch: pieces (task arithmetic, TIES' passes), whole tensors (θ₀, DARE), float16/bfloat16
 * widening, sharded files and a torch_dtype view's rounding, and saves whose big tensors are written
 * behind on the helper; a file truncated after opening still fails with the reader's own message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DareTaskArithmetic, SimpleAverageAlgorithm, TaskArithmeticAlgorithm, TiesMergingAlgorithm } from '../../src/method/index.js';
import { BaseModelPool } from '../../src/modelpool/index.js';
import { DtypeViewStateDict } from '../../src/modelpool/dtype-view.js';
import { ReadBatch } from '../../src/tensor/io/read-batch.js';
import { ReadHelper } from '../../src/tensor/io/read-helper.js';
import { openSafetensors } from '../../src/tensor/safetensors-read.js';
import { writeSafetensorsSync } from '../../src/tensor/safetensors-write.js';
import { randomArrays, readAll, toStateDict } from './helpers.js';

// 70001 values: two whole read pieces of 32768 and a tail; tensors of more than 1 MiB (written behind, on
// the helper) with small ones between them (written on the spot while a big write is in flight)
const layout = { 'a.huge': [600, 500], 'b.small': [5], 'big.weight': [7, 10001], 'c.huge': [512, 600], 'd.small': [7], 'small.bias': [5] };

function withThreads<T>(threads: '1' | '2', body: () => Promise<T>): Promise<T> {
  const before = process.env.FUSION_BENCH_READ_THREADS;
  process.env.FUSION_BENCH_READ_THREADS = threads;
  return body().finally(() => {
    if (before === undefined) delete process.env.FUSION_BENCH_READ_THREADS;
    else process.env.FUSION_BENCH_READ_THREADS = before;
  });
}

function writePool(dir: string): Record<string, string> {
  const theta0 = randomArrays(70, { layout, grid: true });
  const arrays = [theta0, ...[71, 72, 73].map((s) => randomArrays(s, { layout, grid: true, around: theta0, scale: 0.25 }))];
  const names = ['_pretrained_', 'a', 'b', 'c'];
  const dirs: Record<string, string> = {};
  arrays.forEach((a, k) => {
    const d = join(dir, names[k]!);
    mkdirSync(d);
    // b in bfloat16, c sharded in float16
    const opts = k === 2 ? { dtypes: () => 'BF16' as const } : k === 3 ? { dtypes: () => 'F16' as const, maxShardBytes: 700000 } : {};
    writeSafetensorsSync(join(d, 'model.safetensors'), toStateDict(a, layout), opts);
    dirs[names[k]!] = d;
  });
  return dirs;
}

test('merges read on two threads equal merges read on one, bit for bit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-read-helper-merge-'));
  try {
    const models = writePool(dir);
    for (const make of [
      () => new TaskArithmeticAlgorithm({ scaling_factor: 0.3 }),
      () => new SimpleAverageAlgorithm({}),
      () => new DareTaskArithmetic({ scaling_factor: 0.3, sparsity_ratio: 0.4, only_on_linear_weights: false }),
      ...(['sum', 'mean', 'max'] as const).map((f) => () => new TiesMergingAlgorithm({ scaling_factor: 0.3, threshold: 20, merge_func: f })),
    ]) {
      const run = (threads: '1' | '2') =>
        withThreads(threads, async () => {
          const pool = new BaseModelPool({ models });
          const merged = await make().run(pool);
          const out = join(dir, `out-${threads}`);
          await pool.saveModel(merged, out); // the saver's buffers: the arena path, pieces read together
          const lazy = readAll(merged); // fresh arrays: reads outside the arena
          merged.stateDict.close?.();
          const saved = await new BaseModelPool({ models: { m: out } }).loadModel('m');
          const back = readAll(saved);
          saved.stateDict.close?.();
          return { lazy, back };
        });
      const one = await run('1');
      const two = await run('2');
      const name = make().constructor.name;
      assert.deepEqual(two.back, one.back, `${name}: saved`);
      assert.deepEqual(two.lazy, one.lazy, `${name}: loaded lazily`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a torch_dtype view rounds what a batch read, after the read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-read-helper-view-'));
  try {
    const file = join(dir, 'model.safetensors');
    writeSafetensorsSync(file, toStateDict(randomArrays(80, { layout }), layout));
    const view = new DtypeViewStateDict(openSafetensors(file), 'BF16');
    const shared = new SharedArrayBuffer(4 * 70001);
    const helper = ReadHelper.start(shared);
    try {
      const batch = new ReadBatch(helper);
      const out = view.loadF32RangeInto!('big.weight', 1000, new Float32Array(shared, 0, 50000), batch);
      batch.run();
      assert.deepEqual(out, view.loadF32('big.weight').subarray(1000, 51000));
      assert.ok(out.some((v, i) => v !== openSafetensors(file).loadF32('big.weight')[1000 + i]), 'the values were rounded to bfloat16');
    } finally {
      helper?.close();
      view.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a model file truncated after opening fails the merge with the reader\'s message, on two threads too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-read-helper-trunc-'));
  try {
    const models = writePool(dir);
    await withThreads('2', async () => {
      const pool = new BaseModelPool({ models });
      const merged = await new TaskArithmeticAlgorithm({ scaling_factor: 0.3 }).run(pool);
      truncateSync(join(models.a!, 'model.safetensors'), 1000);
      await assert.rejects(pool.saveModel(merged, join(dir, 'out')), /file ends in the middle of tensor 'a\.huge'/);
      merged.stateDict.close?.();
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Task arithmetic inside a sweep keeps Σᵢ(θᵢ − θ₀) in the sweep cache: a later job with another λ reads no
 * fine-tuned tensor and gives bit-identical results to an uncached merge; a single run keeps nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskArithmeticAlgorithm } from '../../src/method/index.js';
import { BaseModelPool } from '../../src/modelpool/index.js';
import type { Model } from '../../src/modelpool/model.js';
import { runContext, type RunContext } from '../../src/run-context.js';
import { writeSafetensorsSync } from '../../src/tensor/safetensors-write.js';
import type { StateDict, TensorInfo } from '../../src/tensor/types.js';
import { randomArrays, toStateDict } from './helpers.js';

/** Counts the tensor loads of a model read from disk (and closes the file when closed). */
class CountingFileStateDict implements StateDict {
  loads = 0;
  constructor(private readonly inner: StateDict) {}
  names(): readonly string[] { return this.inner.names(); }
  has(n: string): boolean { return this.inner.has(n); }
  info(n: string): TensorInfo { return this.inner.info(n); }
  loadF32(n: string): Float32Array { this.loads++; return this.inner.loadF32(n); }
  close(): void { this.inner.close?.(); }
}

/** A pool whose loaded models count their tensor loads, per model name. */
class CountingPool extends BaseModelPool {
  readonly loads = new Map<string, CountingFileStateDict[]>();
  override async loadModel(name: string): Promise<Model> {
    const m = await super.loadModel(name);
    const sd = new CountingFileStateDict(m.stateDict);
    this.loads.set(name, [...(this.loads.get(name) ?? []), sd]);
    return { ...m, stateDict: sd };
  }
  /** Loads of the models named, in the latest loadModel of each. */
  latestLoads(names: readonly string[]): number {
    return names.reduce((s, n) => s + (this.loads.get(n)?.at(-1)?.loads ?? 0), 0);
  }
}

function writeModels(dir: string): Record<string, string> {
  const theta0 = randomArrays(70);
  const paths: Record<string, string> = {};
  [['_pretrained_', theta0], ['a', randomArrays(71, { around: theta0, scale: 0.1 })], ['b', randomArrays(72, { around: theta0, scale: 0.1 })], ['c', randomArrays(73, { around: theta0, scale: 0.1 })]].forEach(([name, arrays]) => {
    const d = join(dir, name as string);
    mkdirSync(d);
    writeSafetensorsSync(join(d, 'model.safetensors'), toStateDict(arrays as ReturnType<typeof randomArrays>));
    paths[name as string] = d;
  });
  return paths;
}

async function merge(pool: BaseModelPool, lambda: number, ctx: RunContext = runContext({ status: null })): Promise<Map<string, Float32Array>> {
  const merged = await new TaskArithmeticAlgorithm({ scaling_factor: lambda }, ctx).run(pool);
  const out = new Map<string, Float32Array>();
  for (const n of merged.stateDict.names()) out.set(n, merged.stateDict.loadF32(n));
  merged.stateDict.close?.();
  return out;
}

function assertBitIdentical(got: Map<string, Float32Array>, want: Map<string, Float32Array>): void {
  assert.deepEqual([...got.keys()], [...want.keys()]);
  for (const [n, w] of want) assert.deepEqual(new Uint32Array(got.get(n)!.buffer), new Uint32Array(w.buffer), `tensor ${n}`);
}

const FINETUNED = ['a', 'b', 'c'];

test('a sweep reuses the task vector sums: bit-identical, no fine-tuned tensor read again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ta-cache-'));
  try {
    const models = writeModels(dir);
    // Uncached references, each without a sweep cache.
    const reference = new Map<number, Map<string, Float32Array>>();
    for (const l of [0.3, 0.7, 1.25]) reference.set(l, await merge(new BaseModelPool({ models }), l));

    const sweepCache = new Map<string, unknown>();
    const ctx = runContext({ status: null, sweepCache });
    const first = new CountingPool({ models });
    assertBitIdentical(await merge(first, 0.3, ctx), reference.get(0.3)!);
    const tensors = reference.get(0.3)!.size;
    assert.equal(first.latestLoads(FINETUNED), tensors * FINETUNED.length, 'the first job reads every fine-tuned tensor');
    assert.equal([...sweepCache.keys()].filter((k) => k.startsWith('task-vector-sum')).length, 1);

    for (const l of [0.7, 1.25]) {
      // A new pool instance per job, as the program builds one per job.
      const pool = new CountingPool({ models });
      assertBitIdentical(await merge(pool, l, ctx), reference.get(l)!);
      assert.equal(pool.latestLoads(FINETUNED), 0, `λ=${l}: no fine-tuned tensor is read`);
      assert.equal(pool.latestLoads(['_pretrained_']), tensors, `λ=${l}: θ₀ is read once per tensor`);
    }

    // A checkpoint rewritten on disk (new mtime) is a different model: the sums are computed again.
    const later = new Date(Date.now() + 5000);
    utimesSync(join(models.b!, 'model.safetensors'), later, later);
    const edited = new CountingPool({ models });
    assertBitIdentical(await merge(edited, 0.7, ctx), reference.get(0.7)!);
    assert.equal(edited.latestLoads(FINETUNED), tensors * FINETUNED.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('outside a sweep nothing is kept, however often the same models are merged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ta-cache-'));
  try {
    const models = writeModels(dir);
    const once = new CountingPool({ models });
    const r1 = await merge(once, 0.5);
    for (let i = 0; i < 2; i++) {
      const again = new CountingPool({ models });
      assertBitIdentical(await merge(again, 0.5), r1);
      assert.ok(again.latestLoads(FINETUNED) > 0, 'each merge reads the fine-tuned models');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

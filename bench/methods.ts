/**
 * Every streaming merging method, timed end to end through the library — open the pool
 * (CLIPVisionModelPool), merge, save model.safetensors — on merge-floor's small pool: a pretrained and
 * 8 fine-tuned CLIP vision towers with `--layers` encoder layers (2: ~16M parameters, 64 MB per model in
 * float32), stored as `--dtype`. The two-model methods (linear interpolation, SLERP) take the first two
 * fine-tuned towers.
 *
 * Each method runs `--runs` times in this process, interleaved round by round (so that the machine's load
 * falls on every method alike), after one untimed round; prints JSON with each method's median and range
 * in seconds.
 *
 * Usage: node dist/bench/methods.js [--dtype F32|F16|BF16] [--layers 2] [--runs 3] [--only simple_average,slerp]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DareTaskArithmetic, LinearInterpolationAlgorithm, MagMaxAlgorithm, ModelStock, SimpleAverageAlgorithm, SlerpMergeAlgorithm, TaskArithmeticAlgorithm,
  TiesMergingAlgorithm, WeightedAverageAlgorithm,
} from '../src/method/index.js';
import { CLIPVisionModelPool } from '../src/modelpool/index.js';
import type { Model } from '../src/modelpool/model.js';
import { isDType } from '../src/tensor/dtype.js';
import { benchArgs, benchFail } from './lib/args.js';
import { ensurePool, modelDirs, poolDirFor } from './lib/floor-pool.js';

const USAGE = 'usage: node dist/bench/methods.js [--dtype F32|F16|BF16] [--layers 2] [--runs 3] [--only simple_average,slerp]';
const { values } = benchArgs(USAGE, {
  options: {
    dtype: { type: 'string', default: 'F32' },
    layers: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
  },
});

interface Merger {
  run(pool: CLIPVisionModelPool): Promise<Model>;
}

const FINETUNED = 8;
const METHODS: Record<string, { models: 'all' | 'two'; make: () => Merger }> = {
  simple_average: { models: 'all', make: () => new SimpleAverageAlgorithm({}) },
  weighted_average: { models: 'all', make: () => new WeightedAverageAlgorithm({ weights: Array(FINETUNED).fill(1 / FINETUNED), normalize: true }) },
  task_arithmetic: { models: 'all', make: () => new TaskArithmeticAlgorithm({ scaling_factor: 0.3 }) },
  ties_merging: { models: 'all', make: () => new TiesMergingAlgorithm({ scaling_factor: 0.3, threshold: 20, remove_keys: [], merge_func: 'sum' }) },
  dare_task_arithmetic: { models: 'all', make: () => new DareTaskArithmetic({ scaling_factor: 0.3, sparsity_ratio: 0.5, only_on_linear_weights: false }) },
  magmax: { models: 'all', make: () => new MagMaxAlgorithm({ scaling_factor: 1 }) },
  model_stock: { models: 'all', make: () => new ModelStock({}) },
  linear_interpolation: { models: 'two', make: () => new LinearInterpolationAlgorithm({ t: 0.3 }) },
  slerp: { models: 'two', make: () => new SlerpMergeAlgorithm({ t: 0.3 }) },
};

function fail(message: string): never {
  return benchFail(USAGE, message);
}

const dtype = values.dtype!;
if (!isDType(dtype) || !['F32', 'F16', 'BF16'].includes(dtype)) fail(`--dtype: expected F32, F16 or BF16, got ${dtype}`);
const layers = Number(values.layers);
if (!Number.isInteger(layers) || layers < 1 || layers > 12) fail(`--layers: expected 1 to 12, got ${values.layers}`);
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) fail(`--runs: expected a positive integer, got ${values.runs}`);
const names = values.only === undefined ? Object.keys(METHODS) : values.only.split(',').map((s) => s.trim());
for (const n of names) if (!Object.hasOwn(METHODS, n)) fail(`--only: no method '${n}' (known: ${Object.keys(METHODS).join(', ')})`);

const poolDir = poolDirFor(layers, dtype);
ensurePool(poolDir, FINETUNED, layers, dtype, 'methods');
const { base, finetuned } = modelDirs(poolDir, FINETUNED);
const allModels: Record<string, string> = { _pretrained_: base };
finetuned.forEach((d, k) => (allModels[`task${k + 1}`] = d));
const twoModels = { a: finetuned[0]!, b: finetuned[1]! };

const out = mkdtempSync(join(tmpdir(), 'fb-bench-methods-'));
const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
try {
  for (let round = -1; round < runs; round++) {
    for (const name of names) {
      const m = METHODS[name]!;
      const pool = new CLIPVisionModelPool({ models: m.models === 'all' ? allModels : twoModels });
      const t = performance.now();
      const merged = await m.make().run(pool);
      await pool.saveModel(merged, join(out, name));
      merged.stateDict.close?.();
      if (round >= 0) times[name]!.push((performance.now() - t) / 1000);
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const r3 = (x: number) => Number(x.toFixed(3));
process.stdout.write(`${JSON.stringify({
  bench: 'methods',
  pool: { dir: poolDir, layers, dtype, finetuned: FINETUNED },
  runs,
  seconds: Object.fromEntries(names.map((n) => [n, { median: r3(median(times[n]!)), min: r3(Math.min(...times[n]!)), max: r3(Math.max(...times[n]!)) }])),
}, null, 2)}\n`);

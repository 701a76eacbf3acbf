/**
 * Our methods against goldens computed by fusion_bench's own method code on torch 1.13.1 (float32), from
 * the small CLIP vision models in test/fixtures/fusion-bench-merges/ (see its README.md for how). Each
 * golden file names, in its metadata, the fusion_bench function that produced it and its parameters.
 *
 * Where fusion_bench cannot run as written, the golden comes from the same fusion_bench functions its
 * method calls, and the case says why:
 * - TIES with `remove_keys`: run() drops those keys from the merged state dict and its strict
 *   load_state_dict fails ("Missing key(s)"); the golden loads non-strictly, so they keep θ₀.
 * - linear interpolation: run() asserts `modelpool.all_model_names == 2` (a list compared with an int),
 *   which always fails; the golden is its state_dict_weighted_sum([θa, θb], [1 − t, t]).
 * The checkpoints carry an int64 `position_ids` buffer, which transformers' CLIPVisionModel no longer
 * keeps in its state dict (nor does our CLIP vision pool): the goldens have no such tensor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  LinearInterpolationAlgorithm, MagMaxAlgorithm, ModelStock, SimpleAverageAlgorithm, SlerpMergeAlgorithm, TaskArithmeticAlgorithm,
  TiesMergingAlgorithm, WeightedAverageAlgorithm,
} from '../../src/method/index.js';
import type { MergeAlgorithmClass } from '../../src/method/index.js';
import { CLIPVisionModelPool } from '../../src/modelpool/index.js';
import { openSafetensors } from '../../src/tensor/safetensors-read.js';
import { repoRoot } from '../helpers/paths.js';

const FIXTURES = join(repoRoot, 'test', 'fixtures', 'fusion-bench-merges');
const MODEL_DIRS: Record<string, string> = { _pretrained_: 'pretrained', ft1: 'ft1', ft2: 'ft2', ft3: 'ft3' };
const ALL = ['_pretrained_', 'ft1', 'ft2', 'ft3'];
const REMOVE = ['vision_model.embeddings.class_embedding', 'vision_model.encoder.layers.0.mlp.fc2.bias'];

interface Case {
  readonly golden: string;
  readonly method: MergeAlgorithmClass;
  readonly params: Record<string, unknown>;
  readonly models: readonly string[];
  /** Element-wise arithmetic in the same order as torch: the result must be bit-identical. */
  readonly exact: boolean;
}

const ties = (merge_func: string, remove_keys: string[] = []) => ({ scaling_factor: 0.3, threshold: 20, remove_keys, merge_func });

const CASES: readonly Case[] = [
  { golden: 'task_arithmetic', method: TaskArithmeticAlgorithm, params: { scaling_factor: 0.3 }, models: ALL, exact: true },
  { golden: 'ties_merging_sum', method: TiesMergingAlgorithm, params: ties('sum'), models: ALL, exact: true },
  { golden: 'ties_merging_mean', method: TiesMergingAlgorithm, params: ties('mean'), models: ALL, exact: true },
  { golden: 'ties_merging_max', method: TiesMergingAlgorithm, params: ties('max'), models: ALL, exact: true },
  { golden: 'ties_merging_remove_keys', method: TiesMergingAlgorithm, params: ties('mean', REMOVE), models: ALL, exact: true },
  { golden: 'simple_average', method: SimpleAverageAlgorithm, params: {}, models: ALL, exact: true },
  ...[[0.2, 0.3, 0.5], [0.5, 1.0, 1.5]].flatMap((weights) =>
    [true, false].map((normalize) => ({
      golden: `weighted_average_${weights.map((w) => w.toFixed(1)).join('_')}_${normalize ? 'norm' : 'raw'}`,
      method: WeightedAverageAlgorithm, params: { weights, normalize }, models: ALL.slice(1), exact: true,
    })),
  ),
  { golden: 'magmax', method: MagMaxAlgorithm, params: { scaling_factor: 0.5 }, models: ALL, exact: true },
  { golden: 'linear_interpolation', method: LinearInterpolationAlgorithm, params: { t: 0.3 }, models: ['ft1', 'ft2'], exact: true },
  // Norms and dot products are reductions whose summation order torch chooses (vectorised): not bit-exact.
  { golden: 'slerp', method: SlerpMergeAlgorithm, params: { t: 0.3 }, models: ['ft1', 'ft2'], exact: false },
  { golden: 'model_stock', method: ModelStock, params: {}, models: ALL, exact: false },
  { golden: 'model_stock_two', method: ModelStock, params: {}, models: ALL.slice(0, 3), exact: false },
  { golden: 'model_stock_ignore', method: ModelStock, params: { ignore_keys: ['vision_model.encoder.layers.0.mlp.fc1.weight'] }, models: ALL, exact: false },
];

function pool(names: readonly string[]): CLIPVisionModelPool {
  return new CLIPVisionModelPool({ models: Object.fromEntries(names.map((n) => [n, join(FIXTURES, 'models', MODEL_DIRS[n]!)])) });
}

/** A JSON value with object keys sorted, to compare with Python's json.dumps(sort_keys=True). */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}

for (const c of CASES) {
  test(`${c.method.name} equals fusion_bench's float32 result (${c.golden})`, async (t) => {
    const golden = openSafetensors(join(FIXTURES, 'golden', `${c.golden}.safetensors`));
    const merged = await new c.method(c.params).run(pool(c.models));
    try {
      // The golden was made with these parameters and models.
      assert.deepEqual(canonical(JSON.parse(golden.metadata.params!)), canonical(c.params));
      assert.equal(golden.metadata.models, c.models.join(','));

      const sd = merged.stateDict;
      assert.deepEqual([...sd.names()].sort(), [...golden.names()].sort());
      let worst = 0;
      let worstRel = 0;
      let unequal = 0;
      for (const name of golden.names()) {
        assert.deepEqual(sd.info(name).shape, golden.info(name).shape, name);
        const want = golden.loadF32(name);
        const got = sd.loadF32(name);
        let maxAbs = 0;
        let maxDiff = 0;
        for (let i = 0; i < want.length; i++) {
          maxAbs = Math.max(maxAbs, Math.abs(want[i]!));
          const d = Math.abs(got[i]! - want[i]!);
          if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
          if (!Object.is(got[i], want[i])) unequal++;
        }
        assert.ok(maxDiff <= 1e-5 * maxAbs, `${name}: max |diff| ${maxDiff} > 1e-5 × ${maxAbs}`);
        worst = Math.max(worst, maxDiff);
        worstRel = Math.max(worstRel, maxAbs > 0 ? maxDiff / maxAbs : maxDiff);
      }
      if (c.exact) assert.equal(unequal, 0, `${unequal} values differ from the golden`);
      t.diagnostic(`${c.golden}: max |diff| ${worst.toExponential(2)}, max |diff|/max|value| ${worstRel.toExponential(2)}, ${unequal} values not bit-equal`);
    } finally {
      merged.stateDict.close?.();
      golden.close();
    }
  });
}

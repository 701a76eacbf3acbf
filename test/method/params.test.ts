/** Method options: fusion_bench's keys, required ones required, wrong types and ranges refused clearly. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUserError } from '../../src/errors.js';
import { Float } from '../../src/config/values.js';
import {
  DareTaskArithmetic, DareTiesMerging, LinearInterpolationAlgorithm, METHODS, MagMaxAlgorithm, SlerpMergeAlgorithm, TaskArithmeticAlgorithm,
  TiesMergingAlgorithm, WeightedAverageAlgorithm,
} from '../../src/method/index.js';
import { model, randomArrays } from './helpers.js';

function refuses(f: () => unknown, pattern: RegExp): void {
  assert.throws(f, (e: unknown) => isUserError(e) && pattern.test((e as Error).message));
}

test('required options and types', () => {
  refuses(() => new TaskArithmeticAlgorithm({}), /TaskArithmeticAlgorithm: option 'scaling_factor' is required/);
  refuses(() => new TaskArithmeticAlgorithm({ scaling_factor: 'big' }), /'scaling_factor' must be a finite number, got "big"/);
  refuses(() => new TiesMergingAlgorithm({ scaling_factor: 0.3, threshold: 120 }), /'threshold' must be a number with 0 ≤ threshold ≤ 100, got 120/);
  refuses(() => new TiesMergingAlgorithm({ scaling_factor: 0.3, threshold: 20, merge_func: 'median' }), /'merge_func' must be one of sum, mean, max/);
  refuses(() => new TiesMergingAlgorithm({ scaling_factor: 0.3, threshold: 20, remove_keys: 'a' }), /'remove_keys' must be a list of strings/);
  refuses(() => new DareTaskArithmetic({ scaling_factor: 0.3, sparsity_ratio: 1.5, only_on_linear_weights: false }), /'sparsity_ratio' must be a number with 0 ≤ sparsity_ratio ≤ 1/);
  refuses(() => new DareTaskArithmetic({ scaling_factor: 0.3, sparsity_ratio: 0.5 }), /'only_on_linear_weights' is required/);
  refuses(() => new DareTiesMerging({ sparsity_ratio: 0.5, only_on_linear_weights: false, scaling_factor: 1, threshold: 20, remove_keys: [], merge_func: 'sum' }), /'rescale' is required/);
  refuses(() => new LinearInterpolationAlgorithm({ t: 1.5 }), /'t' must be a number with 0 ≤ t ≤ 1/);
  refuses(() => new WeightedAverageAlgorithm({ normalize: true, weights: [0.5, 'x'] }), /'weights' must be a list of finite numbers/);
  refuses(() => new MagMaxAlgorithm({ inplace: 'yes' }), /'inplace' must be true or false/);
});

test('defaults and boxed config floats', () => {
  assert.equal(new MagMaxAlgorithm({}).scaling_factor, 0.5);
  const s = new SlerpMergeAlgorithm({ t: new Float(0.5), epsilon: new Float(1e-8) });
  assert.equal(s.t, 0.5);
  assert.equal(s.DOT_THRESHOLD, 0.9995);
  assert.equal(new TiesMergingAlgorithm({ scaling_factor: 0.3, threshold: 20 }).merge_func, 'sum');
});

test('pool shape errors are UserErrors', async () => {
  const a = model(randomArrays(1));
  await assert.rejects(new TaskArithmeticAlgorithm({ scaling_factor: 1 }).run({ x: a }), (e: unknown) => isUserError(e) && /needs a '_pretrained_' model/.test((e as Error).message));
  await assert.rejects(new LinearInterpolationAlgorithm({ t: 0.5 }).run({ x: a, y: a, z: a }), (e: unknown) => isUserError(e) && /exactly 2 models in the pool, got 3/.test((e as Error).message));
  await assert.rejects(new WeightedAverageAlgorithm({ normalize: true, weights: [1] }).run({ x: a, y: a }), (e: unknown) => isUserError(e) && /1 weights for 2 models/.test((e as Error).message));
});

test('the registry map names every method by its fusion_bench target', () => {
  for (const name of ['TaskArithmeticAlgorithm', 'TiesMergingAlgorithm', 'SimpleAverageAlgorithm', 'DummyAlgorithm', 'MagMaxAlgorithm', 'SlerpMergeAlgorithm']) {
    assert.ok(METHODS[`fusion_bench.method.${name}`], name);
  }
  assert.equal(METHODS['fusion_bench.method.dare.DareTiesMerging'], DareTiesMerging);
  assert.ok(METHODS['fusion_bench.method.model_stock.ModelStock']);
  assert.deepEqual(METHODS['fusion_bench.method.TaskArithmeticAlgorithm']!.configKeys, ['scaling_factor', 'inplace']);
});

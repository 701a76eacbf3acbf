/** The `sweep` node: selection mode, evaluate_best_with, validation task pool detection, override merging. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidationTaskPool, selectOptionsOf, withOverrides } from '../../src/program/sweep-select.js';
import { isUserError } from '../../src/errors.js';

test('sweep options: defaults, a mapping or a list of overrides, and clear refusals', () => {
  assert.deepEqual(selectOptionsOf(undefined), { select: 'auto', evaluateBestWith: [] });
  assert.deepEqual(selectOptionsOf({ select: 'best', evaluate_best_with: { taskpool: 'X/y_TA8', 'taskpool.batch_size': 8 } }), {
    select: 'best',
    evaluateBestWith: ['taskpool=X/y_TA8', 'taskpool.batch_size=8'],
  });
  assert.deepEqual(selectOptionsOf({ evaluate_best_with: ['taskpool=t', '+x=1'] }).evaluateBestWith, ['taskpool=t', '+x=1']);
  const bad = (v: unknown, re: RegExp) => assert.throws(() => selectOptionsOf(v as never), (e) => isUserError(e) && re.test((e as Error).message));
  bad({ selct: 'best' }, /sweep\.selct: unknown option/);
  bad({ select: 'max' }, /sweep\.select: expected auto, best or none/);
  bad({ evaluate_best_with: ['a=1,2'] }, /is a sweep/);
  bad({ select: 'none', evaluate_best_with: { a: 1 } }, /needs a selected job/);
  bad({ evaluate_best_with: 3 }, /expected a mapping/);
});

test('validation task pools: by option name or by train_validation_split datasets', () => {
  assert.equal(isValidationTaskPool(null, { taskpool: 'CLIPVisionModelTaskPool/clip-vit-classification_TA8_val' }), true);
  assert.equal(isValidationTaskPool(null, { taskpool: 'CLIPVisionModelTaskPool/clip-vit-classification_TA8' }), false);
  assert.equal(isValidationTaskPool(null, { taskpool: 'dummy' }), false);
  const split = { _target_: 'fusion_bench.utils.data.train_validation_split', return_split: 'val' };
  assert.equal(isValidationTaskPool({ taskpool: { test_datasets: { svhn: split } } }, { taskpool: 'mine' }), true);
  assert.equal(isValidationTaskPool({ taskpool: { test_datasets: { svhn: { ...split, return_split: 'train' } } } }, { taskpool: 'mine' }), false);
});

test('evaluate_best_with replaces the same key in place and appends new ones', () => {
  assert.deepEqual(withOverrides(['taskpool=a_val', 'method.scaling_factor=0.3', '+x=1'], ['taskpool=a', 'x=2', 'fast_dev_run=true']), [
    'taskpool=a',
    'method.scaling_factor=0.3',
    '+x=2',
    'fast_dev_run=true',
  ]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataFilesBySplit, globToRegExp, inferSplits, parseDatasetCard, resolveSplitFiles } from '../../src/data/data-files.js';
import { UserError } from '../../src/errors.js';

const MNIST_CARD = `---
dataset_info:
  config_name: mnist
  features:
  - name: image
    dtype: image
  - name: label
    dtype:
      class_label:
        names:
          '0': '0'
          '1': '1'
          '2': '2'
          '10': 'ten'
configs:
- config_name: mnist
  data_files:
  - split: train
    path: mnist/train-*
  - split: test
    path: mnist/test-*
  default: true
---
# MNIST
`;

const SVHN_CARD = `---
configs:
- config_name: cropped_digits
  data_files:
  - split: train
    path: cropped_digits/train-*
  - split: test
    path: cropped_digits/test-*
- config_name: full_numbers
  data_files:
  - split: test
    path: full_numbers/test-*
---
`;

test('globs: ** crosses folders, * does not', () => {
  assert.ok(globToRegExp('mnist/test-*').test('mnist/test-00000-of-00001.parquet'));
  assert.ok(!globToRegExp('*.parquet').test('data/a.parquet'));
  assert.ok(globToRegExp('**/*.parquet').test('a.parquet'));
  assert.ok(globToRegExp('**/*.parquet').test('x/y/a.parquet'));
  assert.ok(globToRegExp('**[-._ 0-9/]test[-._ 0-9]*').test('cfg/test-0.parquet'));
  assert.ok(!globToRegExp('**[-._ 0-9/]test[-._ 0-9]*').test('cfg/latest.parquet'));
});

test('default patterns: sharded data/ names, split folders, split file names', () => {
  const sharded = inferSplits(['data/test-00000-of-00002.parquet', 'data/test-00001-of-00002.parquet', 'data/train-00000-of-00001.parquet', 'README.md']);
  assert.deepEqual([...sharded.keys()].sort(), ['test', 'train']);
  assert.equal(sharded.get('test')!.length, 2);
  const dirs = inferSplits(['test/a.parquet', 'test/b.parquet', 'train/c.parquet', '.hidden/test.parquet']);
  assert.deepEqual(dirs.get('test'), ['test/a.parquet', 'test/b.parquet']);
  const names = inferSplits(['mnist/test-00000-of-00001.parquet', 'mnist/train-00000-of-00001.parquet']);
  assert.deepEqual(names.get('test'), ['mnist/test-00000-of-00001.parquet']);
  assert.deepEqual(inferSplits(['only.parquet']).get('train'), ['only.parquet']);
});

test('dataset card configs choose the files; default config and named config', () => {
  const files = ['README.md', 'mnist/test-00000-of-00001.parquet', 'mnist/train-00000-of-00001.parquet'];
  const card = parseDatasetCard(MNIST_CARD, 'mnist')!;
  assert.deepEqual(card.labelNames.get('mnist'), ['0', '1', '2', 'ten']);
  assert.deepEqual(resolveSplitFiles(files, card, undefined, 'test', 'mnist').files, ['mnist/test-00000-of-00001.parquet']);
  assert.deepEqual(resolveSplitFiles(files, card, 'mnist', 'train', 'mnist').files, ['mnist/train-00000-of-00001.parquet']);
  assert.throws(() => resolveSplitFiles(files, card, 'other', 'test', 'ds X'), (e: unknown) => e instanceof UserError && /ds X: no config named 'other'.*'mnist'/.test(e.message));
  assert.throws(() => resolveSplitFiles(files, card, undefined, 'validation', 'ds X'), (e: unknown) => e instanceof UserError && /no split 'validation'/.test(e.message));

  const svhnFiles = ['cropped_digits/test-00000-of-00001.parquet', 'cropped_digits/train-00000-of-00001.parquet', 'full_numbers/test-00000-of-00001.parquet'];
  const svhn = parseDatasetCard(SVHN_CARD, 'svhn')!;
  assert.deepEqual(resolveSplitFiles(svhnFiles, svhn, 'cropped_digits', 'test', 'svhn').files, ['cropped_digits/test-00000-of-00001.parquet']);
  assert.throws(() => resolveSplitFiles(svhnFiles, svhn, undefined, 'test', 'svhn'), (e: unknown) => e instanceof UserError && /several configs/.test(e.message));
});

test('without a card, a config name selects its folder', () => {
  const files = ['a/test-00000-of-00001.parquet', 'b/test-00000-of-00001.parquet'];
  assert.deepEqual(resolveSplitFiles(files, null, 'b', 'test', 'ds').files, ['b/test-00000-of-00001.parquet']);
  assert.throws(() => resolveSplitFiles(files, null, 'c', 'test', 'ds'), UserError);
  assert.throws(() => resolveSplitFiles(files, null, 'a', 'train', 'ds'), (e: unknown) => e instanceof UserError && /found splits 'test'/.test(e.message));
});

test('data_files forms', () => {
  assert.deepEqual(dataFilesBySplit('x.parquet', 'd'), { train: ['x.parquet'] });
  assert.deepEqual(dataFilesBySplit(['x', 'y'], 'd'), { train: ['x', 'y'] });
  assert.deepEqual(dataFilesBySplit({ test: 't.parquet', train: ['a', 'b'] }, 'd'), { test: ['t.parquet'], train: ['a', 'b'] });
  assert.throws(() => dataFilesBySplit({ test: 3 } as never, 'd'), UserError);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDatasetOptionsFromCall } from '../../src/data/load-dataset-call.js';
import { UserError } from '../../src/errors.js';

test("fusion_bench's dataset configs map onto loader options", () => {
  // config/dataset/image_classification/test/mnist.yaml and svhn.yaml
  assert.deepEqual(loadDatasetOptionsFromCall([], { path: 'ylecun/mnist', split: 'test' }), { path: 'ylecun/mnist', split: 'test' });
  assert.deepEqual(loadDatasetOptionsFromCall(['ufldl-stanford/svhn', 'cropped_digits'], { split: 'test' }), { path: 'ufldl-stanford/svhn', name: 'cropped_digits', split: 'test' });
  assert.deepEqual(loadDatasetOptionsFromCall(['parquet'], { data_files: { test: 'x/*.parquet' }, split: 'test', revision: 'v1', cache_dir: '/tmp' }), {
    path: 'parquet',
    split: 'test',
    revision: 'v1',
    data_files: { test: 'x/*.parquet' },
  });
});

test('bad calls are UserErrors', () => {
  assert.throws(() => loadDatasetOptionsFromCall([], { path: 'ylecun/mnist' }), (e: unknown) => e instanceof UserError && /'split' is required/.test(e.message));
  assert.throws(() => loadDatasetOptionsFromCall(['a'], { path: 'b', split: 'test' }), /both positionally and by name/);
  assert.throws(() => loadDatasetOptionsFromCall([], { path: 'a', split: 'test', features: {} }), /'features' is not supported/);
  assert.throws(() => loadDatasetOptionsFromCall([3], { split: 'test' }), /'path' must be a string/);
});

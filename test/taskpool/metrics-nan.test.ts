/** Accuracy on logits holding NaN follows torch.argmax: the first NaN is the maximum. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClassificationMetrics } from '../../src/taskpool/clip-vision/metrics.js';

test('the first NaN is the predicted class, as torch.argmax picks it', () => {
  const m = new ClassificationMetrics(3, 'demo');
  m.update(new Float32Array([1, NaN, 2, /* row 1 */ 0, 5, 1]), new Int32Array([1, 1]), 0);
  assert.equal(m.result().accuracy, 1);
  const n = new ClassificationMetrics(3, 'demo');
  n.update(new Float32Array([1, NaN, 2]), new Int32Array([2]), 0);
  assert.equal(n.result().accuracy, 0);
});

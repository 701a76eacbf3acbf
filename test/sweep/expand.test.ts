/** BasicSweeper's expansion: product order, choice/range/glob/sort/shuffle, duplicate keys, batches, refusals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planSweep, product, sweptValuesOf } from '../../src/program/sweep-expand.js';
import { isUserError } from '../../src/errors.js';

const noGroups = { groupOptions: (): string[] => [] };

test('itertools.product order: the last override varies fastest, plain overrides ride along', () => {
  const plan = planSweep(['a=1,2', 'x=plain', 'b=p,q,r'], noGroups);
  assert.equal(plan.batches.length, 1);
  assert.deepEqual(plan.batches[0], [
    ['a=1', 'x=plain', 'b=p'], ['a=1', 'x=plain', 'b=q'], ['a=1', 'x=plain', 'b=r'],
    ['a=2', 'x=plain', 'b=p'], ['a=2', 'x=plain', 'b=q'], ['a=2', 'x=plain', 'b=r'],
  ]);
  assert.deepEqual(plan.swept, [{ key: 'a', values: ['1', '2'] }, { key: 'b', values: ['p', 'q', 'r'] }]);
  assert.deepEqual(product<number>([]), [[]]);
});

test('sweep functions: choice, range (int and float), sort, and values written back as override text', () => {
  assert.deepEqual(planSweep(['m.s=range(0,3)'], noGroups).batches[0], [['m.s=0'], ['m.s=1'], ['m.s=2']]);
  assert.deepEqual(planSweep(['m.s=range(0,1,0.25)'], noGroups).batches[0], [['m.s=0.0'], ['m.s=0.25'], ['m.s=0.5'], ['m.s=0.75']]);
  assert.deepEqual(planSweep(['m.s=sort(3,1,2)'], noGroups).batches[0], [['m.s=1'], ['m.s=2'], ['m.s=3']]);
  assert.deepEqual(planSweep(['m.s=choice(true,x,1e-3)'], noGroups).batches[0], [['m.s=True'], ['m.s=x'], ['m.s=0.001']]);
  const shuffled = planSweep(['m.s=shuffle(1,2,3,4)'], noGroups).batches[0].map((j) => j[0]).sort();
  assert.deepEqual(shuffled, ['m.s=1', 'm.s=2', 'm.s=3', 'm.s=4']);
});

test('glob() selects the options of the config group; prefixes and packages stay in the key', () => {
  const opts = { groupOptions: (g: string) => (g === 'method' ? ['dummy', 'task_arithmetic', 'ties_merging', 'simple_average'] : []) };
  assert.deepEqual(planSweep(['method=glob(t*)'], opts).batches[0], [['method=task_arithmetic'], ['method=ties_merging']]);
  assert.deepEqual(planSweep(['method=glob(*,exclude=[dummy,t*])'], opts).batches[0], [['method=simple_average']]);
  assert.deepEqual(planSweep(['+x=1,2', '~seed'], noGroups).batches[0], [['+x=1', '~seed=null'], ['+x=2', '~seed=null']]);
  assert.throws(() => planSweep(['method=glob(nothing*)'], opts), (e) => isUserError(e) && /no values/.test((e as Error).message));
});

test('the same key twice: first position, last values (an OrderedDict by key)', () => {
  const plan = planSweep(['a=1,2', 'b=0', 'a=7'], noGroups);
  assert.deepEqual(plan.batches[0], [['a=7', 'b=0']]);
  assert.deepEqual(plan.swept, []);
});

test('max_batch_size cuts the product into batches; interval sweeps are refused', () => {
  const plan = planSweep(['a=1,2,3,4,5'], { ...noGroups, maxBatchSize: 2 });
  assert.deepEqual(plan.batches.map((b) => b.map((j) => j[0])), [['a=1', 'a=2'], ['a=3', 'a=4'], ['a=5']]);
  assert.equal(planSweep(['a=1,2,3'], { ...noGroups, maxBatchSize: -1 }).batches.length, 1);
  assert.throws(() => planSweep(['a=1'], { ...noGroups, maxBatchSize: 0 }), /max_batch_size/);
  assert.throws(() => planSweep(['a=interval(0,1)'], noGroups), /BasicSweeper does not support sweep type : INTERVAL_SWEEP/);
  assert.deepEqual(planSweep([], noGroups).batches, [[[]]]);
});

test('swept values of a job are read back by key', () => {
  const plan = planSweep(['a=1,2', '+b@p=x,y'], noGroups);
  assert.deepEqual(sweptValuesOf(plan.batches[0][3], plan.swept), { a: '2', '+b@p': 'y' });
});

/** BasicSweeper's expansion: product order, choice/range/glob/sort/shuffle, duplicate keys, batches, refusals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SWEEP_JOBS, planSweep as plan0, product, sweptValuesOf, type ExpandOptions } from '../../src/hydra/sweeper.js';

/** The plan with its batches built (the sweeper builds them one at a time). */
function planSweep(overrides: string[], opts: ExpandOptions) {
  const p = plan0(overrides, opts);
  return { ...p, batchList: [...p.batches()] };
}
import { isUserError } from '../../src/errors.js';

const noGroups = { groupOptions: (): string[] => [] };

test('itertools.product order: the last override varies fastest, plain overrides ride along', () => {
  const plan = planSweep(['a=1,2', 'x=plain', 'b=p,q,r'], noGroups);
  assert.equal(plan.batchList.length, 1);
  assert.deepEqual(plan.batchList[0], [
    ['a=1', 'x=plain', 'b=p'], ['a=1', 'x=plain', 'b=q'], ['a=1', 'x=plain', 'b=r'],
    ['a=2', 'x=plain', 'b=p'], ['a=2', 'x=plain', 'b=q'], ['a=2', 'x=plain', 'b=r'],
  ]);
  assert.deepEqual(plan.swept, [{ key: 'a', values: ['1', '2'] }, { key: 'b', values: ['p', 'q', 'r'] }]);
  assert.deepEqual(product<number>([]), [[]]);
});

test('sweep functions: choice, range (int and float), sort, and values written back as override text', () => {
  assert.deepEqual(planSweep(['m.s=range(0,3)'], noGroups).batchList[0], [['m.s=0'], ['m.s=1'], ['m.s=2']]);
  assert.deepEqual(planSweep(['m.s=range(0,1,0.25)'], noGroups).batchList[0], [['m.s=0.0'], ['m.s=0.25'], ['m.s=0.5'], ['m.s=0.75']]);
  assert.deepEqual(planSweep(['m.s=sort(3,1,2)'], noGroups).batchList[0], [['m.s=1'], ['m.s=2'], ['m.s=3']]);
  assert.deepEqual(planSweep(['m.s=choice(true,x,1e-3)'], noGroups).batchList[0], [['m.s=True'], ['m.s=x'], ['m.s=0.001']]);
  const shuffled = planSweep(['m.s=shuffle(1,2,3,4)'], noGroups).batchList[0].map((j) => j[0]).sort();
  assert.deepEqual(shuffled, ['m.s=1', 'm.s=2', 'm.s=3', 'm.s=4']);
});

test('glob() selects the options of the config group; prefixes and packages stay in the key', () => {
  const opts = { groupOptions: (g: string) => (g === 'method' ? ['dummy', 'task_arithmetic', 'ties_merging', 'simple_average'] : []) };
  assert.deepEqual(planSweep(['method=glob(t*)'], opts).batchList[0], [['method=task_arithmetic'], ['method=ties_merging']]);
  assert.deepEqual(planSweep(['method=glob(*,exclude=[dummy,t*])'], opts).batchList[0], [['method=simple_average']]);
  assert.deepEqual(planSweep(['+x=1,2', '~seed'], noGroups).batchList[0], [['+x=1', '~seed=null'], ['+x=2', '~seed=null']]);
  assert.throws(() => planSweep(['method=glob(nothing*)'], opts), (e) => isUserError(e) && /no values/.test((e as Error).message));
});

test('the same key twice: first position, last values (an OrderedDict by key)', () => {
  const plan = planSweep(['a=1,2', 'b=0', 'a=7'], noGroups);
  assert.deepEqual(plan.batchList[0], [['a=7', 'b=0']]);
  assert.deepEqual(plan.swept, []);
});

test('max_batch_size cuts the product into batches; interval sweeps are refused', () => {
  const plan = planSweep(['a=1,2,3,4,5'], { ...noGroups, maxBatchSize: 2 });
  assert.deepEqual(plan.batchList.map((b) => b.map((j) => j[0])), [['a=1', 'a=2'], ['a=3', 'a=4'], ['a=5']]);
  assert.equal(planSweep(['a=1,2,3'], { ...noGroups, maxBatchSize: -1 }).batchList.length, 1);
  assert.throws(() => planSweep(['a=1'], { ...noGroups, maxBatchSize: 0 }), /max_batch_size/);
  assert.throws(() => planSweep(['a=interval(0,1)'], noGroups), /BasicSweeper does not support sweep type : INTERVAL_SWEEP/);
  assert.deepEqual(planSweep([], noGroups).batchList, [[[]]]);
});

test('swept values of a job are read back by key', () => {
  const plan = planSweep(['a=1,2', '+b@p=x,y'], noGroups);
  assert.deepEqual(sweptValuesOf(plan.batchList[0][3], plan.swept), { a: '2', '+b@p': 'y' });
});

test('a large product is expanded lazily: job i is computed without building the product; past the limit it is refused', () => {
  const p = plan0(['a=range(0,100000)', 'b=range(0,5)'], noGroups);
  assert.equal(p.jobCount, 500000);
  assert.deepEqual(p.job(0), ['a=0', 'b=0']);
  assert.deepEqual(p.job(7), ['a=1', 'b=2']);
  assert.deepEqual(p.job(499999), ['a=99999', 'b=4']);
  const first = p.batches().next().value!;
  assert.equal(first.length, 500000);
  const small = plan0(['a=range(0,100000)', 'b=range(0,5)'], { ...noGroups, maxBatchSize: 3 });
  assert.deepEqual(small.batches().next().value, [['a=0', 'b=0'], ['a=0', 'b=1'], ['a=0', 'b=2']]);
  assert.throws(() => plan0(['a=range(0,100000)', 'b=range(0,100000)'], noGroups), (e) => isUserError(e) && new RegExp(`at most ${MAX_SWEEP_JOBS} jobs`).test((e as Error).message));
  // the same order as the full product
  const q = plan0(['x=1,2,3', 'y=a,b', 'z=p,q'], noGroups);
  assert.deepEqual(Array.from({ length: q.jobCount }, (_, i) => q.job(i)), product([['x=1', 'x=2', 'x=3'], ['y=a', 'y=b'], ['z=p', 'z=q']]));
});

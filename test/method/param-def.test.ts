/**
 * Method parameters declared once as data: the declaration gives the constructor its checked values,
 * the registry its parameter names (for `_args_` and the unknown-key error) and `--info targets` its
 * listing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUserError } from '../../src/errors.js';
import { METHODS, TaskArithmeticAlgorithm, TiesMergingAlgorithm, DareTiesMerging } from '../../src/method/index.js';
import { readParams, type ParamDef } from '../../src/method/param-def.js';
import { createBuiltinRegistry } from '../../src/registry/builtins.js';
import { instantiate } from '../../src/registry/instantiate.js';
import { runContext } from '../../src/run-context.js';

test('a key the method does not declare is an error listing the keys it takes', async () => {
  assert.throws(() => new TaskArithmeticAlgorithm({ scaling_factor: 0.3, scaling_facter: 0.5 }), (e: unknown) =>
    isUserError(e) && /TaskArithmeticAlgorithm: unknown option 'scaling_facter'; TaskArithmeticAlgorithm takes 'scaling_factor', 'inplace'/.test((e as Error).message));
  const r = createBuiltinRegistry();
  await assert.rejects(instantiate(r, { _target_: 'fusion_bench.method.TiesMergingAlgorithm', scaling_factor: 0.3, threshold: 20, treshold: 10 }), (e: unknown) =>
    isUserError(e) && /unexpected keyword argument\(s\) 'treshold'; it takes 'scaling_factor', 'threshold', 'remove_keys', 'merge_func'$/.test((e as Error).message));
  // fusion_bench's metadata keys are accepted everywhere
  const m = await instantiate(r, { _target_: 'TaskArithmeticAlgorithm', scaling_factor: 0.3, _usage_: 'x', _version_: '0.2' });
  assert.ok(m instanceof TaskArithmeticAlgorithm);
});

test('_args_ bind to the declared parameters in order', async () => {
  const r = createBuiltinRegistry();
  const m = (await instantiate(r, { _target_: 'fusion_bench.method.TiesMergingAlgorithm', _args_: [0.7, 20] })) as TiesMergingAlgorithm;
  assert.equal(m.scaling_factor, 0.7);
  assert.equal(m.threshold, 20);
  assert.equal(m.merge_func, 'sum');
});

test('every registered method declares its parameters, with a doc line each, and the registry lists them', () => {
  const r = createBuiltinRegistry();
  for (const [name, C] of Object.entries(METHODS)) {
    assert.ok(C.params, `${name} declares its parameters (static params: ParamDef[])`);
    assert.deepEqual(C.configKeys, C.params.map((d) => d.name), name);
    for (const d of C.params) assert.ok(d.doc.length > 0, `${name}.${d.name} has a doc line`);
    const spec = r.get(name);
    assert.equal(spec.acceptsExtra, false, name);
    assert.deepEqual(spec.paramsDoc?.map((d) => d.name), C.params.map((d) => d.name), name);
  }
  const ties = r.get('fusion_bench.method.TiesMergingAlgorithm').paramsDoc!;
  assert.deepEqual(ties.find((d) => d.name === 'threshold'), { name: 'threshold', type: 'float (0 ≤ x ≤ 100)', default: 'required', doc: ties.find((d) => d.name === 'threshold')!.doc });
  assert.equal(ties.find((d) => d.name === 'merge_func')!.type, 'sum|mean|max');
});

test('types, ranges, computed defaults and normalisation', () => {
  const defs: ParamDef[] = [
    { name: 'f', type: 'float', min: 0, minExclusive: true, max: 1, doc: 'x' },
    { name: 'n', type: 'int', default: 3, doc: 'x' },
    { name: 'a', type: 'float|float[]', default: 1, doc: 'x' },
    { name: 's', type: 'int', defaultFrom: (ctx) => ctx?.seed ?? 0, doc: 'x' },
  ];
  assert.deepEqual(readParams('M', defs, { f: 1 }, runContext({ seed: 42 })), { f: 1, n: 3, a: 1, s: 42 });
  assert.deepEqual(readParams('M', defs, { f: 0.5, a: [1, 0.5], n: 2 }), { f: 0.5, n: 2, a: [1, 0.5], s: 0 });
  assert.throws(() => readParams('M', defs, { f: 0 }), /M: option 'f' must be a number with 0 < f ≤ 1, got 0/);
  assert.throws(() => readParams('M', defs, { f: 0.5, n: 1.5 }), /'n' must be an integer, got 1.5/);
  assert.throws(() => readParams('M', defs, { f: 0.5, a: ['x'] }), /'a' must be a list of finite numbers/);
  // DARE's seed defaults to the program's seed
  const d = new DareTiesMerging({ sparsity_ratio: 0.5, only_on_linear_weights: false, rescale: true, scaling_factor: 1, threshold: 20, merge_func: 'dis-mean' }, runContext({ seed: 7 }));
  assert.equal(d.dare.seed, 7);
  assert.equal(d.ties.merge_func, 'mean');
});

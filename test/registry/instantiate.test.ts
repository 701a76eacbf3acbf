import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, UnknownTargetError } from '../../src/registry/registry.js';
import { instantiate, InstantiationError } from '../../src/registry/instantiate.js';
import { Float } from '../../src/config/values.js';
import { closestMatches, editDistance } from '../../src/util/suggest.js';

class Point {
  constructor(readonly opts: Record<string, unknown>) {}
}

function makeRegistry(): { reg: Registry; calls: string[] } {
  const calls: string[] = [];
  const reg = new Registry();
  reg.register('pkg.Point', { params: ['x', 'y'], load: async () => (kw) => { calls.push('Point'); return new Point(kw); } }, ['Point']);
  reg.register('pkg.load', { params: ['path', 'name'], load: async () => (kw) => { calls.push('load'); return { loaded: kw }; } });
  reg.register('pkg.Strict', { params: ['a'], acceptsExtra: false, load: async () => (kw) => kw });
  reg.register('pkg.Boom', { load: async () => () => { throw new RangeError('bad value 7'); } });
  return { reg, calls };
}

test('_args_ bind to declared parameters; floats become numbers', async () => {
  const { reg } = makeRegistry();
  const r = (await instantiate(reg, { _target_: 'pkg.load', _args_: ['ufldl-stanford/svhn', 'cropped_digits'], split: 'test', w: new Float(0.5) })) as { loaded: Record<string, unknown> };
  assert.deepEqual(r.loaded, { path: 'ufldl-stanford/svhn', name: 'cropped_digits', split: 'test', w: 0.5 });
});

test('aliases resolve to the same factory', async () => {
  const { reg } = makeRegistry();
  const p = (await instantiate(reg, { _target_: 'Point', x: 1 })) as Point;
  assert.ok(p instanceof Point);
  assert.equal(reg.canonicalName('Point'), 'pkg.Point');
});

test('recursive instantiation goes depth first through dicts and lists', async () => {
  const { reg, calls } = makeRegistry();
  const r = (await instantiate(reg, {
    _target_: 'pkg.Point',
    x: { _target_: 'pkg.load', path: 'a' },
    y: [{ _target_: 'pkg.Point', x: 2 }, 3],
    plain: { k: { _target_: 'pkg.load', path: 'b' } },
  })) as Point;
  assert.deepEqual(calls, ['load', 'Point', 'load', 'Point']);
  assert.deepEqual((r.opts.x as { loaded: unknown }).loaded, { path: 'a' });
  assert.ok((r.opts.y as unknown[])[0] instanceof Point);
  assert.deepEqual(r.opts.plain, { k: { loaded: { path: 'b' } } });
});

test('_recursive_: false passes nested configs through as data', async () => {
  const { reg, calls } = makeRegistry();
  const r = (await instantiate(reg, { _target_: 'pkg.Point', _recursive_: false, x: { _target_: 'pkg.load', path: 'a' } })) as Point;
  assert.deepEqual(calls, ['Point']);
  assert.deepEqual(r.opts.x, { _target_: 'pkg.load', path: 'a' });
});

test('_partial_ returns a function taking the remaining keyword arguments', async () => {
  const { reg } = makeRegistry();
  const f = (await instantiate(reg, { _target_: 'pkg.Point', _partial_: true, x: 1 })) as (kw: Record<string, unknown>) => Promise<Point>;
  assert.equal(typeof f, 'function');
  const p = await f({ y: 2 });
  assert.deepEqual(p.opts, { x: 1, y: 2 });
});

test('call-site overrides win over config keys', async () => {
  const { reg } = makeRegistry();
  const p = (await instantiate(reg, { _target_: 'pkg.Point', x: 1 }, { x: 9 })) as Point;
  assert.equal(p.opts.x, 9);
});

test('unknown targets name the closest registered names', async () => {
  const { reg } = makeRegistry();
  await assert.rejects(instantiate(reg, { method: { _target_: 'pkg.Pointt' } }), (e: unknown) => {
    assert.ok(e instanceof UnknownTargetError);
    assert.match((e as Error).message, /Error locating target 'pkg\.Pointt' \(at method\)/);
    assert.match((e as Error).message, /Did you mean: 'pkg\.Point'/);
    return true;
  });
});

test('binding errors read like Python TypeErrors', async () => {
  const { reg } = makeRegistry();
  await assert.rejects(instantiate(reg, { _target_: 'pkg.load', _args_: ['a'], path: 'b' }), /got multiple values for argument 'path'/);
  await assert.rejects(instantiate(reg, { _target_: 'pkg.load', _args_: ['a', 'b', 'c'] }), /at most 2 positional argument\(s\) but 3 were given/);
  await assert.rejects(instantiate(reg, { _target_: 'pkg.Strict', a: 1, b: 2 }), /unexpected keyword argument\(s\) 'b'/);
  await assert.rejects(instantiate(reg, { _target_: 'pkg.Point', _convert_: 'everything' }), InstantiationError);
  await assert.rejects(instantiate(reg, { _target_: 'pkg.Point', _recursive_: 'yes' }), /_recursive_ must be true or false/);
});

test('a failing target is reported with its name and the cause', async () => {
  const { reg } = makeRegistry();
  await assert.rejects(instantiate(reg, { m: { _target_: 'pkg.Boom' } }), (e: unknown) => {
    assert.ok(e instanceof InstantiationError);
    assert.match((e as Error).message, /Error in call to target 'pkg\.Boom' \(at m\):\nbad value 7/);
    assert.ok((e as Error).cause instanceof RangeError);
    return true;
  });
});

test('edit distance and suggestions', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  const names = ['fusion_bench.method.TaskArithmeticAlgorithm', 'fusion_bench.method.TiesMergingAlgorithm', 'fusion_bench.method.DummyAlgorithm'];
  assert.deepEqual(closestMatches('fusion_bench.method.TaskArithmetic', names).slice(0, 1), ['fusion_bench.method.TaskArithmeticAlgorithm']);
  assert.deepEqual(closestMatches('zzzzzzzzzzzzzzzz', names), []);
});

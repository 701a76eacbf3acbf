import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deletePath, formatFullKey, selectPath, setPath, splitKey } from '../../src/config/omegaconf/path.js';
import { OmegaConfError } from '../../src/config/omegaconf/errors.js';
import { UserError } from '../../src/errors.js';
import { type ConfigDict } from '../../src/config/values.js';

function omegaError(cls: string, message: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof OmegaConfError, `expected an OmegaConfError, got ${String(e)}`);
    assert.ok(e instanceof UserError);
    assert.equal(e.omegaconfClass, `omegaconf.errors.${cls}`);
    assert.equal(e.message, message);
    return true;
  };
}

test('splitKey follows OmegaConf: dots, brackets, leading dots for relative keys', () => {
  assert.deepEqual(splitKey('a.b'), ['a', 'b']);
  assert.deepEqual(splitKey('a[b]'), ['a', 'b']);
  assert.deepEqual(splitKey('.a.b[c].d'), ['', 'a', 'b', 'c', 'd']);
  assert.deepEqual(splitKey('[a].b'), ['a', 'b']);
  assert.deepEqual(splitKey('..[a]'), ['', '', 'a']);
  assert.deepEqual(splitKey('a[0][1]'), ['a', '0', '1']);
  assert.deepEqual(splitKey('a'), ['a']);
  assert.equal(formatFullKey(['a', 0, 'b']), 'a[0].b');
  assert.equal(formatFullKey([]), '');
});

test('selectPath reads dict keys and list indices in every spelling', () => {
  const cfg: ConfigDict = { a: { b: [10, { c: 'x' }] }, s: 'str' };
  assert.equal(selectPath(cfg, 'a.b.0'), 10);
  assert.equal(selectPath(cfg, 'a.b[0]'), 10);
  assert.equal(selectPath(cfg, 'a.b[1].c'), 'x');
  assert.equal(selectPath(cfg, '[a][b][1][c]'), 'x');
  assert.deepEqual(selectPath(cfg, 'a'), { b: [10, { c: 'x' }] });
  assert.equal(selectPath(cfg, 'a.missing'), undefined);
  assert.equal(selectPath(cfg, 'a.b.5'), undefined);
  assert.equal(selectPath(cfg, 'a.b.x'), undefined);
  assert.equal(selectPath(cfg, 's.child'), undefined);
  assert.equal(selectPath(cfg, ''), cfg);
});

test('setPath changes existing keys in struct mode and merges dicts into dicts', () => {
  const cfg: ConfigDict = { method: { name: 'ta', scale: 0.3 }, list: [1, 2] };
  setPath(cfg, 'method.name', 'ties', { struct: true });
  setPath(cfg, 'list[1]', 5, { struct: true });
  setPath(cfg, 'method', { scale: 1 }, { struct: true });
  assert.deepEqual(cfg, { method: { name: 'ties', scale: 1 }, list: [1, 5] });
});

test('setPath on a missing key in struct mode: ConfigAttributeError with full_key', () => {
  const cfg: ConfigDict = { a: { b: 1 } };
  assert.throws(
    () => setPath(cfg, 'foo', 1, { struct: true }),
    omegaError('ConfigAttributeError', "Key 'foo' is not in struct\n    full_key: foo\n    object_type=dict"),
  );
  assert.throws(
    () => setPath(cfg, 'a.c', 1, { struct: true }),
    omegaError('ConfigAttributeError', "Key 'c' is not in struct\n    full_key: a.c\n    object_type=dict"),
  );
  // A missing intermediate key is created with setitem: ConfigKeyError.
  assert.throws(() => setPath(cfg, 'x.y', 1, { struct: true }), omegaError('ConfigKeyError', "Key 'x' is not in struct\n    full_key: x\n    object_type=dict"));
});

test('setPath through a string value replaces it with a dict, then struct mode rejects the child (Hydra case 024)', () => {
  const cfg: ConfigDict = { modelpool: { processor: 'openai/clip' } };
  assert.throws(
    () => setPath(cfg, 'modelpool.processor.x', 1, { struct: true }),
    omegaError('ConfigAttributeError', "Key 'x' is not in struct\n    full_key: modelpool.processor.x\n    object_type=dict"),
  );
  const open: ConfigDict = { modelpool: { processor: 'openai/clip' } };
  setPath(open, 'modelpool.processor.x', 1, { struct: false });
  assert.deepEqual(open, { modelpool: { processor: { x: 1 } } });
});

test('setPath merging a dict with a new key in struct mode: ConfigKeyError (Hydra case 010)', () => {
  const cfg: ConfigDict = { modelpool: { models: { a: 'x' } } };
  assert.throws(
    () => setPath(cfg, 'modelpool.models', { extra: 'foo/bar' }, { struct: true }),
    omegaError('ConfigKeyError', "Key 'extra' is not in struct\n    full_key: modelpool.models.extra\n    object_type=dict"),
  );
});

test('setPath with forceAdd adds keys and intermediate dicts even in struct mode', () => {
  const cfg: ConfigDict = { seed: 1 };
  setPath(cfg, 'seed', 42, { struct: true, forceAdd: true });
  setPath(cfg, 'new.nested', [1, 2], { struct: true, forceAdd: true });
  assert.deepEqual(cfg, { seed: 42, new: { nested: [1, 2] } });
});

test('setPath copies the value and reports bad list indices', () => {
  const value = { k: [1] };
  const cfg: ConfigDict = { a: null, l: [0] };
  setPath(cfg, 'a', value, { struct: true });
  value.k.push(2);
  assert.deepEqual(cfg.a, { k: [1] });
  assert.throws(() => setPath(cfg, 'l[3]', 1, { struct: true }), (e: unknown) => e instanceof OmegaConfError && e.className === 'ConfigIndexError');
  assert.throws(() => setPath(cfg, 'l.x', 1, { struct: true }), (e: unknown) => e instanceof OmegaConfError && e.className === 'ConfigTypeError');
});

test('deletePath removes dict keys and list items and reports missing keys', () => {
  const cfg: ConfigDict = { a: { b: 1, c: 2 }, l: [1, 2, 3] };
  assert.equal(deletePath(cfg, 'a.b'), 1);
  assert.deepEqual(deletePath(cfg, 'l[1]'), 2);
  assert.deepEqual(cfg, { a: { c: 2 }, l: [1, 3] });
  assert.throws(() => deletePath(cfg, 'a.zz'), (e: unknown) => e instanceof OmegaConfError && e.className === 'ConfigKeyError');
  assert.throws(() => deletePath(cfg, 'nope.x'), (e: unknown) => e instanceof OmegaConfError && e.className === 'ConfigKeyError');
});

test('setPath of a list onto a dict node fails like merge_with; a list onto a list replaces it', () => {
  const cfg: ConfigDict = { modelpool: { models: { a: 1 } }, l: [1, 2] };
  assert.throws(
    () => setPath(cfg, 'modelpool.models', ['x'], { struct: true }),
    omegaError('ConfigTypeError', 'Cannot merge DictConfig with ListConfig\n    full_key: modelpool.models\n    object_type=dict'),
  );
  setPath(cfg, 'l', [3], { struct: true });
  assert.deepEqual(cfg.l, [3]);
});

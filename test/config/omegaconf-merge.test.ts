import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeInto } from '../../src/config/omegaconf/merge.js';
import { OmegaConfError } from '../../src/config/omegaconf/errors.js';
import { type ConfigDict, Float } from '../../src/config/values.js';

test('dicts merge recursively, keeping dest key order and appending new keys', () => {
  const dest: ConfigDict = { a: { x: 1, y: 2 }, b: 1 };
  mergeInto(dest, { a: { y: 3, z: 4 }, c: 5 });
  assert.deepEqual(dest, { a: { x: 1, y: 3, z: 4 }, b: 1, c: 5 });
  assert.deepEqual(Object.keys(dest), ['a', 'b', 'c']);
  assert.deepEqual(Object.keys(dest.a as object), ['x', 'y', 'z']);
});

test('lists and scalars replace; types follow the source', () => {
  const dest: ConfigDict = { l: [1, 2, 3], s: 1, f: new Float(1) };
  mergeInto(dest, { l: [9], s: 'one', f: 2 });
  assert.deepEqual(dest, { l: [9], s: 'one', f: 2 });
});

test('??? in src does not clobber an existing value, but is added where dest has no key', () => {
  const dest: ConfigDict = { a: 1, d: { k: 1 } };
  mergeInto(dest, { a: '???', d: '???', n: '???' });
  assert.deepEqual(dest, { a: 1, d: { k: 1 }, n: '???' });
});

test('??? or null in dest is replaced by a dict; null and interpolations in src replace a dict', () => {
  const dest: ConfigDict = { m: '???', n: null, d1: { k: 1 }, d2: { k: 1 } };
  mergeInto(dest, { m: { a: 1 }, n: { b: 2 }, d1: null, d2: '${other}' });
  assert.deepEqual(dest, { m: { a: 1 }, n: { b: 2 }, d1: null, d2: '${other}' });
});

test('a dict replaces a scalar, a scalar replaces a dict', () => {
  const dest: ConfigDict = { s: 'x', d: { a: 1 } };
  mergeInto(dest, { s: { a: 1 }, d: 3 });
  assert.deepEqual(dest, { s: { a: 1 }, d: 3 });
});

test('merging into an interpolation that points at a dict merges into a copy of the target', () => {
  const root: ConfigDict = { base: { a: 1, b: 2 }, child: '${base}' };
  mergeInto(root, { child: { b: 3 } });
  assert.deepEqual(root, { base: { a: 1, b: 2 }, child: { a: 1, b: 3 } });
  const nested: ConfigDict = { grp: { base: { a: 1 }, child: '${.base}' } };
  mergeInto(nested.grp as ConfigDict, { child: { c: 2 } }, { root: nested, path: ['grp'] });
  assert.deepEqual(nested.grp, { base: { a: 1 }, child: { a: 1, c: 2 } });
  // A scalar from src replaces the interpolation itself.
  const s: ConfigDict = { base: { a: 1 }, child: '${base}' };
  mergeInto(s, { child: 5 });
  assert.deepEqual(s, { base: { a: 1 }, child: 5 });
});

test('src is copied, never aliased or modified', () => {
  const src: ConfigDict = { a: { l: [1] } };
  const dest: ConfigDict = {};
  mergeInto(dest, src);
  ((dest.a as ConfigDict).l as number[]).push(2);
  assert.deepEqual(src, { a: { l: [1] } });
});

test('struct mode rejects new keys with ConfigKeyError and the full key', () => {
  const dest: ConfigDict = { method: { name: 'x' } };
  assert.throws(
    () => mergeInto(dest, { method: { a: 1 } }, { struct: true }),
    (e: unknown) =>
      e instanceof OmegaConfError &&
      e.omegaconfClass === 'omegaconf.errors.ConfigKeyError' &&
      e.message === "Key 'a' is not in struct\n    full_key: method.a\n    object_type=dict",
  );
  assert.throws(
    () => mergeInto(dest, { z: 1 }, { struct: true, path: ['outer'] }),
    (e: unknown) => e instanceof OmegaConfError && e.fullKey === 'outer.z',
  );
});

test('a non-dict source is an error', () => {
  assert.throws(() => mergeInto({}, [1]), OmegaConfError);
});

test('a list merged onto a dict (or the reverse) is a ConfigTypeError at the merge root', () => {
  assert.throws(
    () => mergeInto({ a: { b: { c: 1 } } }, { a: { b: [1] } }, { path: ['cfg'] }),
    (e: unknown) =>
      e instanceof OmegaConfError &&
      e.className === 'ConfigTypeError' &&
      e.message === 'Cannot merge DictConfig with ListConfig\n    full_key: cfg\n    object_type=dict',
  );
  assert.throws(() => mergeInto({ l: [1] }, { l: { a: 1 } }), (e: unknown) => e instanceof OmegaConfError && e.className === 'ConfigTypeError');
});

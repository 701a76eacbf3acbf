/** Task pools shared across a sweep's jobs: same target and arguments → one instance, kept in the sweep cache. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../../src/registry/registry.js';
import { instantiate } from '../../src/registry/instantiate.js';
import { runContext } from '../../src/run-context.js';
import { INSTANCE_KEY_PREFIX, instanceKey, isTaskPoolTarget, releaseSharedInstances, shareInstances } from '../../src/program/sweep-memo.js';

class Pool {
  static made = 0;
  closed = false;
  constructor(readonly kw: Record<string, unknown>) {
    Pool.made++;
    if (kw.fail) throw new Error('cannot build');
  }
  close(): void {
    this.closed = true;
  }
}

const cache = new Map<string, unknown>();

function registry(): Registry {
  const r = new Registry();
  r.register('fusion_bench.taskpool.Pool', { load: async () => (kw) => new Pool(kw) }, ['Pool']);
  r.register('fusion_bench.method.M', { load: async () => (kw) => ({ kw }) });
  shareInstances(r, isTaskPoolTarget, cache);
  return r;
}

test('same arguments share one instance across registries (jobs); others get their own', async () => {
  Pool.made = 0;
  const a = (await instantiate(registry(), { _target_: 'Pool', x: 1, nested: { b: [1, 2] } })) as Pool;
  const b = (await instantiate(registry(), { _target_: 'fusion_bench.taskpool.Pool', nested: { b: [1, 2] }, x: 1 })) as Pool;
  assert.equal(a, b);
  assert.equal(Pool.made, 1);
  const c = (await instantiate(registry(), { _target_: 'Pool', x: 2, nested: { b: [1, 2] } })) as Pool;
  assert.notEqual(a, c);
  // methods are never shared
  const m1 = await instantiate(registry(), { _target_: 'fusion_bench.method.M', s: 1 });
  const m2 = await instantiate(registry(), { _target_: 'fusion_bench.method.M', s: 1 });
  assert.notEqual(m1, m2);
  // another seed (seeded validation splits) is another instance
  const d = (await instantiate(registry(), { _target_: 'Pool', x: 1, nested: { b: [1, 2] } }, {}, '', runContext({ seed: 3 }))) as Pool;
  assert.notEqual(a, d);
  await releaseSharedInstances(cache);
  assert.ok(a.closed && c.closed && d.closed);
  assert.equal([...cache.keys()].filter((k) => k.startsWith(INSTANCE_KEY_PREFIX)).length, 0);
});

test('a failed construction is not kept; non-data arguments are not shared', async () => {
  Pool.made = 0;
  await assert.rejects(instantiate(registry(), { _target_: 'Pool', fail: true }), /cannot build/);
  await assert.rejects(instantiate(registry(), { _target_: 'Pool', fail: true }), /cannot build/);
  assert.equal(Pool.made, 2);
  assert.equal(instanceKey('t', { f: () => 1 }), null);
  assert.equal(instanceKey('t', { a: 1, b: 'x' }), instanceKey('t', { b: 'x', a: 1 }));
  await releaseSharedInstances(cache);
});

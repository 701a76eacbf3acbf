import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { withFileLock } from '../../src/hub/file-lock.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tmp() {
  const dir = mkdtempSync(join(tmpdir(), 'fb-lock-'));
  return { dir, lock: join(dir, 'sub', 'x.lock'), done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('holders of the same lock never overlap, and the lock file names its owner and is removed after', async () => {
  const t = tmp();
  const log: string[] = [];
  const job = (name: string) =>
    withFileLock(t.lock, async () => {
      log.push(`${name}+`);
      assert.equal(readFileSync(t.lock, 'utf8'), `${process.pid}\n${hostname()}\n`);
      await sleep(30);
      log.push(`${name}-`);
    }, { pollMs: 5 });
  await Promise.all([job('a'), job('b'), job('c')]);
  for (let i = 0; i < log.length; i += 2) assert.equal((log[i] as string).slice(0, 1), (log[i + 1] as string).slice(0, 1), log.join(' '));
  assert.equal(existsSync(t.lock), false);
  t.done();
});

test('a lock of a dead process on this host is broken at once', async () => {
  const t = tmp();
  await withFileLock(t.lock, async () => undefined); // creates the folder
  writeFileSync(t.lock, `999999999\n${hostname()}\n`);
  const t0 = Date.now();
  let ran = false;
  await withFileLock(t.lock, async () => {
    ran = true;
  });
  assert.ok(ran);
  assert.ok(Date.now() - t0 < 1000);
  t.done();
});

test("an old ownerless lock (Python's leftover) is stale; a fresh one is waited for", async () => {
  const t = tmp();
  await withFileLock(t.lock, async () => undefined);
  writeFileSync(t.lock, '');
  const old = new Date(Date.now() - 60_000);
  utimesSync(t.lock, old, old);
  await withFileLock(t.lock, async () => undefined, { staleMs: 30_000 });

  writeFileSync(t.lock, '');
  const t0 = Date.now();
  await withFileLock(t.lock, async () => undefined, { staleMs: 300, pollMs: 20 });
  assert.ok(Date.now() - t0 >= 250, 'waited until the fresh lock went stale');

  // Activity elsewhere (a growing temp download) keeps a lock alive.
  writeFileSync(t.lock, '');
  utimesSync(t.lock, old, old);
  const t1 = Date.now();
  await withFileLock(t.lock, async () => undefined, { staleMs: 300, pollMs: 20, activityMs: () => (Date.now() - t1 < 400 ? Date.now() : 0) });
  assert.ok(Date.now() - t1 >= 350, 'waited while the guarded work showed activity');
  t.done();
});

test('the lock is released when the work throws', async () => {
  const t = tmp();
  await assert.rejects(withFileLock(t.lock, async () => {
    throw new Error('boom');
  }), /boom/);
  assert.equal(existsSync(t.lock), false);
  t.done();
});

/**
 * The hub client against a hub that misbehaves: outages (back-off), listings that never end or name hostile
 * paths, redirect loops, servers that drip bytes, and a cache it cannot write. Waits are injected or bounded
 * by tiny configured limits; nothing here asserts on elapsed time.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hfHubDownload } from '../../src/hub/download.js';
import { snapshotDownload } from '../../src/hub/snapshot.js';
import { listRepoFiles } from '../../src/hub/repo-listing.js';
import { backoffDelayMs } from '../../src/hub/http.js';
import { readHubEnv } from '../../src/hub/env.js';
import { UserError } from '../../src/errors.js';
import { startFakeHub, type FakeHub } from '../helpers/hub-server.js';
import { CLIP, freshEnvFor, makeFixture, sha256, type Fixture } from './fixtures.js';

let fx: Fixture;
let hub: FakeHub;
before(async () => {
  fx = makeFixture();
  hub = await startFakeHub({ root: fx.root, pageSize: 2, renamed: { 'models/loop/a': 'models/loop/b', 'models/loop/b': 'models/loop/a' } });
});
after(async () => {
  await hub.close();
  fx.cleanup();
});

const freshEnv = (extra: Record<string, string | undefined> = {}) => freshEnvFor(fx, hub.url, extra);
const since = (mark: number) => hub.requests.slice(mark);
function resetFaults(): void {
  Object.assign(hub.faults, { failStatus: null, failCount: null, failMethod: null, throttle: null, treeRewrite: null, selfNextLink: false, stallAfterBytes: null });
}

function oneUserError(pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${(e as Error).stack}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  };
}

test('back-off doubles from the base up to the cap, each wait drawn from [d/2, d]', () => {
  const b = { attempts: 5, baseMs: 1000, maxMs: 8000 };
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => backoffDelayMs(b, i, () => 1)), [1000, 2000, 4000, 8000, 8000, 8000]);
  assert.deepEqual([0, 1, 2, 3].map((i) => backoffDelayMs(b, i, () => 0)), [500, 1000, 2000, 4000]);
});

test('a download that gets 500 without Retry-After waits with exponential back-off and jitter between tries', async () => {
  const env = freshEnv();
  const waits: number[] = [];
  const draws = [0, 1, 0.5];
  Object.assign(hub.faults, { failStatus: 500, failCount: 3, failMethod: 'GET' });
  try {
    const mark = hub.requests.length;
    const path = await hfHubDownload({
      repoId: CLIP,
      filename: 'config.json',
      env,
      retryBaseMs: 100,
      sleep: async (ms) => void waits.push(ms),
      random: () => draws.shift() ?? 0,
    });
    assert.deepEqual(readFileSync(path), fx.files.config);
    assert.deepEqual(waits, [50, 200, 300], 'base 100 ms doubling: 100·[0.5], 200·[1], 400·[0.75]');
    assert.equal(since(mark).filter((r) => r.method === 'GET').length, 4);
  } finally {
    resetFaults();
  }
});

test('a hub that keeps failing is asked 1 + 5 times (huggingface_hub\'s max_retries), the waits capped at 8 × base', async () => {
  const env = freshEnv();
  const waits: number[] = [];
  Object.assign(hub.faults, { failStatus: 503, failMethod: 'GET' });
  try {
    const mark = hub.requests.length;
    await assert.rejects(
      hfHubDownload({ repoId: CLIP, filename: 'config.json', env, retryBaseMs: 100, sleep: async (ms) => void waits.push(ms), random: () => 1 }),
      oneUserError(/config\.json.*503/),
    );
    assert.deepEqual(waits, [100, 200, 400, 800, 800]);
    assert.equal(since(mark).filter((r) => r.method === 'GET').length, 6);
  } finally {
    resetFaults();
  }
});

test('a tree listing whose next page is itself is read once, then refused', async () => {
  const env = freshEnv();
  hub.faults.selfNextLink = true;
  try {
    const mark = hub.requests.length;
    await assert.rejects(listRepoFiles({ repoId: CLIP, env }), oneUserError(/tree listing of openai\/clip-vit-base-patch32 repeats itself/));
    assert.equal(since(mark).filter((r) => r.url.includes('/tree/')).length, 1);
  } finally {
    resetFaults();
  }
});

test('a tree listing longer than the page cap is refused after the cap', async () => {
  const env = freshEnv();
  const mark = hub.requests.length;
  await assert.rejects(listRepoFiles({ repoId: CLIP, env, maxListPages: 2 }), oneUserError(/goes on for more than 2 pages/));
  assert.equal(since(mark).filter((r) => r.url.includes('/tree/')).length, 2);
  // the default cap lets the same (3-page) listing through
  assert.deepEqual(await listRepoFiles({ repoId: CLIP, env }), ['config.json', 'model.safetensors', 'sub/dir/notes.txt']);
});

test('a listing that names ../ paths or an LFS oid with path characters is one UserError, and nothing lands outside the cache', async () => {
  for (const [rewrite, pattern] of [
    [(e: Record<string, unknown>[]) => [...e, { type: 'file', path: '../../escaped.txt', oid: 'a'.repeat(40), size: 3 }], /names a file "\.\.\/\.\.\/escaped\.txt", which is not a plain relative path/],
    [
      (e: Record<string, unknown>[]) => e.map((x) => (x.path === 'model.safetensors' ? { ...x, lfs: { oid: '../../../evil', size: 1 } } : x)),
      /the LFS oid of "model\.safetensors" is "\.\.\/\.\.\/\.\.\/evil", not a hash/,
    ],
  ] as const) {
    const env = freshEnv();
    hub.faults.treeRewrite = rewrite;
    try {
      await assert.rejects(snapshotDownload({ repoId: CLIP, env }), oneUserError(pattern));
    } finally {
      resetFaults();
    }
    assert.ok(!existsSync(join(env.HF_HOME, 'hub', 'escaped.txt')) && !existsSync(join(env.HF_HOME, 'evil')));
  }
});

test('a redirect loop is reported as one', async () => {
  const env = freshEnv();
  const mark = hub.requests.length;
  await assert.rejects(hfHubDownload({ repoId: 'loop/a', filename: 'config.json', env }), oneUserError(/redirect loop: .*loop\/a\/resolve\/main\/config\.json redirects back to/));
  assert.equal(since(mark).length, 2, 'a → b → a: two requests');
});

test('a server that drips bytes is abandoned below FUSION_BENCH_HUB_MIN_SPEED; off by default', { timeout: 120_000 }, async () => {
  const env = freshEnv({ HF_HUB_DOWNLOAD_TIMEOUT: '0.3', FUSION_BENCH_HUB_MIN_SPEED: '10000' });
  hub.faults.throttle = { chunkBytes: 1, delayMs: 20 }; // 50 bytes/s: 300 kB would take 100 minutes
  try {
    await assert.rejects(hfHubDownload({ repoId: CLIP, filename: 'model.safetensors', env }), oneUserError(/Download of 'model\.safetensors'.*transfer too slow: \d+ bytes in 0\.3s .*below the minimum of 10000 bytes\/s/));
  } finally {
    resetFaults();
  }
  // a limit lets a healthy transfer through (1 byte/s: nothing about this machine's speed is assumed)
  const path = await hfHubDownload({ repoId: CLIP, filename: 'model.safetensors', env: { ...env, HF_HUB_DOWNLOAD_TIMEOUT: '5', FUSION_BENCH_HUB_MIN_SPEED: '1' } });
  assert.equal(sha256(readFileSync(path)), sha256(fx.files.weights as Buffer));
  assert.equal(readHubEnv({}).minBytesPerSec, 0, 'off by default, as huggingface_hub');
  assert.equal(readHubEnv({ FUSION_BENCH_HUB_MIN_SPEED: '250000' }).minBytesPerSec, 250000);
});

/** A folder this process cannot create anything in: a read-only directory, or (as root, which ignores modes) sysfs. */
function unwritableDir(): { dir: string; cleanup: () => void } | null {
  if (process.getuid?.() !== 0) {
    const dir = join(fx.dir, `ro-${process.pid}-${Date.now()}`);
    mkdirSync(dir);
    chmodSync(dir, 0o555);
    return { dir: join(dir, 'hub'), cleanup: () => chmodSync(dir, 0o755) };
  }
  if (existsSync('/sys/kernel')) return { dir: '/sys/fusion-bench-test-cache', cleanup: () => rmSync('/sys/fusion-bench-test-cache', { force: true, recursive: true }) };
  return null;
}

test('a cache that cannot be written is reported as read-only, with what to do', async (t) => {
  const ro = unwritableDir();
  if (ro === null) return t.skip('no unwritable folder here (root without sysfs)');
  try {
    const env = freshEnv({ HF_HUB_CACHE: ro.dir });
    await assert.rejects(
      hfHubDownload({ repoId: CLIP, filename: 'config.json', env }),
      oneUserError(/Cannot download file 'config\.json' .*: the hub cache .* is read-only \(.*\)\. Point HF_HUB_CACHE .* or set HF_HUB_OFFLINE=1/),
    );
  } finally {
    ro.cleanup();
  }
});

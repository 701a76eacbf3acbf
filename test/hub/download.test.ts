import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { hfHubDownload } from '../../src/hub/download.js';
import { UserError } from '../../src/errors.js';
import { startFakeHub, type FakeHub } from '../helpers/hub-server.js';
import { CLIP, DATASET, TOKEN, freshEnvFor, gitBlobSha1, makeFixture, sha256, type Fixture } from './fixtures.js';

let fx: Fixture;
let hub: FakeHub;

before(async () => {
  fx = makeFixture();
  hub = await startFakeHub({ root: fx.root, gated: ['models/org/gated-model'], privateRepos: ['models/org/private-model'], renamed: { 'models/old-org/clip': `models/${CLIP}` } });
});
after(async () => {
  await hub.close();
  fx.cleanup();
});

/** A fresh HF_HOME per test, so tests do not share a cache. */
const freshEnv = (extra: Record<string, string | undefined> = {}) => freshEnvFor(fx, hub.url, extra);
const since = (mark: number) => hub.requests.slice(mark);

test('downloads a small file into the Python cache layout: blob by ETag, relative snapshot symlink, refs/main', async () => {
  const env = freshEnv();
  const path = await hfHubDownload({ repoId: CLIP, filename: 'config.json', env });
  const storage = join(env.HF_HOME as string, 'hub', 'models--openai--clip-vit-base-patch32');
  const commit = hub.commitOf(`models/${CLIP}`, 'main');
  assert.equal(path, join(storage, 'snapshots', commit, 'config.json'));
  assert.ok(lstatSync(path).isSymbolicLink());
  assert.equal(readlinkSync(path), `../../blobs/${gitBlobSha1(fx.files.config as Buffer)}`);
  assert.deepEqual(readFileSync(path), fx.files.config);
  assert.equal(readFileSync(join(storage, 'refs', 'main'), 'utf8'), commit);
  assert.deepEqual(readdirSync(join(storage, 'blobs')), [gitBlobSha1(fx.files.config as Buffer)]);
});

test('an LFS file comes from the CDN via redirect, named by its sha256, without the token leaving the hub', async () => {
  const env = freshEnv({ HF_TOKEN: TOKEN });
  const mark = hub.requests.length;
  const path = await hfHubDownload({ repoId: CLIP, filename: 'model.safetensors', env });
  assert.equal(readlinkSync(path), `../../blobs/${sha256(fx.files.weights as Buffer)}`);
  assert.equal(sha256(readFileSync(path)), sha256(fx.files.weights as Buffer));
  const reqs = since(mark);
  const head = reqs.find((r) => r.server === 'hub' && r.method === 'HEAD');
  const get = reqs.find((r) => r.server === 'cdn' && r.method === 'GET');
  assert.equal(head?.authorization, `Bearer ${TOKEN}`);
  assert.equal(head?.status, 302);
  assert.ok(get, 'the CDN served the bytes');
  assert.equal(get?.authorization, null);
});

test('nested file names keep their folders in the snapshot', async () => {
  const env = freshEnv();
  const path = await hfHubDownload({ repoId: CLIP, filename: 'sub/dir/notes.txt', env });
  assert.ok(path.endsWith(join('sub', 'dir', 'notes.txt')));
  assert.equal(readlinkSync(path), `../../../../blobs/${gitBlobSha1(fx.files.nested as Buffer)}`);
  assert.deepEqual(readFileSync(path), fx.files.nested);
});

test('a second call answers from the cache: a branch costs one HEAD, a commit costs nothing', async () => {
  const env = freshEnv();
  const first = await hfHubDownload({ repoId: CLIP, filename: 'model.safetensors', env });
  let mark = hub.requests.length;
  const second = await hfHubDownload({ repoId: CLIP, filename: 'model.safetensors', env });
  assert.equal(second, first);
  assert.deepEqual(since(mark).map((r) => `${r.server} ${r.method}`), ['hub HEAD']);
  mark = hub.requests.length;
  const commit = hub.commitOf(`models/${CLIP}`, 'main');
  const third = await hfHubDownload({ repoId: CLIP, filename: 'model.safetensors', revision: commit, env });
  assert.equal(third, first);
  assert.equal(since(mark).length, 0);
});

test('revision by tag and by commit hash', async () => {
  const env = freshEnv();
  const tagged = await hfHubDownload({ repoId: CLIP, filename: 'config.json', revision: 'v1.0', env });
  assert.deepEqual(readFileSync(tagged), fx.files.configV1);
  const storage = join(env.HF_HOME as string, 'hub', 'models--openai--clip-vit-base-patch32');
  const tagCommit = hub.commitOf(`models/${CLIP}`, 'v1.0');
  assert.equal(readFileSync(join(storage, 'refs', 'v1.0'), 'utf8'), tagCommit);
  const mainCommit = hub.commitOf(`models/${CLIP}`, 'main');
  const byCommit = await hfHubDownload({ repoId: CLIP, filename: 'config.json', revision: mainCommit, env });
  assert.deepEqual(readFileSync(byCommit), fx.files.config);
  assert.ok(byCommit.includes(mainCommit));
  assert.deepEqual(readdirSync(join(storage, 'refs')).sort(), ['v1.0'], 'a commit hash is not written to refs/');
});

test('offline mode resolves branches through refs/ without a single request', async () => {
  const env = freshEnv();
  const online = await hfHubDownload({ repoId: CLIP, filename: 'config.json', env });
  const mark = hub.requests.length;
  const offline = await hfHubDownload({ repoId: CLIP, filename: 'config.json', env: { ...env, HF_HUB_OFFLINE: '1' } });
  assert.equal(offline, online);
  assert.equal(since(mark).length, 0);
});

test('offline mode: a file not in the cache is a UserError naming repo, file, revision and offline mode', async () => {
  const env = { ...freshEnv(), HF_HUB_OFFLINE: '1' };
  const mark = hub.requests.length;
  await assert.rejects(hfHubDownload({ repoId: CLIP, filename: 'model.safetensors', revision: 'v1.0', env }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /model\.safetensors/);
    assert.match(e.message, /openai\/clip-vit-base-patch32/);
    assert.match(e.message, /'v1\.0'/);
    assert.match(e.message, /offline mode is on \(HF_HUB_OFFLINE=1\)/);
    return true;
  });
  assert.equal(since(mark).length, 0);
});

test('an unreachable hub falls back to the cache, and says so when the cache cannot answer', async () => {
  const env = freshEnv();
  const cached = await hfHubDownload({ repoId: CLIP, filename: 'config.json', env });
  const dead = { ...env, HF_ENDPOINT: 'http://127.0.0.1:1' };
  assert.equal(await hfHubDownload({ repoId: CLIP, filename: 'config.json', env: dead }), cached);
  await assert.rejects(hfHubDownload({ repoId: CLIP, filename: 'sub/dir/notes.txt', env: dead }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /Cannot download file 'sub\/dir\/notes\.txt'/);
    assert.match(e.message, /not in the local cache/);
    assert.match(e.message, /127\.0\.0\.1:1/);
    return true;
  });
});

test('HF_ENDPOINT is honoured and the token goes as Authorization: Bearer (from HF_TOKEN or $HF_HOME/token)', async () => {
  const env = freshEnv({ HF_TOKEN: TOKEN });
  let mark = hub.requests.length;
  await hfHubDownload({ repoId: CLIP, filename: 'config.json', env });
  const mine = since(mark);
  assert.ok(mine.length > 0, 'the request reached the endpoint from HF_ENDPOINT');
  assert.ok(mine.every((r) => r.server === 'hub' && r.authorization === `Bearer ${TOKEN}`));

  const env2 = freshEnv();
  writeFileSync(join(env2.HF_HOME as string, 'token'), 'hf_from_file\n');
  mark = hub.requests.length;
  await hfHubDownload({ repoId: CLIP, filename: 'config.json', env: env2 });
  assert.equal(since(mark)[0]?.authorization, 'Bearer hf_from_file');

  mark = hub.requests.length;
  await hfHubDownload({ repoId: CLIP, filename: 'config.json', env: freshEnv() });
  assert.equal(since(mark)[0]?.authorization, null);
});

test('gated, private and missing repos, missing files and revisions are clear UserErrors', async () => {
  const env = freshEnv();
  await assert.rejects(hfHubDownload({ repoId: 'org/gated-model', filename: 'config.json', env }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /model 'org\/gated-model' is gated/);
    assert.match(e.message, /config\.json/);
    assert.match(e.message, /HF_TOKEN/);
    assert.match(e.message, /no token was sent/);
    return true;
  });
  await assert.rejects(hfHubDownload({ repoId: 'org/gated-model', filename: 'config.json', env: { ...env, HF_TOKEN: 'hf_wrong' } }), /is gated \(HTTP 403\).*token that was sent has no access/);
  const ok = await hfHubDownload({ repoId: 'org/gated-model', filename: 'config.json', env: { ...env, HF_TOKEN: TOKEN } });
  assert.deepEqual(readFileSync(ok), fx.files.config);

  await assert.rejects(hfHubDownload({ repoId: 'org/private-model', filename: 'config.json', env }), /model 'org\/private-model' was not found .*HTTP 401.*private.*HF_TOKEN/);
  await assert.rejects(hfHubDownload({ repoId: 'org/nope', filename: 'config.json', env }), /model 'org\/nope' was not found/);
  await assert.rejects(hfHubDownload({ repoId: DATASET, filename: 'README.md', env }), /is it a dataset\?/);
  await assert.rejects(hfHubDownload({ repoId: CLIP, filename: 'missing.bin', env }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /File 'missing\.bin' was not found in model 'openai\/clip-vit-base-patch32' at revision 'main'/);
    return true;
  });
  const commit = hub.commitOf(`models/${CLIP}`, 'main');
  assert.ok(existsSync(join(env.HF_HOME as string, 'hub', 'models--openai--clip-vit-base-patch32', '.no_exist', commit, 'missing.bin')), 'absence recorded as Python does');
  await assert.rejects(hfHubDownload({ repoId: CLIP, filename: 'config.json', revision: 'v9', env }), /Revision 'v9' was not found in model 'openai\/clip-vit-base-patch32'/);
  await assert.rejects(hfHubDownload({ repoId: 'bad--id/x', filename: 'config.json', env }), /Invalid Hugging Face repo id 'bad--id\/x'/);
  await assert.rejects(hfHubDownload({ repoId: CLIP, filename: '../escape', env }), /Invalid file name '\.\.\/escape'/);
  await assert.rejects(hfHubDownload({ repoId: CLIP, filename: 'config.json', env: { ...env, HF_ENDPOINT: 'huggingface.co' } }), /HF_ENDPOINT 'huggingface\.co' is not an http\(s\) URL/);
});

test('a hub outage (5xx) falls back to the cache like a network failure', async () => {
  const env = freshEnv();
  const cached = await hfHubDownload({ repoId: CLIP, filename: 'config.json', env });
  hub.faults.failStatus = 503;
  try {
    assert.equal(await hfHubDownload({ repoId: CLIP, filename: 'config.json', env }), cached);
    await assert.rejects(hfHubDownload({ repoId: CLIP, filename: 'model.safetensors', env }), /HTTP|503/);
  } finally {
    hub.faults.failStatus = null;
  }
});

test('a download whose GET gets 503 twice is retried with backoff and succeeds', async () => {
  const env = freshEnv();
  Object.assign(hub.faults, { failStatus: 503, failCount: 2, failMethod: 'GET' });
  try {
    const before = hub.requests.length;
    const path = await hfHubDownload({ repoId: CLIP, filename: 'config.json', env, retryBaseMs: 5 });
    assert.ok(JSON.parse(readFileSync(path, 'utf8')));
    const gets = hub.requests.slice(before).filter((r) => r.method === 'GET' && r.url.endsWith('/config.json'));
    assert.equal(gets.length, 3, JSON.stringify(hub.requests.slice(before)));
  } finally {
    Object.assign(hub.faults, { failStatus: null, failCount: null, failMethod: null });
  }
});

test('an interrupted download leaves no finished-looking file; the next call resumes it with a Range request', async () => {
  const env = freshEnv();
  const storage = join(env.HF_HOME as string, 'hub', 'models--openai--clip-vit-base-patch32');
  const etag = sha256(fx.files.weights as Buffer);
  hub.faults.cutAfterBytes = 50_000;
  try {
    await assert.rejects(hfHubDownload({ repoId: CLIP, filename: 'model.safetensors', env }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /Download of 'model\.safetensors' of model 'openai\/clip-vit-base-patch32' .*failed after \d+ of 300000 bytes/);
      assert.match(e.message, /partial download is kept and resumes on the next run/);
      return true;
    });
  } finally {
    hub.faults.cutAfterBytes = null;
  }
  const left = readdirSync(join(storage, 'blobs'));
  assert.equal(left.length, 1);
  assert.match(left[0] as string, new RegExp(`^${etag}\\.node-[0-9a-f]{8}\\.incomplete$`), 'only a temp file, never the blob name');
  const commit = hub.commitOf(`models/${CLIP}`, 'main');
  assert.equal(existsSync(join(storage, 'snapshots', commit, 'model.safetensors')), false);
  assert.deepEqual(readdirSync(join(env.HF_HOME as string, 'hub', '.locks', 'models--openai--clip-vit-base-patch32')), [], 'lock released');
  // A dead Python temp file of the same blob, idle for long, is swept on the way.
  const pyTemp = join(storage, 'blobs', `${etag}.0a1b2c3d.incomplete`);
  writeFileSync(pyTemp, 'junk');
  const old = new Date(Date.now() - 120_000);
  utimesSync(pyTemp, old, old);

  const mark = hub.requests.length;
  const path = await hfHubDownload({ repoId: CLIP, filename: 'model.safetensors', env });
  assert.equal(sha256(readFileSync(path)), etag);
  const cdnGet = since(mark).find((r) => r.server === 'cdn' && r.method === 'GET');
  assert.match(cdnGet?.range ?? '', /^bytes=[1-9]\d*-$/, 'resumed from where it stopped');
  assert.equal(cdnGet?.status, 206);
  assert.deepEqual(readdirSync(join(storage, 'blobs')), [etag], 'no temp files left');
});

test('a resume the server does not honour starts over and still ends intact; small files are not resumed', async () => {
  const env = freshEnv();
  const storage = join(env.HF_HOME as string, 'hub', 'models--openai--clip-vit-base-patch32');
  try {
    hub.faults.cutAfterBytes = 40_000;
    await assert.rejects(hfHubDownload({ repoId: CLIP, filename: 'model.safetensors', env }), /kept and resumes/);
    hub.faults.cutAfterBytes = 10;
    await assert.rejects(hfHubDownload({ repoId: CLIP, filename: 'config.json', env }), /failed after 10 of \d+ bytes .*nothing was kept/);
  } finally {
    hub.faults.cutAfterBytes = null;
  }
  assert.equal(readdirSync(join(storage, 'blobs')).filter((f) => f.startsWith(gitBlobSha1(fx.files.config as Buffer))).length, 0);
  hub.faults.ignoreRange = true;
  try {
    const path = await hfHubDownload({ repoId: CLIP, filename: 'model.safetensors', env });
    assert.equal(sha256(readFileSync(path)), sha256(fx.files.weights as Buffer));
  } finally {
    hub.faults.ignoreRange = false;
  }
  assert.deepEqual(readdirSync(join(storage, 'blobs')), [sha256(fx.files.weights as Buffer)]);
});

test('a renamed repo (relative redirect) is followed for metadata', async () => {
  const env = freshEnv();
  const path = await hfHubDownload({ repoId: 'old-org/clip', filename: 'config.json', env });
  assert.deepEqual(readFileSync(path), fx.files.config);
  assert.ok(path.includes('models--old-org--clip'), 'cached under the id the user asked for, as Python does');
});

test('dataset repos: datasets/ URL prefix and datasets--org--name cache folder, including refs/convert/parquet', async () => {
  const env = freshEnv();
  const mark = hub.requests.length;
  const path = await hfHubDownload({ repoId: DATASET, repoType: 'dataset', filename: 'data/train-00000-of-00001.parquet', env });
  assert.deepEqual(readFileSync(path), fx.files.train);
  const storage = join(env.HF_HOME as string, 'hub', 'datasets--tanganke--svhn');
  assert.ok(path.startsWith(join(storage, 'snapshots') + '/'));
  assert.match(since(mark)[0]?.url ?? '', /^\/datasets\/tanganke\/svhn\/resolve\/main\/data\/train-00000-of-00001\.parquet$/);

  const conv = await hfHubDownload({ repoId: DATASET, repoType: 'dataset', revision: 'refs/convert/parquet', filename: 'default/train/0000.parquet', env });
  assert.deepEqual(readFileSync(conv), fx.files.converted);
  assert.ok(hub.requests.some((r) => r.url.includes('/resolve/refs%2Fconvert%2Fparquet/')));
  assert.equal(readFileSync(join(storage, 'refs', 'refs', 'convert', 'parquet'), 'utf8'), hub.commitOf(`datasets/${DATASET}`, 'refs/convert/parquet'));
  const off = await hfHubDownload({ repoId: DATASET, repoType: 'dataset', revision: 'refs/convert/parquet', filename: 'default/train/0000.parquet', env: { ...env, HF_HUB_OFFLINE: '1' } });
  assert.equal(off, conv);
});

test('onProgress reports the bytes of a download', async () => {
  const env = freshEnv();
  const seen: number[] = [];
  await hfHubDownload({ repoId: CLIP, filename: 'model.safetensors', env, onProgress: (p) => seen.push(p.downloaded) });
  assert.ok(seen.length > 0);
  assert.equal(seen[seen.length - 1], (fx.files.weights as Buffer).length);
  assert.ok(seen.every((v, i) => i === 0 || v >= (seen[i - 1] as number)));
});

test('a download that stalls longer than HF_HUB_DOWNLOAD_TIMEOUT fails cleanly', async () => {
  const env = freshEnv({ HF_HUB_DOWNLOAD_TIMEOUT: '0.2' });
  hub.faults.throttle = { chunkBytes: 20_000, delayMs: 600 };
  try {
    await assert.rejects(hfHubDownload({ repoId: CLIP, filename: 'model.safetensors', env }), /Download of 'model\.safetensors'.*no answer from 127\.0\.0\.1:\d+ within 0\.2s/);
  } finally {
    hub.faults.throttle = null;
  }
  const left = readdirSync(join(env.HF_HOME as string, 'hub', 'models--openai--clip-vit-base-patch32', 'blobs'));
  assert.ok(left.every((f) => f.endsWith('.incomplete')), left.join(', '));
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { snapshotDownload } from '../../src/hub/snapshot.js';
import { hfHubDownload } from '../../src/hub/download.js';
import { listRepoFiles, listRepoTree } from '../../src/hub/repo-listing.js';
import { resolveRepoPath } from '../../src/hub/resolve-spec.js';
import { UserError } from '../../src/errors.js';
import { startFakeHub, type FakeHub } from '../helpers/hub-server.js';
import { CLIP, DATASET, envFor, freshEnvFor, gitBlobSha1, makeFixture, sha256, type Fixture } from './fixtures.js';

let fx: Fixture;
let hub: FakeHub;
before(async () => {
  fx = makeFixture();
  hub = await startFakeHub({ root: fx.root, pageSize: 2 });
});
after(async () => {
  await hub.close();
  fx.cleanup();
});

const freshEnv = (extra: Record<string, string | undefined> = {}) => freshEnvFor(fx, hub.url, extra);
const since = (mark: number) => hub.requests.slice(mark);

test('snapshotDownload fetches every file of the revision, lists pages, caches the listing and refs/main', async () => {
  const env = freshEnv();
  const mark = hub.requests.length;
  const dir = await snapshotDownload({ repoId: CLIP, env });
  const commit = hub.commitOf(`models/${CLIP}`, 'main');
  const storage = join(env.HF_HOME, 'hub', 'models--openai--clip-vit-base-patch32');
  assert.equal(dir, join(storage, 'snapshots', commit));
  assert.deepEqual(readFileSync(join(dir, 'config.json')), fx.files.config);
  assert.equal(sha256(readFileSync(join(dir, 'model.safetensors'))), sha256(fx.files.weights as Buffer));
  assert.deepEqual(readFileSync(join(dir, 'sub', 'dir', 'notes.txt')), fx.files.nested);
  assert.ok(lstatSync(join(dir, 'config.json')).isSymbolicLink());
  assert.equal(readFileSync(join(storage, 'refs', 'main'), 'utf8'), commit);
  const tree = JSON.parse(readFileSync(join(storage, 'trees', `${commit}.json`), 'utf8'));
  assert.equal(tree.format_version, 1);
  assert.deepEqual(Object.keys(tree.files), ['config.json', 'model.safetensors', 'sub/dir/notes.txt']);
  assert.equal(tree.files['model.safetensors'].lfs_sha256, sha256(fx.files.weights as Buffer));
  assert.equal(tree.files['config.json'].blob_id, gitBlobSha1(fx.files.config as Buffer));
  const reqs = since(mark);
  assert.equal(reqs.filter((r) => r.url.includes('/tree/')).length, 3, 'three pages of two entries (files and folders)');
  assert.equal(reqs.filter((r) => r.method === 'HEAD').length, 0, 'the cached listing names the blobs: no HEAD per file');

  const mark2 = hub.requests.length;
  assert.equal(await snapshotDownload({ repoId: CLIP, env }), dir);
  assert.deepEqual(since(mark2).map((r) => r.url), [`/api/models/${CLIP}/revision/main`], 'only the branch is resolved again');
});

test('allowPatterns and ignorePatterns choose the files, as fnmatch globs', async () => {
  const env = freshEnv();
  const dir = await snapshotDownload({ repoId: CLIP, env, allowPatterns: ['*.json', 'sub/'], ignorePatterns: '*.txt' });
  assert.ok(existsSync(join(dir, 'config.json')));
  assert.equal(existsSync(join(dir, 'model.safetensors')), false);
  assert.equal(existsSync(join(dir, 'sub', 'dir', 'notes.txt')), false);
});

test('offline, the cached snapshot answers without a request; missing requested files are an error', async () => {
  const env = freshEnv();
  const online = await snapshotDownload({ repoId: CLIP, env, allowPatterns: '*.json' });
  const mark = hub.requests.length;
  const off = { ...env, HF_HUB_OFFLINE: '1' };
  assert.equal(await snapshotDownload({ repoId: CLIP, env: off, allowPatterns: '*.json' }), online);
  await assert.rejects(snapshotDownload({ repoId: CLIP, env: off }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /cached snapshot of model 'openai\/clip-vit-base-patch32' at revision 'main'.*incomplete: 2 file\(s\) missing/);
    assert.match(e.message, /offline mode is on/);
    return true;
  });
  await assert.rejects(snapshotDownload({ repoId: CLIP, revision: 'v1.0', env: off }), /at revision 'v1\.0' in the local cache .*offline mode is on/);
  assert.equal(since(mark).length, 0);
});

test('listRepoFiles lists a dataset and its parquet conversion, online and then offline from the cached listing', async () => {
  const env = freshEnv();
  const files = await listRepoFiles({ repoId: DATASET, repoType: 'dataset', env });
  assert.deepEqual(files, ['README.md', 'data/test-00000-of-00001.parquet', 'data/train-00000-of-00001.parquet']);
  assert.deepEqual(await listRepoFiles({ repoId: DATASET, repoType: 'dataset', env, pathInRepo: 'data' }), files.slice(1));
  const conv = await listRepoTree({ repoId: DATASET, repoType: 'dataset', revision: 'refs/convert/parquet', env });
  assert.deepEqual(conv.map((f) => [f.path, f.size, f.lfs]), [['default/train/0000.parquet', (fx.files.converted as Buffer).length, true]]);
  const mark = hub.requests.length;
  const off = { ...env, HF_HUB_OFFLINE: '1' };
  assert.deepEqual(await listRepoFiles({ repoId: DATASET, repoType: 'dataset', env: off }), files);
  assert.deepEqual((await listRepoFiles({ repoId: DATASET, repoType: 'dataset', revision: 'refs/convert/parquet', env: off })), ['default/train/0000.parquet']);
  assert.equal(since(mark).length, 0);
  await assert.rejects(listRepoFiles({ repoId: CLIP, env: off }), /offline mode is on/);
});

test("a cache written by Python's layout is read as is (offline and by commit, without requests)", async () => {
  const home = join(fx.dir, 'python-home');
  const storage = join(home, 'hub', 'models--someone--tiny');
  const commit = 'a'.repeat(40);
  const content = Buffer.from('{"python": true}');
  const etag = gitBlobSha1(content);
  mkdirSync(join(storage, 'blobs'), { recursive: true });
  mkdirSync(join(storage, 'snapshots', commit), { recursive: true });
  mkdirSync(join(storage, 'refs'), { recursive: true });
  writeFileSync(join(storage, 'blobs', etag), content);
  symlinkSync(`../../blobs/${etag}`, join(storage, 'snapshots', commit, 'config.json'));
  writeFileSync(join(storage, 'refs', 'main'), commit);
  mkdirSync(join(home, 'hub', '.locks', 'models--someone--tiny'), { recursive: true });
  writeFileSync(join(home, 'hub', '.locks', 'models--someone--tiny', `${etag}.lock`), '');
  const env = { ...envFor(fx, hub.url), HF_HOME: home };
  const mark = hub.requests.length;
  const p = await hfHubDownload({ repoId: 'someone/tiny', filename: 'config.json', env: { ...env, HF_HUB_OFFLINE: '1' } });
  assert.deepEqual(readFileSync(p), content);
  assert.equal(await hfHubDownload({ repoId: 'someone/tiny', filename: 'config.json', revision: commit, env }), p);
  assert.equal(await snapshotDownload({ repoId: 'someone/tiny', env: { ...env, HF_HUB_OFFLINE: '1' } }), join(storage, 'snapshots', commit));
  assert.deepEqual(await listRepoFiles({ repoId: 'someone/tiny', env: { ...env, HF_HUB_OFFLINE: '1' } }), ['config.json']);
  assert.equal(since(mark).length, 0);
  rmSync(home, { recursive: true, force: true });
});

test('HF_HUB_CACHE puts the cache elsewhere than $HF_HOME/hub', async () => {
  const env = freshEnv();
  const cache = join(fx.dir, `custom-cache`);
  const p = await hfHubDownload({ repoId: CLIP, filename: 'config.json', env: { ...env, HF_HUB_CACHE: cache } });
  assert.ok(p.startsWith(join(cache, 'models--openai--clip-vit-base-patch32', 'snapshots')));
  assert.equal(existsSync(join(env.HF_HOME, 'hub')), false);
  assert.deepEqual(readdirSync(cache).sort(), ['.locks', 'CACHEDIR.TAG', 'models--openai--clip-vit-base-patch32']);
});

test('resolveRepoPath: a local folder as is, a hub spec with @revision as its downloaded snapshot', async () => {
  const env = freshEnv();
  const local = join(fx.dir, 'local-model');
  mkdirSync(local, { recursive: true });
  assert.equal(await resolveRepoPath('local-model', { cwd: fx.dir, env }), local);
  const dir = await resolveRepoPath(`${CLIP}@v1.0`, { cwd: fx.dir, env });
  assert.equal(dir, join(env.HF_HOME, 'hub', 'models--openai--clip-vit-base-patch32', 'snapshots', hub.commitOf(`models/${CLIP}`, 'v1.0')));
  assert.deepEqual(readFileSync(join(dir, 'config.json')), fx.files.configV1);
  const ds = await resolveRepoPath(DATASET, { cwd: fx.dir, env, repoType: 'dataset', allowPatterns: 'data/*' });
  assert.deepEqual(readdirSync(join(ds, 'data')).sort(), ['test-00000-of-00001.parquet', 'train-00000-of-00001.parquet']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveRepoOrPath } from '../../src/hub/resolve-spec.js';
import { filterRepoPaths, fnmatchRegExp } from '../../src/hub/patterns.js';
import { repoFolderName, resolveUrl, validateRepoId } from '../../src/hub/repo-id.js';
import { UserError } from '../../src/errors.js';

test('an existing folder is local (relative to cwd, even when it looks like org/name); otherwise a repo id with @revision', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-spec-'));
  mkdirSync(join(dir, 'org', 'name'), { recursive: true });
  assert.deepEqual(resolveRepoOrPath('org/name', { cwd: dir }), { kind: 'local', path: join(dir, 'org', 'name') });
  assert.deepEqual(resolveRepoOrPath(join(dir, 'org'), {}), { kind: 'local', path: join(dir, 'org') });
  assert.deepEqual(resolveRepoOrPath('hf://org/name', { cwd: dir }), { kind: 'local', path: join(dir, 'org', 'name') });
  assert.deepEqual(resolveRepoOrPath('openai/clip-vit-base-patch32', { cwd: dir }), { kind: 'hub', repoId: 'openai/clip-vit-base-patch32', revision: 'main', repoType: 'model' });
  assert.deepEqual(resolveRepoOrPath('tanganke/svhn@refs/convert/parquet', { cwd: dir, repoType: 'dataset' }), { kind: 'hub', repoId: 'tanganke/svhn', revision: 'refs/convert/parquet', repoType: 'dataset' });
  assert.deepEqual(resolveRepoOrPath('hf://gpt2@abc', { cwd: dir }), { kind: 'hub', repoId: 'gpt2', revision: 'abc', repoType: 'model' });
  rmSync(dir, { recursive: true, force: true });
});

test('specs that are neither are UserErrors that say what was tried', () => {
  assert.throws(() => resolveRepoOrPath('./missing/model', { cwd: '/tmp' }), (e: unknown) => e instanceof UserError && /path '.\/missing\/model' does not exist/.test(e.message));
  assert.throws(() => resolveRepoOrPath('a/b/c/d', { cwd: '/tmp' }), /does not exist/);
  assert.throws(() => resolveRepoOrPath('org/na me', { cwd: '/tmp' }), /neither an existing local path .* nor a valid Hugging Face repo id/);
  assert.throws(() => resolveRepoOrPath('org/name@', { cwd: '/tmp' }), /empty revision/);
  assert.throws(() => resolveRepoOrPath('modelscope://x/y'), /ModelScope is not supported/);
});

test('repo ids, cache folder names and resolve URLs as huggingface_hub makes them', () => {
  assert.equal(repoFolderName({ repoId: 'openai/clip-vit-base-patch32', repoType: 'model' }), 'models--openai--clip-vit-base-patch32');
  assert.equal(repoFolderName({ repoId: 'tanganke/svhn', repoType: 'dataset' }), 'datasets--tanganke--svhn');
  assert.equal(repoFolderName({ repoId: 'gpt2', repoType: 'model' }), 'models--gpt2');
  assert.equal(resolveUrl('http://h', { repoId: 'a/b', repoType: 'dataset' }, 'refs/convert/parquet', 'x y/z.parquet'), 'http://h/datasets/a/b/resolve/refs%2Fconvert%2Fparquet/x%20y/z.parquet');
  for (const bad of ['a/b/c', '-a/b', 'a/b.', 'a--b/c', 'a/b..c', 'a/b.git', 'x'.repeat(97)]) assert.throws(() => validateRepoId(bad), UserError, bad);
  for (const good of ['a/b', 'gpt2', 'Org_1/name.v2-x']) validateRepoId(good);
});

test('fnmatch patterns: * crosses folders, ?, [seq], [!seq], folders ending in /', () => {
  const paths = ['config.json', 'model.safetensors', 'sub/a.json', 'data/train-0.parquet', 'data/test-0.parquet', 'x.txt'];
  assert.deepEqual(filterRepoPaths(paths, '*.json'), ['config.json', 'sub/a.json']);
  assert.deepEqual(filterRepoPaths(paths, 'data/'), ['data/train-0.parquet', 'data/test-0.parquet']);
  assert.deepEqual(filterRepoPaths(paths, null, ['*.parquet', '*.json']), ['model.safetensors', 'x.txt']);
  assert.deepEqual(filterRepoPaths(paths, 'data/t[!e]*'), ['data/train-0.parquet']);
  assert.ok(fnmatchRegExp('?.txt').test('x.txt'));
  assert.ok(!fnmatchRegExp('*.JSON').test('a.json'), 'case-sensitive as on POSIX');
  assert.ok(fnmatchRegExp('a[.]b').test('a.b') && !fnmatchRegExp('a.b').test('axb'));
});

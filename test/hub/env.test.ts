import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHubEnv, isTrue, expandPath } from '../../src/hub/env.js';

test('defaults follow huggingface_hub: ~/.cache/huggingface, its hub/ folder, huggingface.co, online', () => {
  const h = readHubEnv({}, '/home/u');
  assert.equal(h.home, '/home/u/.cache/huggingface');
  assert.equal(h.hubCache, '/home/u/.cache/huggingface/hub');
  assert.equal(h.endpoint, 'https://huggingface.co');
  assert.equal(h.offline, false);
  assert.equal(h.token, null);
  assert.equal(h.etagTimeoutMs, 10_000);
  assert.equal(h.downloadTimeoutMs, 10_000);
});

test('HF_HOME, XDG_CACHE_HOME, HF_HUB_CACHE and its legacy name, with ~ and $VAR expanded', () => {
  assert.equal(readHubEnv({ XDG_CACHE_HOME: '/x' }, '/home/u').hubCache, '/x/huggingface/hub');
  assert.equal(readHubEnv({ HF_HOME: '~/hf' }, '/home/u').hubCache, '/home/u/hf/hub');
  assert.equal(readHubEnv({ HF_HOME: '/h', HF_HUB_CACHE: '$SCRATCH/cache', SCRATCH: '/s' }, '/home/u').hubCache, '/s/cache');
  assert.equal(readHubEnv({ HF_HOME: '/h', HUGGINGFACE_HUB_CACHE: '/legacy' }, '/home/u').hubCache, '/legacy');
  assert.equal(readHubEnv({ HUGGINGFACE_HUB_CACHE: '/legacy', HF_HUB_CACHE: '/new' }, '/home/u').hubCache, '/new');
  assert.equal(expandPath('${A}/b/$MISSING', { A: '/a' }, '/h'), '/a/b/$MISSING');
});

test('HF_ENDPOINT loses its trailing slash; offline flags accept the spellings Python accepts', () => {
  assert.equal(readHubEnv({ HF_ENDPOINT: 'http://127.0.0.1:9/' }).endpoint, 'http://127.0.0.1:9');
  for (const v of ['1', 'on', 'YES', 'true']) assert.equal(readHubEnv({ HF_HUB_OFFLINE: v }).offline, true, v);
  for (const v of ['0', 'no', '', 'off']) assert.equal(readHubEnv({ HF_HUB_OFFLINE: v }).offline, false, v);
  assert.equal(readHubEnv({ TRANSFORMERS_OFFLINE: '1' }).offline, true);
  assert.equal(isTrue(undefined), false);
  assert.equal(readHubEnv({ HF_HUB_ETAG_TIMEOUT: '3', HF_HUB_DOWNLOAD_TIMEOUT: '60' }).etagTimeoutMs, 3000);
  assert.equal(readHubEnv({ HF_HUB_DISABLE_PROGRESS_BARS: '1' }).disableProgressBars, true);
});

test('token: HF_TOKEN, then the legacy variable, then the token file; implicit tokens can be disabled', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-env-'));
  writeFileSync(join(dir, 'token'), '  hf_file_token\n');
  assert.equal(readHubEnv({ HF_HOME: dir }).token, 'hf_file_token');
  assert.equal(readHubEnv({ HF_HOME: dir, HF_TOKEN: 'hf_env\n' }).token, 'hf_env');
  assert.equal(readHubEnv({ HF_HOME: dir, HUGGING_FACE_HUB_TOKEN: 'hf_legacy' }).token, 'hf_legacy');
  writeFileSync(join(dir, 'other'), 'hf_other');
  assert.equal(readHubEnv({ HF_HOME: dir, HF_TOKEN_PATH: join(dir, 'other') }).token, 'hf_other');
  assert.equal(readHubEnv({ HF_HOME: dir, HF_HUB_DISABLE_IMPLICIT_TOKEN: '1' }).token, null);
  assert.equal(readHubEnv({ HF_HOME: join(dir, 'none') }).token, null);
  rmSync(dir, { recursive: true, force: true });
});

/**
 * push_to_hub: a merged model folder goes to the (fake) hub as huggingface_hub's upload_folder sends it,
 * and comes back byte for byte through our own download client; the token never reaches the LFS host.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeHub } from '../helpers/hub-server.js';
import { binPath } from '../helpers/paths.js';
import { hfHubDownload } from '../../src/hub/index.js';
import { uploadFolder } from '../../src/hub/upload.js';
import { isUserError } from '../../src/errors.js';
import { writeRandomClipVisionModel } from '../../bench/lib/random-model.js';

const TOKEN = 'hf_test_token';
const small = { layers: 1, hidden: 16, mlp: 32, heads: 2, patch: 8, image: 16, projectionDim: 8 };

test('a folder uploads (regular and LFS files, one commit) and downloads back identical; the token stays on the hub host', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'upload-'));
  const hub = await startFakeHub({ root: join(dir, 'hub') });
  try {
    const folder = join(dir, 'merged');
    mkdirSync(folder);
    writeRandomClipVisionModel(folder, { ...small, seed: 1 });
    writeFileSync(join(folder, '.model.safetensors.tmp-1-x'), 'never uploaded');
    const env = { HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN, HF_HOME: join(dir, 'hf') };
    const r = await uploadFolder({ repoId: 'me/merged', folder, env, commitMessage: 'merge' });
    assert.deepEqual(r.files, ['config.json', 'model.safetensors']);
    assert.deepEqual(hub.uploads.commits.map((c) => [c.repo, c.revision, c.summary, c.paths]), [['models/me/merged', 'main', 'merge', ['config.json', 'model.safetensors']]]);
    const puts = hub.requests.filter((q) => q.server === 'cdn' && q.method === 'PUT');
    assert.equal(puts.length, 1, 'the safetensors file went through LFS');
    assert.equal(puts[0]!.authorization, null, 'no token to the upload host');
    assert.ok(hub.requests.filter((q) => q.server === 'hub').every((q) => q.authorization === `Bearer ${TOKEN}`));
    for (const f of ['config.json', 'model.safetensors']) {
      const got = await hfHubDownload({ repoId: 'me/merged', filename: f, env: { ...env, HF_HOME: join(dir, 'hf-down') } });
      assert.ok(readFileSync(got).equals(readFileSync(join(folder, f))), f);
    }
    // again: the repository exists (409) and the LFS object is stored, so nothing is PUT twice
    await uploadFolder({ repoId: 'me/merged', folder, env });
    assert.equal(hub.requests.filter((q) => q.server === 'cdn' && q.method === 'PUT').length, 1);
    assert.equal(hub.uploads.commits.length, 2);
    await assert.rejects(uploadFolder({ repoId: 'me/merged', folder, env: { ...env, HF_TOKEN: undefined, HF_HOME: join(dir, 'none') } }), (e) => isUserError(e) && /push_to_hub needs a hub token/.test((e as Error).message));
    await assert.rejects(uploadFolder({ repoId: 'me/merged', folder, env: { ...env, HF_TOKEN: 'hf_wrong' } }), (e) => isUserError(e) && /no write access/.test((e as Error).message));
  } finally {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the CLI pushes the merged model with merged_model_save_kwargs.push_to_hub', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'upload-cli-'));
  const hub = await startFakeHub({ root: join(dir, 'hub') });
  try {
    for (const [m, seed] of [['base', 1], ['a', 2], ['b', 3]] as const) {
      mkdirSync(join(dir, 'models', m), { recursive: true });
      writeRandomClipVisionModel(join(dir, 'models', m), { ...small, seed, ...(m === 'base' ? {} : { base: { seed: 1, noise: 0.05 } }) });
    }
    mkdirSync(join(dir, 'conf', 'modelpool'), { recursive: true });
    writeFileSync(join(dir, 'conf', 'modelpool', 'p.yaml'), `_target_: fusion_bench.modelpool.CLIPVisionModelPool\nmodels:\n  _pretrained_: ${join(dir, 'models', 'base')}\n  a: ${join(dir, 'models', 'a')}\n  b: ${join(dir, 'models', 'b')}\n`);
    const out = join(dir, 'merged');
    const args = [binPath, '--config-dir', join(dir, 'conf'), 'method=task_arithmetic', 'method.scaling_factor=0.3', 'modelpool=p', 'taskpool=dummy', 'print_config=false', 'print_function_call=false', `merged_model_save_path=${out}`, '+merged_model_save_kwargs={push_to_hub: true, repo_id: me/ta-merge}'];
    // asynchronously: the fake hub answers from this process
    const r = await new Promise<{ status: number | null; stderr: string }>((done) => {
      const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, FUSION_BENCH_PROJECT_ROOT: dir, HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN, HF_HOME: join(dir, 'hf') } });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.stdout.resume();
      child.on('close', (status) => done({ status, stderr }));
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /Pushed 2 files to the hub repository me\/ta-merge/);
    const pushed = join(dir, 'hub', 'models', 'me', 'ta-merge', 'main', 'model.safetensors');
    assert.ok(readFileSync(pushed).equals(readFileSync(join(out, 'model.safetensors'))));
  } finally {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Writing fails on a full or limited disk: one message naming the file, no stack, no empty output folder
 * left behind. The limit is the process's file size limit (`ulimit -f`, EFBIG), which needs no special mount.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath } from '../helpers/paths.js';

const hasBash = spawnSync('bash', ['-c', 'ulimit -f 64'], { encoding: 'utf8' }).status === 0 ? false : 'needs bash with ulimit';

test('a merged model larger than the file size limit: EFBIG names the file and the empty model folder is removed', { skip: hasBash }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-efbig-'));
  try {
    const out = join(dir, 'out', 'merged');
    // 64 blocks of 512 bytes: the run's small records fit, the merged model (~700 kB) does not
    const r = spawnSync('bash', ['-c', 'ulimit -f 64; exec "$0" "$@"', process.execPath, binPath, '--config-name', 'demo', `merged_model_save_path=${out}`, 'taskpool=dummy'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, FUSION_BENCH_PROJECT_ROOT: dir, FUSION_BENCH_NO_CACHE: '1', HYDRA_FULL_ERROR: '' },
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot write ${join(out, 'model.safetensors').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the file is too large \\(EFBIG`));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.ok(!existsSync(join(dir, 'out')), 'the folders made for the model are gone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

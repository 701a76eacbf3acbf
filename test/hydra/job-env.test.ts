/**
 * The job processes our launchers start keep freed memory in glibc's heap (so onnxruntime sessions made
 * one after another reuse it), unless the user's environment already says how.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { heapKeepingEnv } from '../../src/hydra/job-processes.js';

test('heapKeepingEnv sets both glibc settings, and leaves any the user set to the user', () => {
  assert.deepEqual(heapKeepingEnv({}), { MALLOC_MMAP_THRESHOLD_: '33554432', MALLOC_TRIM_THRESHOLD_: '4294967295' });
  assert.deepEqual(heapKeepingEnv({ MALLOC_TRIM_THRESHOLD_: '0' }), { MALLOC_MMAP_THRESHOLD_: '33554432' });
  assert.deepEqual(heapKeepingEnv({ MALLOC_MMAP_THRESHOLD_: '1', MALLOC_TRIM_THRESHOLD_: '2' }), {});
});

test('a Node process started with them runs (glibc accepts the values; other C libraries ignore them)', () => {
  const r = spawnSync(process.execPath, ['-e', 'const a = []; for (let i = 0; i < 64; i++) a.push(new Float32Array(1 << 20)); a.length = 0; console.log("ok")'], {
    env: { ...process.env, ...heapKeepingEnv({}) },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'ok');
});

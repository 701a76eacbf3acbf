import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { binPath } from '../helpers/paths.js';

const bin = binPath;

test('--version prints the version and exits 0', () => {
  const r = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^fusion-bench \d+\.\d+\.\d+ /);
});

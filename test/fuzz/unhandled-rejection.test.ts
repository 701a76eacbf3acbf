/**
 * An unhandled rejection must fail the suite: node's test runner reports it as a failure of the test
 * that leaked it, and `node --test` then exits non-zero (checked on a throwaway test file).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('a test that leaks a rejected promise fails the run', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-rejection-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'leak.test.mjs');
  writeFileSync(
    file,
    "import { test } from 'node:test';\n" +
      "test('leaks', async () => { Promise.reject(new Error('leaked')); await new Promise((r) => setImmediate(r)); });\n",
  );
  // Without the parent runner's context variable the child reports and exits as `node --test` on its own.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, ['--test', file], { encoding: 'utf8', env });
  assert.notEqual(r.status, 0, r.stdout);
  assert.match(r.stdout, /leaked/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDir } from '../../src/util/ensure-dir.js';
import { isUserError } from '../../src/errors.js';
import { binPath } from '../helpers/paths.js';

const procfs = existsSync('/proc/self') ? false : 'no procfs on this system';

function userErrorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(isUserError(e), `expected a UserError, got ${(e as Error).stack}`);
    return (e as Error).message;
  }
  assert.fail('no error');
}

test('ensureDir creates missing parents and accepts an existing folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-ensure-'));
  try {
    const deep = join(dir, 'a', 'b', 'c');
    assert.deepEqual(ensureDir(deep, 'the output folder'), [join(dir, 'a'), join(dir, 'a', 'b'), deep]);
    assert.ok(statSync(deep).isDirectory());
    assert.deepEqual(ensureDir(deep, 'the output folder'), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ensureDir names the path when a part of it is a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-ensure-'));
  try {
    writeFileSync(join(dir, 'f'), 'x');
    const msg = userErrorOf(() => ensureDir(join(dir, 'f', 'sub'), 'the report folder'));
    assert.match(msg, /cannot create the report folder .*f[/\\]sub: .*f is a file, not a folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Node's recursive mkdir spins forever here; the child and its timeout are only a safety net so that a
// regression fails instead of hanging the suite (the assertion is on the message, not on time).
test('ensureDir under /proc ends with a UserError instead of looping', { skip: procfs }, () => {
  const mod = new URL('../../src/util/ensure-dir.js', import.meta.url).href;
  const script = `import(${JSON.stringify(mod)}).then((m) => { try { m.ensureDir('/proc/nope/x', 'the report folder'); console.log('created?'); } catch (e) { console.log(e.name + ': ' + e.message); } });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.signal, null, 'the child had to be killed: ensureDir looped');
  assert.match(r.stdout, /^UserError: cannot create the report folder \/proc\/nope\/x: \/proc\/nope: \/proc does not accept new folders/);
});

test('merged_model_save_path under /proc stops with one message, no stack', { skip: procfs }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-ensure-cli-'));
  try {
    const r = spawnSync(process.execPath, [binPath, '--config-name', 'demo', 'merged_model_save_path=/proc/nope/merged', 'taskpool=dummy', 'report_save_path=null'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, FUSION_BENCH_PROJECT_ROOT: dir },
    });
    assert.equal(r.signal, null, 'the run had to be killed');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /cannot create the model directory \/proc\/nope\/merged/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

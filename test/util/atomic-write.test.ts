import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const hasBash = spawnSync('bash', ['-c', 'ulimit -f 1'], { encoding: 'utf8' }).status === 0 ? false : 'needs bash with ulimit';

test('writeFileAtomic past the file size limit: a UserError naming the file, and no temp file left', { skip: hasBash }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-atomic-'));
  try {
    const mod = new URL('../../src/util/atomic-write.js', import.meta.url).href;
    const target = join(dir, 'program_report.json');
    const script = `import(${JSON.stringify(mod)}).then((m) => { try { m.writeFileAtomic(${JSON.stringify(target)}, 'x'.repeat(100000)); console.log('written?'); } catch (e) { console.log(e.name + ': ' + e.message); } });`;
    // 1 block of 512 bytes: the 100 kB report cannot be written
    const r = spawnSync('bash', ['-c', 'ulimit -f 1; exec "$0" -e "$1"', process.execPath, script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `UserError: cannot write ${target}: the file is too large (EFBIG: the file system's or the process's file size limit, ulimit -f)`);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

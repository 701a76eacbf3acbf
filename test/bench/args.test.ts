/**
 * Every benchmark's command line (bench/lib/args.ts): `--help` prints its usage and exits 0; an unknown
 * flag ends in one line naming it plus the usage, exit status 2, no stack trace — before any work starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

const benches = readdirSync(join(repoRoot, 'bench')).filter((f) => f.endsWith('.ts') && readFileSync(join(repoRoot, 'bench', f), 'utf8').includes('benchArgs('));

test('the benchmarks that take flags all parse them through benchArgs', () => {
  const raw = readdirSync(join(repoRoot, 'bench')).filter((f) => f.endsWith('.ts') && /\bparseArgs\(/.test(readFileSync(join(repoRoot, 'bench', f), 'utf8')));
  assert.deepEqual(raw, []);
  assert.ok(benches.length >= 10, benches.join(' '));
});

for (const file of benches) {
  const script = join(repoRoot, 'dist', 'bench', file.replace(/\.ts$/, '.js'));
  test(`${file}: --help prints the usage; an unknown flag is named, with the usage, exit 2`, () => {
    const help = spawnSync(process.execPath, [script, '--help'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^usage: node dist/bench/${file.replace(/\.ts$/, '')}\\.js`));
    const bad = spawnSync(process.execPath, [script, '--no-such-flag'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /'--no-such-flag'/);
    assert.match(bad.stderr, /\nusage: /);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
  });
}

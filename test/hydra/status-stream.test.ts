/** The status stream of a run: progress bars draw in place on a terminal, and the log keeps plain lines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tee } from '../../src/hydra/run-dir.js';
import { createProgress } from '../../src/util/progress.js';
import { repoRoot } from '../helpers/paths.js';

function sink(isTTY: boolean) {
  const s = { text: '', isTTY, columns: 80, write(c: string | Uint8Array) { s.text += String(c); return true; } };
  return s;
}

test('tee keeps the terminal a terminal; the log gets only the final state of each bar', () => {
  const term = sink(true);
  const log = sink(false);
  const status = tee(term as unknown as NodeJS.WritableStream, log as unknown as NodeJS.WritableStream) as unknown as { isTTY: boolean; columns: number };
  assert.equal(status.isTTY, true);
  assert.equal(status.columns, 80);
  let t = 0;
  const bar = createProgress({ label: 'Evaluating mnist', total: 10, unit: 'images', stream: status as never, now: () => t, redrawMs: 0 });
  for (let i = 0; i < 10; i++) {
    t += 100;
    bar.add(1);
  }
  bar.finish();
  (status as unknown as NodeJS.WritableStream).write('Saved the merged model to x\n');
  assert.ok((term.text.match(/\r/g) ?? []).length >= 10, 'the bar redraws in place on the terminal');
  assert.doesNotMatch(log.text, /\r|\x1b/, 'no redraws in the log');
  assert.deepEqual(log.text.trimEnd().split('\n').length, 2);
  assert.match(log.text, /^Evaluating mnist: 100% \[#{20}\] 10 images \/ 10 images/);
  assert.match(log.text, /Saved the merged model to x\n$/);
  assert.equal((tee(sink(false) as never, sink(false) as never) as unknown as { isTTY: boolean }).isTTY, false);
});

test('the demo under a real pseudo-terminal draws its progress bars in place', { skip: spawnSync('script', ['--version']).status === 0 ? false : 'no script(1) here' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tty-run-'));
  try {
    const cmd = `node ${join(repoRoot, 'bin', 'fusion-bench.js')} --config-name demo hydra.run.dir=${join(dir, 'run')} path.log_dir=${join(dir, 'run')}`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', cwd: dir, env: { ...process.env, TERM: 'xterm' }, timeout: 120_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\rEvaluating mnist: +\d+% \[/, 'a redrawn bar on the terminal');
    const logs = readdirSync(join(dir, 'run')).filter((f) => f.endsWith('.log'));
    assert.equal(logs.length, 1);
    const log = readFileSync(join(dir, 'run', logs[0]!), 'utf8');
    assert.doesNotMatch(log, /\r/);
    assert.match(log, /Evaluating mnist: 100% \[#+\]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

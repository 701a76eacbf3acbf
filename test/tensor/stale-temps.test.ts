/**
 * Temp files of a writer killed with SIGKILL (which cannot clean up) are removed by the next writer into
 * the same folder; those of live processes are left alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSafetensors } from '../../src/tensor/safetensors-write.js';
import { stateDictFromArrays } from '../../src/tensor/memory-state-dict.js';
import { writeFileAtomic } from '../../src/util/atomic-write.js';
import { pidAlive, tempWriterPid } from '../../src/util/stale-temps.js';
import { repoRoot } from '../helpers/paths.js';
import { tempDir } from './support.js';

/** Runs stuck-writer-child until it says `ready` (its temp file holds the first tensor), then SIGKILLs it. */
async function killWriterMidSave(dir: string): Promise<{ pid: number; temps: string[] }> {
  const self = fileURLToPath(import.meta.url);
  const isTs = self.endsWith('.ts');
  const script = join(self, '..', isTs ? 'stuck-writer-child.ts' : 'stuck-writer-child.js');
  const proc = spawn(process.execPath, [...(isTs ? ['--import', 'tsx'] : []), script, dir], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const ready = await new Promise<boolean>((resolve) => {
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) resolve(true);
    });
    proc.on('exit', () => resolve(false));
  });
  assert.ok(ready, 'the child exited before it was stuck mid-save');
  const temps = readdirSync(dir).filter((f) => f.startsWith('.model.safetensors.tmp-'));
  proc.kill('SIGKILL');
  await exited;
  return { pid: proc.pid!, temps };
}

const small = () => stateDictFromArrays({ w: { shape: [2], data: [1, 2] } });

test('a save killed with SIGKILL leaves its temp file; the next save into the folder removes it, not live ones', async () => {
  const dir = tempDir('fb-stale-');
  const { pid, temps } = await killWriterMidSave(dir);
  assert.equal(temps.length, 1, 'the child had its temp file open');
  assert.equal(tempWriterPid(temps[0]!), pid);
  assert.ok(!pidAlive(pid));
  assert.deepEqual(readdirSync(dir), temps, 'SIGKILL left the temp file behind (nothing else)');

  // temp files of live processes: this one (a save in progress here) and the parent of this test
  const ours = `.model.safetensors.tmp-${process.pid}-0123abcd`;
  const parents = `.config.json.${process.ppid}.k3j4h5g6.tmp`;
  const deadAtomic = `.config.json.${pid}.k3j4h5g6.tmp`;
  for (const f of [ours, parents, deadAtomic]) writeFileSync(join(dir, f), 'x');

  await writeSafetensors(join(dir, 'model.safetensors'), small());
  assert.deepEqual(readdirSync(dir).sort(), [parents, ours, 'model.safetensors'].sort());
});

test('writeFileAtomic removes dead writers\' temp files in its folder too', async () => {
  const dir = tempDir('fb-stale-');
  const { pid } = await killWriterMidSave(dir);
  const deadAtomic = `.report.json.${pid}.abc123.tmp`;
  writeFileSync(join(dir, deadAtomic), '{');
  writeFileAtomic(join(dir, 'report.json'), '{}\n');
  assert.deepEqual(readdirSync(dir), ['report.json']);
});

test('temp names are recognised only in our two spellings', () => {
  assert.equal(tempWriterPid('.model.safetensors.tmp-123-0a1b2c3d'), 123);
  assert.equal(tempWriterPid('.config.json.456.x1y2z3.tmp'), 456);
  for (const other of ['model.safetensors', '.model.safetensors', 'notes.123.abc.tmp', '.x.tmp-12-zz', '.gitignore']) assert.equal(tempWriterPid(other), null, other);
});

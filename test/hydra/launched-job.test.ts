/**
 * A job started by a launcher (FUSION_BENCH_LAUNCHED_JOB): SIGUSR2, Slurm's warning before the time
 * limit, ends it with a result that says so and nothing half-written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAUNCHED_JOB_ENV } from '../../src/hydra/launched-job.js';
import { binPath } from '../helpers/paths.js';

test('SIGUSR2 stops a job: its result file says why, it exits non-zero, no temporary file is left', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-usr2-'));
  // a hub that never answers: the job waits on it, its event loop free to take the signal
  let child: ReturnType<typeof spawn> | null = null;
  const server = http.createServer(() => child?.kill('SIGUSR2'));
  try {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const result = join(dir, 's', '0', 'job_return.json');
    child = spawn(process.execPath, [binPath, '--config-name', 'demo', 'hydra.mode=MULTIRUN', `hydra.sweep.dir=${join(dir, 's')}`, 'modelpool.models.mnist=org/never-answers'], {
      cwd: dir,
      env: { ...process.env, HF_ENDPOINT: `http://127.0.0.1:${port}`, HF_HOME: join(dir, 'hf'), [LAUNCHED_JOB_ENV]: JSON.stringify({ num: 0, now: new Date().toISOString(), result }) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child!.on('close', (c) => r(c)));
    assert.notEqual(code, 0, stderr);
    const ret = JSON.parse(readFileSync(result, 'utf8')) as { status: string; error: string; num: number };
    assert.equal(ret.status, 'failed');
    assert.match(ret.error, /stopped by SIGUSR2/);
    assert.equal(ret.num, 0);
    assert.deepEqual(readdirSync(join(dir, 's', '0')).filter((f) => f.endsWith('.tmp')), []);
  } finally {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

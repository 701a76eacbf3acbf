/**
 * Hydra's runner without fusion-bench's program: an application that records what it is given shows
 * that single runs and sweeps go through one run_job, that the launcher is chosen by hydra.launcher, and
 * that the application's hooks see every outcome.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App, MultirunEnd } from '../../src/hydra/app.js';
import { runApp } from '../../src/hydra/run-app.js';
import { isUserError } from '../../src/errors.js';
import type { ConfigDict } from '../../src/config/values.js';
import type { RunContext } from '../../src/run-context.js';

function sink() {
  const s = { text: '', write(c: string | Uint8Array) { s.text += String(c); return true; } };
  return s as unknown as NodeJS.WritableStream & { text: string };
}

function recordingApp() {
  const runs: { job: ConfigDict; ctx: RunContext }[] = [];
  let ended: MultirunEnd | null = null;
  const app: App = {
    async run(job, ctx) {
      runs.push({ job, ctx });
      if (job.fail === true) throw new Error('job failed on purpose');
      return { report: { x: job.x }, reportPath: null };
    },
    async onMultirunEnd(end) {
      ended = end;
      return false;
    },
  };
  return { app, runs, ended: () => ended };
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'hydra-runner-'));
  mkdirSync(join(dir, 'conf'));
  writeFileSync(join(dir, 'conf', 'app.yaml'), 'x: 1\nfail: false\n');
  const io = { stdout: sink(), stderr: sink(), env: {}, cwd: dir };
  const req = (overrides: string[]) => ({ configPath: join(dir, 'conf'), configName: 'app', configDir: null, overrides });
  return { dir, io, req };
}

test('a single run and a sweep run the same run_job; a sweep job gets the sweep cache, a single run none', async () => {
  const { dir, io, req } = setup();
  try {
    const single = recordingApp();
    assert.equal(await runApp(req(['x=5', 'hydra.run.dir=run']), io, single.app, { multirun: false }), 0);
    assert.equal(single.runs.length, 1);
    assert.equal(single.runs[0]!.job.x, 5);
    assert.equal(single.runs[0]!.ctx.sweepCache, null);
    assert.equal(single.runs[0]!.ctx.logDir, join(dir, 'run'));
    assert.match(readFileSync(join(dir, 'run', '.hydra', 'overrides.yaml'), 'utf8'), /x=5/);

    const sweep = recordingApp();
    const code = await runApp(req(['x=1,2,3', 'fail=false', 'hydra.sweep.dir=multi']), io, sweep.app, { multirun: true });
    assert.equal(code, 0);
    assert.deepEqual(sweep.runs.map((r) => r.job.x), [1, 2, 3]);
    const caches = new Set(sweep.runs.map((r) => r.ctx.sweepCache));
    assert.equal(caches.size, 1, 'the jobs of an in-process sweep share one cache');
    assert.notEqual([...caches][0], null);
    const end = sweep.ended()!;
    assert.deepEqual(end.outcomes.map((o) => [o.num, o.status, (o.report as { x: number }).x]), [[0, 'completed', 1], [1, 'completed', 2], [2, 'completed', 3]]);
    assert.deepEqual(end.swept, [{ key: 'x', values: ['1', '2', '3'] }]);
    assert.deepEqual(end.outcomes.map((o) => o.outputDir), ['0', '1', '2'].map((s) => join(dir, 'multi', s)));
    // runMore: one more job in the same sweep directory
    const more = await end.runMore(['x=9'], 'best');
    assert.equal(more.status, 'completed');
    assert.equal(more.outputDir, join(dir, 'multi', 'best'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed job is recorded and the sweep goes on; a failed single run raises its error', async () => {
  const { dir, io, req } = setup();
  try {
    const sweep = recordingApp();
    const code = await runApp(req(['fail=false,true,false', 'hydra.sweep.dir=multi']), io, sweep.app, { multirun: true });
    assert.equal(code, 1);
    assert.deepEqual(sweep.ended()!.outcomes.map((o) => o.status), ['completed', 'failed', 'completed']);
    assert.match(sweep.ended()!.outcomes[1]!.error!, /job failed on purpose/);
    await assert.rejects(runApp(req(['fail=true', 'hydra.run.dir=r']), io, recordingApp().app, { multirun: false }), /job failed on purpose/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hydra.launcher chooses the launcher; an unknown _target_ is a clear error before any job', async () => {
  const { dir, io, req } = setup();
  try {
    const sweep = recordingApp();
    await assert.rejects(
      runApp(req(['x=1,2', 'hydra.sweep.dir=multi', 'hydra.launcher._target_=my.Launcher']), io, sweep.app, { multirun: true }),
      (e) => isUserError(e) && /'my\.Launcher' is not a launcher fusion-bench provides/.test((e as Error).message) && /BasicLauncher/.test((e as Error).message),
    );
    assert.equal(sweep.runs.length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run or sweep directory held by a live run is refused naming its PID; a dead holder\'s lock is taken over', async () => {
  const { dir, io, req } = setup();
  try {
    const { spawnSync } = await import('node:child_process');
    const { hostname } = await import('node:os');
    const { existsSync } = await import('node:fs');
    for (const [sub, multirun, overrides] of [['run', false, ['x=2', 'hydra.run.dir=run']], ['multi', true, ['x=1,2', 'hydra.sweep.dir=multi']]] as const) {
      mkdirSync(join(dir, sub), { recursive: true });
      const lock = join(dir, sub, '.fusion-bench.lock');
      writeFileSync(lock, `${process.pid}\n${hostname()}\n`);
      const held = recordingApp();
      await assert.rejects(runApp(req([...overrides]), io, held.app, { multirun }), (e) => isUserError(e) && new RegExp(`in use by another fusion-bench run \\(PID ${process.pid}\\)`).test((e as Error).message));
      assert.equal(held.runs.length, 0, 'nothing ran');
      assert.ok(!existsSync(join(dir, sub, '.hydra')) && !existsSync(join(dir, sub, 'multirun.yaml')), 'no record written');
      // a process that has exited holds nothing
      const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
      writeFileSync(lock, `${dead}\n${hostname()}\n`);
      const free = recordingApp();
      assert.equal(await runApp(req([...overrides]), io, free.app, { multirun }), 0);
      assert.ok(free.runs.length > 0);
      assert.ok(!existsSync(lock), 'the lock is released at the end');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('job logging: the FileHandler makes the log file; disabled keeps the job quiet with no file; LOG_LEVEL and hydra.verbose', async () => {
  const { dir, io, req } = setup();
  const { existsSync } = await import('node:fs');
  const { jobLoggingOf } = await import('../../src/hydra/job-logging.js');
  try {
    const statusOf = async (overrides: string[], env: Record<string, string> = {}) => {
      const app = recordingApp();
      const stderr = sink();
      assert.equal(await runApp(req(overrides), { ...io, stderr, env }, app.app, { multirun: false }), 0);
      return { ctx: app.runs[0]!.ctx, stderr: stderr.text };
    };
    const plain = await statusOf(['hydra.run.dir=a']);
    assert.notEqual(plain.ctx.status, null);
    assert.ok(existsSync(join(dir, 'a', 'cli.log')), 'the default job_logging writes <job name>.log');
    const disabled = await statusOf(['hydra.run.dir=b', 'hydra/job_logging=disabled']);
    assert.equal(disabled.ctx.status, null, 'no status lines');
    assert.ok(!existsSync(join(dir, 'b', 'cli.log')), 'no log file');
    assert.equal(disabled.stderr, '');
    assert.equal((await statusOf(['hydra.run.dir=c'], { LOG_LEVEL: 'warning' })).ctx.status, null);
    const verbose = await statusOf(['hydra.run.dir=d', 'hydra.verbose=true']);
    assert.match(verbose.stderr, /\[DEBUG\] job config \(resolved\):\nx: 1\n/);
    assert.match(readFileSync(join(dir, 'd', 'cli.log'), 'utf8'), /\[DEBUG\] job config/);
    assert.match((await statusOf(['hydra.run.dir=e'], { LOG_LEVEL: 'DEBUG' })).stderr, /\[DEBUG\]/);
    await assert.rejects(runApp(req(['hydra.run.dir=f']), { ...io, env: { LOG_LEVEL: 'loud' } }, recordingApp().app, { multirun: false }), (e) => isUserError(e) && /LOG_LEVEL environment variable: expected one of DEBUG, INFO/.test((e as Error).message));
    assert.deepEqual(jobLoggingOf({ version: 1, root: null }, undefined, {}), { file: null, level: 30 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

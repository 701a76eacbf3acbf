/**
 * The binary's fast start (bundle of the composition path + parsed-config cache, scripts/bundle.mjs; the
 * whole CLI's bundle, worker.cjs, for runs and --info) must answer exactly as dist/src does: same output,
 * same errors, same exit status, cold and warm cache.
 * A missing or stale bundle (a plain `tsc` after `npm run build`) fails here: the bin would then run
 * dist/src on both sides and the comparison would check nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath, repoRoot } from '../helpers/paths.js';

const bundleDir = join(repoRoot, 'dist', 'src', '_bundle');

/** The inputs of a bundle that changed since it was built, as bin/fusion-bench.js checks them. */
function staleInputs(manifest = 'manifest.json'): string[] {
  const m = JSON.parse(readFileSync(join(bundleDir, manifest), 'utf8')) as { inputs: [string, number, number][] };
  assert.ok(m.inputs.length > 10, 'the manifest lists the bundled modules');
  return m.inputs.filter(([p, mtime, size]) => {
    try {
      const st = statSync(join(repoRoot, p));
      return st.mtimeMs !== mtime || st.size !== size;
    } catch {
      return true;
    }
  }).map(([p]) => p);
}

function run(args: string[], env: Record<string, string>, cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [binPath, ...args], { cwd, encoding: 'utf8', env: { ...process.env, HYDRA_FULL_ERROR: '', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('fast start answers as dist/src does, with a cold and a warm parsed-config cache', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-fast-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'conf', 'method'), { recursive: true });
  writeFileSync(join(dir, 'conf', 'method', 'mine.yaml'), '_target_: my.Method\nscale: 1.0\nsteps: 3\nname: ${oc.env:USER,x}\n');
  writeFileSync(join(dir, 'conf', 'method', 'broken.yaml'), 'a: [1\n');
  const cache = { XDG_CACHE_HOME: join(dir, 'cache') };
  const cases: string[][] = [
    ['--cfg', 'job', 'modelpool=CLIPVisionModelPool/clip-vit-base-patch32_TA8', 'method=task_arithmetic'],
    ['--cfg', 'job', '--config-dir', join(dir, 'conf'), 'method=mine', 'method.scale=2'],
    ['--cfg', 'job', '--config-dir', join(dir, 'conf'), 'method=broken'],
    ['--cfg', 'hydra', '--resolve', '--package', 'hydra.job'],
    ['--cfg', 'job', 'method=no_such_method'],
    ['--help'],
    ['--version'],
    // not composition only: the whole CLI's bundle answers
    ['--info', 'defaults', 'method=task_arithmetic'],
    ['method=no_such_method'],
    ['--config-dir', join(dir, 'conf'), 'method=broken'],
  ];
  assert.deepEqual(staleInputs(), [], 'the bundle is stale: run `npm run build` (this test compares the bundle with dist/src)');
  const bundle = createRequire(import.meta.url)(join(bundleDir, 'cli.cjs')) as { servesArgs(a: string[]): boolean };
  const served = cases.filter((a) => bundle.servesArgs(a));
  assert.ok(served.length >= 5, `the bundle serves only ${served.length} of the cases: the rest compares dist/src with itself`);
  for (const args of cases) {
    const reference = run(args, { FUSION_BENCH_NO_BUNDLE: '1', FUSION_BENCH_NO_CACHE: '1' }, dir);
    for (const pass of ['cold', 'warm']) {
      const got = run(args, cache, dir);
      const what = `${pass}: fusion-bench ${args.join(' ')}`;
      assert.equal(got.status, reference.status, `${what}: exit status\n${got.stderr}`);
      assert.equal(got.stdout, reference.stdout, `${what}: stdout`);
      assert.equal(got.stderr, reference.stderr, `${what}: stderr`);
    }
  }
});

test('the launched processes\' bundle (worker.cjs) is fresh and holds the whole CLI', () => {
  // joblib workers and submitit/Slurm jobs start from it (the launcher tests then run through it)
  assert.deepEqual(staleInputs('worker-manifest.json'), [], 'the worker bundle is stale: run `npm run build`');
  const m = JSON.parse(readFileSync(join(bundleDir, 'worker-manifest.json'), 'utf8')) as { inputs: [string, number, number][] };
  for (const part of ['dist/src/hydra/pool-worker.js', 'dist/src/program/app.js', 'dist/src/taskpool/clip-vision/taskpool.js']) {
    assert.ok(m.inputs.some(([p]) => p === part), `worker.cjs bundles ${part}`);
  }
});

/**
 * The pure parts of bench/compare (bench/lib/compare-env.ts): interpreter detection and its "not
 * measured" reasons, fusion_bench's source, allocator/OpenBLAS environments, ratios and --only.
 * Also runs bench/compare/reference.py's self-check when a torch interpreter is present: the torch
 * tower against transformers' goldens and fusion_bench's task arithmetic against its golden.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  advantage, commandLine, findTorchPython, fusionBenchSource, isNotMeasured, median, parseOnly, pythonCandidates, variantEnv, variantName,
  type ProbeResult,
} from '../../bench/lib/compare-env.js';
import { needsShared, repoRoot, sharedPath } from '../helpers/paths.js';

const noTorch = (error: string): ProbeResult => ({ ok: false, error });

test('interpreter candidates: flag, then FUSION_BENCH_PYTHON, then /usr/bin/python3, then python3', () => {
  assert.deepEqual(pythonCandidates('/opt/py', { FUSION_BENCH_PYTHON: '/env/py' }).map((c) => c.python), ['/opt/py', '/env/py', '/usr/bin/python3', 'python3']);
  assert.deepEqual(pythonCandidates(undefined, {}).map((c) => c.python), ['/usr/bin/python3', 'python3']);
});

test('the first interpreter that imports torch is taken; none gives a reason naming every one tried', () => {
  const probe = (py: string): ProbeResult => (py === 'python3' ? { ok: true, version: '1.13.1' } : noTorch("Traceback\nModuleNotFoundError: No module named 'torch'\n"));
  const found = findTorchPython(pythonCandidates(undefined, {}), probe);
  assert.ok(!isNotMeasured(found));
  assert.deepEqual(found, { python: 'python3', source: 'default', torch: '1.13.1' });

  const none = findTorchPython(pythonCandidates(undefined, {}), () => noTorch("ModuleNotFoundError: No module named 'torch'"));
  assert.ok(isNotMeasured(none));
  assert.match(none.notMeasured, /\/usr\/bin\/python3 \(default\): ModuleNotFoundError: No module named 'torch'/);
  assert.match(none.notMeasured, /python3 \(default\)/);
  assert.match(none.notMeasured, /FUSION_BENCH_PYTHON/);
});

test('an interpreter named by FUSION_BENCH_PYTHON that lacks torch is reported, not replaced by a default one', () => {
  const probe = (py: string): ProbeResult => (py === '/env/py' ? noTorch('spawnSync /env/py ENOENT') : { ok: true, version: '1.13.1' });
  const r = findTorchPython(pythonCandidates(undefined, { FUSION_BENCH_PYTHON: '/env/py' }), probe);
  assert.ok(isNotMeasured(r));
  assert.match(r.notMeasured, /\/env\/py \(FUSION_BENCH_PYTHON\): spawnSync \/env\/py ENOENT/);
});

test("fusion_bench's source: flag over FUSION_BENCH_SRC; absent or not a checkout is 'not measured' with the reason", () => {
  const checkout = (p: string) => p === '/fb/fusion_bench/method/task_arithmetic/task_arithmetic.py';
  assert.equal(fusionBenchSource('/fb', { FUSION_BENCH_SRC: '/other' }, checkout), '/fb');
  assert.equal(fusionBenchSource(undefined, { FUSION_BENCH_SRC: '/fb' }, checkout), '/fb');
  const missing = fusionBenchSource(undefined, {}, checkout);
  assert.ok(isNotMeasured(missing) && /FUSION_BENCH_SRC/.test(missing.notMeasured));
  const wrong = fusionBenchSource('/tmp/x', {}, checkout);
  assert.ok(isNotMeasured(wrong) && /\/tmp\/x is not a fusion_bench checkout/.test(wrong.notMeasured));
});

test('variant environments: threads everywhere, the allocator preloaded, OpenBLAS first on the library path', () => {
  const all = () => true;
  assert.deepEqual(variantEnv({ allocator: 'default' }, 2, {}, all), { OMP_NUM_THREADS: '2', OPENBLAS_NUM_THREADS: '2' });
  const j = variantEnv({ allocator: 'jemalloc', blas: 'openblas' }, 2, { LD_LIBRARY_PATH: '/x', FUSION_BENCH_OPENBLAS_DIR: '/ob' }, all);
  assert.ok(!isNotMeasured(j));
  assert.equal(j.LD_PRELOAD, '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2');
  assert.equal(j.LD_LIBRARY_PATH, '/ob:/x');
  const none = () => false;
  const t = variantEnv({ allocator: 'tcmalloc' }, 2, {}, none);
  assert.ok(isNotMeasured(t) && /libtcmalloc-minimal4/.test(t.notMeasured));
  const ob = variantEnv({ allocator: 'default', blas: 'openblas' }, 2, {}, none);
  assert.ok(isNotMeasured(ob) && /OpenBLAS not found/.test(ob.notMeasured));
  assert.equal(variantName({ allocator: 'jemalloc', blas: 'openblas' }), 'openblas-blas+jemalloc-malloc');
  assert.equal(variantName({ allocator: 'default' }), 'default-malloc');
});

test('advantage: reference/ours for times, ours/reference for rates, reasons for missing figures', () => {
  assert.equal(advantage(2, 8, 'time'), 4);
  assert.equal(advantage(30, 10, 'rate'), 3);
  assert.equal(advantage(2, { notMeasured: 'no torch' }, 'time'), 'not measured: no torch');
  assert.equal(advantage(undefined, 3, 'rate'), 'not measured');
  assert.equal(advantage(0, 3, 'rate'), 'not measured: a figure is zero');
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2);
  assert.equal(median([]), undefined);
});

test('--only selects parts in a fixed order and names what it accepts on a typo', () => {
  assert.deepEqual(parseOnly(undefined), ['merge', 'clip', 'train', 'svd', 'regmean']);
  assert.deepEqual(parseOnly('svd,clip'), ['clip', 'svd']);
  assert.throws(() => parseOnly('clip,speed'), /unknown part\(s\) speed; expected a comma-separated subset of merge,clip,train,svd,regmean/);
});

test('commandLine quotes what a shell would split and puts the environment first', () => {
  assert.equal(commandLine(['node', 'a b.js', "it's"], { LD_PRELOAD: '/l.so' }), `LD_PRELOAD=/l.so node 'a b.js' 'it'\\''s'`);
});

const torchPython = ['/usr/bin/python3', 'python3'].find((py) => spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
const fbSrc = process.env.FUSION_BENCH_SRC;

test('reference.py check: the torch tower reproduces transformers\' goldens (and fusion_bench\'s TA its golden)', {
  skip: needsShared().skip || (torchPython === undefined ? 'no Python with torch here' : false),
}, () => {
  const args = [join(repoRoot, 'bench', 'compare', 'reference.py'), 'check', '--fixtures', sharedPath('fixtures', 'clip')];
  if (fbSrc && existsSync(join(fbSrc, 'fusion_bench', 'method'))) args.push('--fb-src', fbSrc);
  const r = spawnSync(torchPython!, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { tower_max_rel_err: Record<string, number>; fb_task_arithmetic_max_abs_err?: number };
  assert.deepEqual(Object.keys(out.tower_max_rel_err).sort(), ['image_embeds_unnorm', 'vision_last_hidden_state', 'vision_pooled']);
  for (const [k, e] of Object.entries(out.tower_max_rel_err)) assert.ok(e < 1e-5, `${k}: ${e}`);
  if (out.fb_task_arithmetic_max_abs_err !== undefined) assert.ok(out.fb_task_arithmetic_max_abs_err < 1e-6);
});

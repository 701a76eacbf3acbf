/**
 * A whole run through the real binary: compose → program → model pool → task arithmetic → saved model,
 * on small generated CLIP vision models, checked against task arithmetic computed here in float64.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath } from '../helpers/paths.js';
import { writeRandomClipVisionModel } from '../../bench/lib/random-model.js';
import { openCheckpoint } from '../../src/tensor/checkpoint.js';

const small = { layers: 2, hidden: 16, mlp: 32, heads: 2, patch: 8, image: 16, projectionDim: 8 };

function setup(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'fb-run-'));
  for (const m of ['base', 'ft-a', 'ft-b']) mkdirSync(join(dir, 'models', m), { recursive: true });
  writeRandomClipVisionModel(join(dir, 'models', 'base'), { ...small, seed: 1 });
  writeRandomClipVisionModel(join(dir, 'models', 'ft-a'), { ...small, seed: 2, base: { seed: 1, noise: 0.05 } });
  writeRandomClipVisionModel(join(dir, 'models', 'ft-b'), { ...small, seed: 3, base: { seed: 1, noise: 0.05 } });
  mkdirSync(join(dir, 'conf', 'modelpool'), { recursive: true });
  writeFileSync(
    join(dir, 'conf', 'modelpool', 'local_pool.yaml'),
    [
      '_target_: fusion_bench.modelpool.CLIPVisionModelPool',
      '_recursive_: false',
      'processor: null',
      'models:',
      `  _pretrained_: ${join(dir, 'models', 'base')}`,
      `  task_a: ${join(dir, 'models', 'ft-a')}`,
      `  task_b: ${join(dir, 'models', 'ft-b')}`,
      'platform: hf',
      '',
    ].join('\n'),
  );
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function run(dir: string, args: string[]) {
  return spawnSync(process.execPath, [binPath, '--config-dir', join(dir, 'conf'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, FUSION_BENCH_PROJECT_ROOT: dir } });
}

test('task arithmetic through the CLI writes the merged model θ0 + λΣ(θi − θ0)', () => {
  const { dir, cleanup } = setup();
  try {
    const out = join(dir, 'merged');
    const r = run(dir, ['method=task_arithmetic', 'method.scaling_factor=0.3', 'modelpool=local_pool', 'taskpool=dummy', `merged_model_save_path=${out}`, 'print_config=false']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(out, 'config.json')) && existsSync(join(out, 'model.safetensors')));
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    assert.deepEqual(cfg.architectures, ['CLIPVisionModel']);
    const [m0, ma, mb, merged] = ['models/base', 'models/ft-a', 'models/ft-b', 'merged'].map((p) => openCheckpoint(join(dir, p)));
    assert.deepEqual([...merged.names()].sort(), [...m0.names()].sort());
    let worst = 0;
    for (const name of m0.names()) {
      const a = m0.loadF32(name), b = ma.loadF32(name), c = mb.loadF32(name), got = merged.loadF32(name);
      let scale = 0;
      for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]));
      for (let i = 0; i < a.length; i++) {
        const want = a[i] + 0.3 * ((b[i] - a[i]) + (c[i] - a[i]));
        worst = Math.max(worst, Math.abs(got[i] - want) / (scale || 1));
      }
    }
    assert.ok(worst <= 1e-6, `max relative difference ${worst}`);
    // the run directory records the config and the overrides; the report holds the parameter count
    const runs = readdirSync(join(dir, 'outputs', 'fabric_model_fusion'));
    assert.equal(runs.length, 1);
    const runDir = join(dir, 'outputs', 'fabric_model_fusion', runs[0]);
    for (const f of ['config.yaml', 'hydra.yaml', 'overrides.yaml', 'cli.log', 'program_report.json']) assert.ok(existsSync(join(runDir, f)), `${f} missing in ${runDir}`);
    assert.match(readFileSync(join(runDir, 'overrides.yaml'), 'utf8'), /method\.scaling_factor=0\.3/);
    // as Hydra's _run_app: a run records hydra.mode=RUN among the hydra overrides
    const hydraYaml = readFileSync(join(runDir, 'hydra.yaml'), 'utf8');
    assert.match(hydraYaml, /\n    hydra:\n    - hydra\.mode=RUN\n/);
    assert.match(hydraYaml, /\n  mode: RUN\n/);
    const report = JSON.parse(readFileSync(join(runDir, 'program_report.json'), 'utf8'));
    const params = [...m0.names()].reduce((s, n) => s + m0.info(n).shape.reduce((x, y) => x * y, 1), 0);
    assert.equal(report.model_info.all_params, params);
    assert.match(r.stdout, /Profiler Report/);
    // the run ends by saying where its outputs went (stderr and the log)
    const where = `Run directory: ${runDir}\nReport: ${join(runDir, 'program_report.json')}\nMerged model: ${out}\n`;
    assert.ok(r.stderr.endsWith(where), r.stderr.slice(-400));
    assert.ok(readFileSync(join(runDir, 'cli.log'), 'utf8').endsWith(where));
  } finally {
    cleanup();
  }
});

test('an unknown method target is one clear error, non-zero exit, no stack, no merged model', () => {
  const { dir, cleanup } = setup();
  try {
    const out = join(dir, 'merged');
    const r = run(dir, ['method=task_arithmetic', 'method._target_=fusion_bench.method.TaskArithmetic', 'modelpool=local_pool', 'taskpool=dummy', `merged_model_save_path=${out}`, 'print_config=false']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Error locating target 'fusion_bench\.method\.TaskArithmetic'/);
    assert.match(r.stderr, /Did you mean: 'fusion_bench\.method\.TaskArithmeticAlgorithm'/);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
    assert.ok(!existsSync(out));
  } finally {
    cleanup();
  }
});

test('a config that sets hydra.mode: MULTIRUN sweeps without -m', () => {
  const { dir, cleanup } = setup();
  try {
    const sweepDir = join(dir, 'sweep');
    const r = run(dir, ['hydra.mode=MULTIRUN', 'method=task_arithmetic', 'method.scaling_factor=0.1,0.2', 'modelpool=local_pool', 'taskpool=dummy', `hydra.sweep.dir=${sweepDir}`, 'print_config=false']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /\[HYDRA\] Launching 2 jobs locally/);
    assert.ok(existsSync(join(sweepDir, 'multirun.yaml')));
  } finally {
    cleanup();
  }
});

test('outputs that would overwrite inputs are refused before anything is written; the inputs stay as they were', () => {
  const { dir, cleanup } = setup();
  try {
    const ftA = join(dir, 'models', 'ft-a');
    const before = readFileSync(join(ftA, 'model.safetensors'));
    const cfgBefore = readFileSync(join(ftA, 'config.json'));
    symlinkSync(ftA, join(dir, 'link-to-a'));
    const cases: [string, RegExp][] = [
      [`merged_model_save_path=${ftA}`, /merged_model_save_path: .* is the input model 'task_a'/],
      [`merged_model_save_path=${join(ftA, 'sub')}`, /lies inside the input model 'task_a'/],
      [`merged_model_save_path=${join(dir, 'models')}`, /contains the input model/],
      [`merged_model_save_path=${join(dir, 'link-to-a')}`, /is the input model 'task_a'/],
      [`report_save_path=${join(ftA, 'config.json')}`, /report_save_path: .* lies inside the input model 'task_a'/],
    ];
    for (const [override, pattern] of cases) {
      const r = run(dir, ['method=task_arithmetic', 'method.scaling_factor=0.3', 'modelpool=local_pool', 'taskpool=dummy', override, 'print_config=false']);
      assert.notEqual(r.status, 0, override);
      assert.match(r.stderr, pattern, override);
      assert.doesNotMatch(r.stderr, /^\s+at /m);
    }
    assert.ok(before.equals(readFileSync(join(ftA, 'model.safetensors'))), 'the input weights are unchanged');
    assert.ok(cfgBefore.equals(readFileSync(join(ftA, 'config.json'))), "the input's config.json is unchanged");
  } finally {
    cleanup();
  }
});

test('a report path no folder can be made for (procfs) fails at once with one line; an interpolation error names its key', () => {
  const { dir, cleanup } = setup();
  try {
    const r = spawnSync(process.execPath, [binPath, '--config-dir', join(dir, 'conf'), 'method=task_arithmetic', 'method.scaling_factor=0.3', 'modelpool=local_pool', 'taskpool=dummy', 'report_save_path=/proc/nope/x.json', 'print_config=false'], { cwd: dir, encoding: 'utf8', env: { ...process.env, FUSION_BENCH_PROJECT_ROOT: dir }, timeout: 60_000 });
    assert.equal(r.signal, null, 'it did not hang');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /report_save_path.*\/proc/);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
    const bad = run(dir, ['method=task_arithmetic', 'method.scaling_factor=0.3', 'modelpool=local_pool', 'taskpool=dummy', '+foo=${oc.env:FUSION_BENCH_SURELY_UNSET_VAR}', 'print_config=false']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /FUSION_BENCH_SURELY_UNSET_VAR/);
    assert.match(bad.stderr, /full_key: foo/);
  } finally {
    cleanup();
  }
});

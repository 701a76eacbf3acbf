/**
 * TALL masks against a float64 re-computation of the paper's rule (grid values: every float32 step is
 * exact, so the comparison is exact), and the per-task result through the program: each task's model
 * evaluated under `models` (fusion_bench's shape) and saved in its own folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { isUserError } from '../../src/errors.js';
import { PerTaskModels, TallMaskTaskArithmeticAlgorithm } from '../../src/method/index.js';
import { FabricModelFusionProgram } from '../../src/program/fusion-program.js';
import { createBuiltinRegistry } from '../../src/registry/builtins.js';
import { runContext } from '../../src/run-context.js';
import { openSafetensors } from '../../src/tensor/safetensors-read.js';
import { writeSafetensorsSync } from '../../src/tensor/safetensors-write.js';
import { model, randomArrays, toStateDict, type Arrays } from './helpers.js';

function reference(theta0: Arrays, fts: Arrays[], lambda: number): Arrays[] {
  return fts.map((ft) => {
    const out: Arrays = {};
    for (const name of Object.keys(theta0)) {
      const b = theta0[name]!;
      out[name] = b.map((x, i) => {
        const taus = fts.map((f) => f[name]![i]! - b[i]!);
        const mtl = taus.reduce((s, v) => s + v, 0);
        const tau = ft[name]![i]! - x;
        return Math.abs(tau) > lambda * Math.abs(mtl - tau) ? x + mtl : x;
      });
    }
    return out;
  });
}

test('TALL masks: each task model is θ₀ + maskₜ ⊙ Σ τ, maskₜ = |τₜ| > λ·|Σ τ − τₜ|', async () => {
  const theta0 = randomArrays(1, { grid: true });
  const fts = [2, 3, 4].map((s) => randomArrays(s, { grid: true, around: theta0, scale: 0.5 }));
  for (const lambda of [0.5, 1]) {
    const r = await new TallMaskTaskArithmeticAlgorithm({ tall_mask_lambda: lambda }).run({ _pretrained_: model(theta0), a: model(fts[0]!), b: model(fts[1]!), c: model(fts[2]!) });
    assert.ok(r instanceof PerTaskModels);
    assert.deepEqual(r.tasks, ['a', 'b', 'c']);
    assert.equal(r.evaluation, 'every-task');
    const want = reference(theta0, fts, lambda);
    let masked = 0;
    ['a', 'b', 'c'].forEach((task, t) => {
      const sd = r.model(task).stateDict;
      for (const name of Object.keys(theta0)) {
        assert.deepEqual(Array.from(sd.loadF32(name)), Array.from(want[t]![name]!), `${task} ${name} λ=${lambda}`);
        masked += want[t]![name]!.filter((v, i) => v === theta0[name]![i]).length;
      }
    });
    assert.ok(masked > 0, 'some entries are masked out, so the mask is exercised');
    r.close();
  }
  assert.throws(() => new TallMaskTaskArithmeticAlgorithm({}), (e: unknown) => isUserError(e) && /'tall_mask_lambda' is required/.test((e as Error).message));
});

/** Runs the program over three small checkpoints with a DummyTaskPool, saving under `save`. */
async function runProgram(dir: string, method: Record<string, unknown>, save: string): Promise<{ report: Record<string, unknown>; result: PerTaskModels }> {
  const theta0 = randomArrays(5);
  const models: Record<string, string> = {};
  [['_pretrained_', theta0], ['a', randomArrays(6, { around: theta0, scale: 0.1 })], ['b', randomArrays(7, { around: theta0, scale: 0.1 })]].forEach(([name, arrays]) => {
    const d = join(dir, name as string);
    mkdirSync(d, { recursive: true });
    writeSafetensorsSync(join(d, 'model.safetensors'), toStateDict(arrays as Arrays));
    models[name as string] = d;
  });
  const sink = new Writable({ write(_c, _e, cb) { cb(); } });
  const p = new FabricModelFusionProgram({
    method,
    modelpool: { _target_: 'fusion_bench.modelpool.BaseModelPool', models },
    taskpool: { _target_: 'fusion_bench.taskpool.DummyTaskPool' },
    merged_model_save_path: save,
    print_config: false,
  }, createBuiltinRegistry(), runContext({ status: null }), sink);
  const r = await p.run();
  return { report: r.report as Record<string, unknown>, result: r.merged_model as PerTaskModels };
}

/** Each named model was saved in <save>/<name>/ with exactly the tensors it computes. */
function assertSaved(save: string, result: PerTaskModels): void {
  for (const task of result.tasks) {
    assert.ok(existsSync(join(save, task)), `${task}'s folder`);
    const saved = openSafetensors(join(save, task, 'model.safetensors'));
    const sd = result.model(task).stateDict;
    for (const n of sd.names()) assert.deepEqual(saved.loadF32(n), sd.loadF32(n), `${task} ${n}`);
    saved.close();
  }
}

test('per-task models through the program: reported under models, saved as <path>/<task>/', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tall-program-'));
  try {
    const save = join(dir, 'out');
    const { report: r, result } = await runProgram(dir, { _target_: 'fusion_bench.method.tall_mask.TallMaskTaskArithmeticAlgorithm', tall_mask_lambda: 0.6, debug: 0, verbose: 0 }, save);
    const report = r as { models: Record<string, { model_info: unknown }>; metadata: unknown };
    assert.deepEqual(Object.keys(report.models), ['a', 'b']);
    assert.equal(report.metadata, null);
    assert.ok(report.models.a!.model_info);
    assertSaved(save, result);
    result.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('TSV-M single-task models through the program: one report entry and one folder per name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsv-program-'));
  try {
    const save = join(dir, 'out');
    const { report, result } = await runProgram(dir, { _target_: 'fusion_bench.method.TaskSingularVectorMerging', alpha: 1, exclude_keys: null, return_single_task_models: true }, save);
    assert.deepEqual(Object.keys(report).filter((k) => k !== 'run_info'), ['a', 'b', 'merged']);
    assert.ok((report.merged as { model_info: unknown }).model_info);
    assertSaved(save, result);
    result.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

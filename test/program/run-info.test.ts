/**
 * The program's report records how to reproduce the run (`run_info`: version, seed, resolved config,
 * model and data set revisions, times) beside fusion_bench's keys, and `seed` reaches seeded methods.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Float } from '../../src/config/values.js';
import { UserError } from '../../src/errors.js';
import { FabricModelFusionProgram, snapshotRevision } from '../../src/program/fusion-program.js';
import { runContext } from '../../src/run-context.js';
import { createBuiltinRegistry } from '../../src/registry/builtins.js';
import { metricsOfReport } from '../../src/report/sweep-summary.js';
import { writeSafetensorsSync } from '../../src/tensor/safetensors-write.js';
import { VERSION } from '../../src/version.js';
import { randomArrays, toStateDict } from '../method/helpers.js';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';

function sink(): NodeJS.WritableStream & { text: string } {
  const s = { text: '', write(c: string | Uint8Array) { s.text += String(c); return true; } };
  return s as unknown as NodeJS.WritableStream & { text: string };
}

/** A pretrained model inside a hub-cache-like snapshot folder, two fine-tuned ones in plain folders. */
function writeModels(dir: string): Record<string, string> {
  const theta0 = randomArrays(90);
  const paths: Record<string, string> = {
    _pretrained_: join(dir, 'hub', 'models--org--base', 'snapshots', COMMIT),
    a: join(dir, 'a'),
    b: join(dir, 'b'),
  };
  [theta0, randomArrays(91, { around: theta0, scale: 0.1 }), randomArrays(92, { around: theta0, scale: 0.1 })].forEach((arrays, k) => {
    const d = Object.values(paths)[k]!;
    mkdirSync(d, { recursive: true });
    writeSafetensorsSync(join(d, 'model.safetensors'), toStateDict(arrays));
  });
  return paths;
}

test('snapshotRevision reads the commit of a hub cache snapshot path', () => {
  assert.equal(snapshotRevision(`/c/hub/models--a--b/snapshots/${COMMIT}`), COMMIT);
  assert.equal(snapshotRevision(`/c/hub/datasets--a--b/snapshots/${COMMIT}/data/test-0.parquet`), COMMIT);
  assert.equal(snapshotRevision(`C:\\hub\\models--a--b\\snapshots\\${COMMIT}\\x`), COMMIT);
  assert.equal(snapshotRevision('/models/my-local-model'), null);
  assert.equal(snapshotRevision(`/x/snapshots/${COMMIT.slice(1)}`), null);
});

test('the report keeps fusion_bench keys and adds run_info; the sweep summary ignores it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'run-info-'));
  try {
    const models = writeModels(dir);
    const reportPath = join(dir, 'out', 'program_report.json');
    const out = sink();
    const options = {
      _target_: 'fusion_bench.programs.FabricModelFusionProgram',
      method: { _target_: 'fusion_bench.method.TaskArithmeticAlgorithm', scaling_factor: new Float(0.3) },
      modelpool: { _target_: 'fusion_bench.modelpool.BaseModelPool', models },
      taskpool: { _target_: 'fusion_bench.taskpool.DummyTaskPool' },
      report_save_path: reportPath,
      print_config: false,
      print_function_call: false,
      seed: 7,
    };
    const before = Date.now();
    const result = await new FabricModelFusionProgram(options, createBuiltinRegistry(), runContext({ status: null }), out).run();
    const saved = JSON.parse(readFileSync(reportPath, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(saved), ['model_info', 'run_info']);
    assert.deepEqual(saved, JSON.parse(JSON.stringify(result.report)));
    // stdout keeps fusion_bench's report as it is.
    assert.deepEqual(Object.keys(JSON.parse(out.text)), ['model_info']);
    const info = saved.run_info as Record<string, unknown>;
    assert.equal(info.fusion_bench_version, VERSION);
    assert.equal(info.seed, 7);
    assert.deepEqual(info.models, { _pretrained_: { source: models._pretrained_, revision: COMMIT }, a: { source: models.a, revision: null }, b: { source: models.b, revision: null } });
    assert.deepEqual(info.datasets, {});
    const config = info.config as { method: { scaling_factor: unknown }; seed: number; modelpool: unknown };
    assert.equal(config.method.scaling_factor, 0.3, 'floats are recorded as numbers');
    assert.equal(config.seed, 7);
    assert.deepEqual(config.modelpool, options.modelpool);
    const started = Date.parse(info.started_at as string);
    const finished = Date.parse(info.finished_at as string);
    assert.ok(started >= before - 1000 && started <= finished && finished <= Date.now() + 1000, `${info.started_at} .. ${info.finished_at}`);
    // The sweep summary reads the tasks and the average only.
    assert.deepEqual(metricsOfReport({ mnist: { accuracy: 0.5, loss: 1 }, model_info: {}, run_info: info }), { tasks: { mnist: { accuracy: 0.5, loss: 1 } }, average: { accuracy: 0.5, loss: 1 } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('seed: an integer or null, the default seed of DARE methods', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'run-seed-'));
  try {
    const models = writeModels(dir);
    const dare = (extra: Record<string, unknown> = {}) => ({ _target_: 'fusion_bench.method.DareTaskArithmetic', scaling_factor: new Float(0.3), sparsity_ratio: new Float(0.5), only_on_linear_weights: false, rescale: true, ...extra });
    const run = async (seed: unknown, method: Record<string, unknown>) => {
        const p = new FabricModelFusionProgram({ method, modelpool: { _target_: 'fusion_bench.modelpool.BaseModelPool', models }, taskpool: null, print_config: false, seed: seed as number }, createBuiltinRegistry(), runContext({ status: null }), sink());
      const r = await p.run();
      const sd = (r.merged_model as { stateDict: { names(): readonly string[]; loadF32(n: string): Float32Array } }).stateDict;
      assert.equal(p.ctx.seed, seed ?? null);
      return { seed: (p.method as unknown as { dare: { seed: number } }).dare.seed, weights: sd.loadF32(sd.names()[0]!) };
    };
    const seeded = await run(7, dare());
    assert.equal(seeded.seed, 7);
    assert.deepEqual(await run(null, dare({ seed: 7 })), seeded, "the program's seed acts as the method's own");
    const unseeded = await run(null, dare());
    assert.equal(unseeded.seed, 0);
    assert.notDeepEqual(unseeded.weights, seeded.weights);
    assert.equal((await run(7, dare({ seed: 3 }))).seed, 3, "the method's own seed wins");
    assert.throws(() => new FabricModelFusionProgram({ method: dare(), modelpool: { models }, seed: 'abc' as never }, createBuiltinRegistry(), runContext({ status: null }), sink()), (e: Error) => e instanceof UserError && /seed: expected an integer/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * fusion_bench's TALL benchmarks (8 → 20 CLIP tasks): our model and task pool configs compose to the
 * models and datasets fusion_bench's do, and every task has fusion_bench's class names and templates.
 * Expected values come from test/fixtures/clip-classification/fusion_bench_tall.json, written from
 * fusion_bench's own files by scripts/make-clip-task-fixture.py; where ../shared is present the pools
 * are also composed from fusion_bench's config tree and must be the same data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeConfig } from '../../src/config/compose.js';
import { isDict, type ConfigDict } from '../../src/config/values.js';
import { getClassnamesAndTemplates } from '../../src/tasks/clip-classification/index.js';
import { parseTaskPoolConfig } from '../../src/taskpool/clip-vision/options.js';
import { needsShared, repoRoot, sharedDir, sharedPath } from '../helpers/paths.js';
import { runMain } from '../helpers/cli-main.js';

interface Fixture {
  benchmarks: Record<string, string[]>;
  tasks: Record<string, { train: ConfigDict; test: ConfigDict; num_classnames: number; num_templates: number; sha256: string }>;
}
const fx = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'clip-classification', 'fusion_bench_tall.json'), 'utf8')) as Fixture;

const ARCHS = ['base-patch32', 'base-patch16', 'large-patch14'] as const;
/** TA8 is TALL14's first eight tasks (the task arithmetic paper's). */
const tasksOf = (bench: string): string[] => (bench === 'TA8' ? fx.benchmarks.TALL14.slice(0, 8) : fx.benchmarks[bench]);
/**
 * Every TALL model pool we ship: TALL14/20 (and _model_only) for each architecture, TALL10–18 for B/32
 * as fusion_bench has them; and the TA8 pools, whose B/16 forms read the same config/model/clip-vit group.
 */
const POOLS: { name: string; arch: string; bench: string; withData: boolean }[] = [
  ...ARCHS.flatMap((arch) =>
    ['TA8', 'TALL14', 'TALL20'].flatMap((bench) => [true, false].map((withData) => ({ name: `clip-vit-${arch}_${bench}${withData ? '' : '_model_only'}`, arch, bench, withData }))),
  ),
  ...['TALL10', 'TALL12', 'TALL16', 'TALL18'].map((bench) => ({ name: `clip-vit-base-patch32_${bench}`, arch: 'base-patch32', bench, withData: true })),
];

function compose(configPath: string, overrides: string[]): ConfigDict {
  const { config } = composeConfig({ configPath, configName: 'fabric_model_fusion', overrides, runMode: 'RUN', cwd: '/cwd' });
  delete config.hydra;
  return config;
}

const ours = (overrides: string[]) => compose(join(repoRoot, 'config'), overrides);

function dict(v: unknown, what: string): ConfigDict {
  assert.ok(isDict(v), `${what} should be a mapping, got ${JSON.stringify(v)}`);
  return v;
}

/** The processor's model id, whether given as a string or as a CLIPProcessor.from_pretrained call. */
function processorName(p: unknown): unknown {
  return isDict(p) ? p.pretrained_model_name_or_path : p;
}

test('the fixture lists fusion_bench\'s TALL14 and TALL20 (TALL20 extends TALL14, which extends the eight tasks)', () => {
  assert.equal(fx.benchmarks.TALL14.length, 14);
  assert.equal(fx.benchmarks.TALL20.length, 20);
  assert.deepEqual(fx.benchmarks.TALL20.slice(0, 14), fx.benchmarks.TALL14);
  for (const t of fx.benchmarks.TALL20) assert.ok(fx.tasks[t] !== undefined, t);
});

for (const pool of POOLS) {
  test(`modelpool=CLIPVisionModelPool/${pool.name} composes fusion_bench's models${pool.withData ? ' and datasets' : ''}`, () => {
    const mp = dict(ours([`modelpool=CLIPVisionModelPool/${pool.name}`]).modelpool, 'modelpool');
    const tasks = tasksOf(pool.bench);
    assert.equal(mp._target_, 'fusion_bench.modelpool.CLIPVisionModelPool');
    assert.equal(processorName(mp.processor), `openai/clip-vit-${pool.arch}`);
    const models = dict(mp.models, 'modelpool.models');
    assert.deepEqual(Object.keys(models), ['_pretrained_', ...tasks], 'model names in fusion_bench\'s order');
    assert.equal(models._pretrained_, `openai/clip-vit-${pool.arch}`);
    for (const t of tasks) assert.equal(models[t], `tanganke/clip-vit-${pool.arch}_${t}`);
    for (const split of ['train', 'test'] as const) {
      const ds = mp[`${split}_datasets`];
      if (!pool.withData) {
        assert.ok(ds === undefined || ds === null, `${split}_datasets of a _model_only pool: ${JSON.stringify(ds)}`);
        continue;
      }
      const d = dict(ds, `${split}_datasets`);
      assert.deepEqual(Object.keys(d), tasks);
      for (const t of tasks) assert.deepEqual(d[t], fx.tasks[t][split], `${split}_datasets.${t}`);
    }
  });
}

for (const bench of ['TALL14', 'TALL20']) {
  test(`taskpool=CLIPVisionModelTaskPool/clip-vit-classification_${bench} evaluates fusion_bench's test sets`, () => {
    const tp = dict(ours([`taskpool=CLIPVisionModelTaskPool/clip-vit-classification_${bench}`]).taskpool, 'taskpool');
    assert.equal(tp._target_, 'fusion_bench.taskpool.CLIPVisionModelTaskPool');
    const d = dict(tp.test_datasets, 'taskpool.test_datasets');
    assert.deepEqual(Object.keys(d), fx.benchmarks[bench]);
    for (const t of fx.benchmarks[bench]) assert.deepEqual(d[t], fx.tasks[t].test, t);
  });
}

test('the task pool reads every TALL20 test set, fer2013 through fusion_bench\'s load_fer2013', () => {
  const tp = dict(ours(['taskpool=CLIPVisionModelTaskPool/clip-vit-classification_TALL20']).taskpool, 'taskpool');
  const opts = parseTaskPoolConfig({ test_datasets: dict(tp.test_datasets, 'test_datasets'), base_model: 'openai/clip-vit-base-patch32' });
  assert.deepEqual(opts.tasks.map((t) => t.name), fx.benchmarks.TALL20);
  for (const t of opts.tasks) {
    const want = fx.tasks[t.name].test;
    assert.equal(t.dataset.split, want.split, t.name);
    if (t.name === 'fer2013') assert.deepEqual(t.dataset, { path: 'clip-benchmark/wds_fer2013', split: 'test', imageColumn: 'jpg', labelColumn: 'cls' });
    else assert.equal(t.dataset.path, want.path ?? (want._args_ as string[])[0], t.name);
  }
});

test('every task of the TALL20 task pool has fusion_bench\'s class names and templates', async () => {
  const tp = dict(ours(['taskpool=CLIPVisionModelTaskPool/clip-vit-classification_TALL20']).taskpool, 'taskpool');
  const names = Object.keys(dict(tp.test_datasets, 'taskpool.test_datasets'));
  assert.equal(names.length, 20);
  for (const t of names) {
    const want = fx.tasks[t];
    const got = await getClassnamesAndTemplates(t);
    assert.equal(got.classnames.length, want.num_classnames, `${t}: number of class names`);
    assert.equal(got.templates.length, want.num_templates, `${t}: number of templates`);
    // The same bytes the fixture script hashes (Python's json.dumps with ensure_ascii=False, no spaces).
    const blob = JSON.stringify({ classnames: got.classnames, templates: got.templates });
    assert.equal(createHash('sha256').update(blob, 'utf8').digest('hex'), want.sha256, `${t}: class names and templates differ from fusion_bench's`);
  }
});

test('the command line composes a TALL20 run (--cfg job)', async () => {
  const r = await runMain(['--cfg', 'job', 'modelpool=CLIPVisionModelPool/clip-vit-large-patch14_TALL20', 'taskpool=CLIPVisionModelTaskPool/clip-vit-classification_TALL20']);
  assert.equal(r.status, 0, r.stderr);
  for (const t of fx.benchmarks.TALL20) assert.ok(r.stdout.includes(`tanganke/clip-vit-large-patch14_${t}\n`), `${t} in\n${r.stdout}`);
});

const fbConfig = sharedDir === null ? null : sharedPath('conformance', 'hydra', 'fusion_bench');
test('each CLIPVisionModelPool option fusion_bench also has, and the TALL task pools, compose to the same data from fusion_bench\'s config tree', needsShared(), () => {
  // Not only the TALL pools: the B/16 TA8 pools need the same config/model/clip-vit group.
  const pools = readdirSync(join(repoRoot, 'config', 'modelpool', 'CLIPVisionModelPool'))
    .filter((f) => f.endsWith('.yaml') && f !== '_template.yaml' && existsSync(join(fbConfig!, 'modelpool', 'CLIPVisionModelPool', f)))
    .map((f) => `modelpool=CLIPVisionModelPool/${f.slice(0, -'.yaml'.length)}`);
  for (const p of POOLS) assert.ok(pools.includes(`modelpool=CLIPVisionModelPool/${p.name}`), p.name);
  const overrides = [...pools, ...['TALL14', 'TALL20'].map((b) => `taskpool=CLIPVisionModelTaskPool/clip-vit-classification_${b}`)];
  for (const o of overrides) {
    const group = o.slice(0, o.indexOf('='));
    assert.deepEqual(ours([o])[group], compose(fbConfig!, [o])[group], o);
  }
});
